"""Domain errors. Each wire surface maps these to its own shape; no HTTP status lives here.

MindkeeperError
 ├── NotFound          the thing addressed does not exist (or is not visible to the caller)
 ├── AlreadyExists     a unique name or id is taken
 ├── Invalid           the request is well-formed but its content is not acceptable
 ├── Conflict          the resource is in a state that refuses the operation
 ├── QuotaExceeded     a configured count or size limit would be passed
 ├── Unauthorized      no or bad credentials
 ├── Forbidden         credentials are fine but do not reach this resource
 ├── Unavailable       a dependency (model, embedder, database) cannot serve now
 └── StartupError      the process cannot start as configured: a setting, a secret file, the
                       database's file or host, the port (one line for the user, exit status 1)
"""

from __future__ import annotations


class MindkeeperError(Exception):
    """Base of every error the domain raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(MindkeeperError):
    """The addressed resource does not exist for this caller."""


class AlreadyExists(MindkeeperError):
    """A unique key is already taken."""


class Invalid(MindkeeperError):
    """The request content is not acceptable."""


class Conflict(MindkeeperError):
    """The resource's state refuses the operation."""


class QuotaExceeded(MindkeeperError):
    """A configured limit would be exceeded."""


class Unauthorized(MindkeeperError):
    """Credentials are missing or wrong."""


class Forbidden(MindkeeperError):
    """Credentials do not reach the resource."""


class Unavailable(MindkeeperError):
    """A dependency cannot serve the request now."""


class StartupError(MindkeeperError):
    """The process cannot start as configured; the message names what and why, in one line."""
