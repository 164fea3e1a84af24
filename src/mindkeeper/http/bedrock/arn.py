"""Session ARNs and identifiers: `arn:{partition}:bedrock:{region}:{account}:session/{uuid}`.

A session is addressed by its bare UUID or its ARN. An ARN naming another partition, region or
account than this server's reads as a missing session (ResourceNotFoundException).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mindkeeper.errors import NotFound

UUID = r"[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"
UUID_RE = re.compile(UUID)
UUID_PATTERN = f"^{UUID}$"

SESSION_ARN = rf"arn:(aws(?:-[^:]+)?):bedrock:([a-z0-9-]+):([0-9]{{12}}):session/({UUID})"
SESSION_ARN_RE = re.compile(SESSION_ARN)
SESSION_IDENTIFIER_PATTERN = (
    rf"^(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]+:[0-9]{{12}}:session/{UUID})|({UUID})$"
)

RESOURCE_ARN_RE = re.compile(
    rf"arn:(aws(?:-[^:]+)?):bedrock:([a-zA-Z0-9-]+):([0-9]{{12}}):session/({UUID})"
)
RESOURCE_ARN_PATTERN = rf"(^arn:aws(-[^:]+)?:bedrock:[a-zA-Z0-9-]+:[0-9]{{12}}:(session)/{UUID}$)"


@dataclass(frozen=True, slots=True)
class SessionRef:
    """A parsed session identifier: the UUID, plus the ARN's parts when an ARN was given."""

    session_id: str
    partition: str | None = None
    region: str | None = None
    account_id: str | None = None


@dataclass(frozen=True, slots=True)
class Home:
    """Where this server's sessions live: partition, region and the caller's account."""

    partition: str
    region: str
    account_id: str

    def session_arn(self, session_id: str, account_id: str | None = None) -> str:
        """Return the ARN of a session (of the caller's account unless given)."""
        account = account_id or self.account_id
        return f"arn:{self.partition}:bedrock:{self.region}:{account}:session/{session_id}"

    def resolve(self, ref: SessionRef) -> str:
        """Return the session id; NotFound when an ARN points outside this home."""
        if ref.partition is not None and (
            ref.partition != self.partition
            or ref.region != self.region
            or ref.account_id != self.account_id
        ):
            raise NotFound(f"Session {ref.session_id} not found")
        return ref.session_id


def parse_session_identifier(value: str) -> SessionRef | None:
    """Parse a bare UUID or a session ARN; None when it is neither."""
    if UUID_RE.fullmatch(value):
        return SessionRef(value)
    match = SESSION_ARN_RE.fullmatch(value)
    if match is None:
        return None
    return SessionRef(match.group(4), match.group(1), match.group(2), match.group(3))


def parse_resource_arn(value: str) -> SessionRef | None:
    """Parse a taggable resource ARN (sessions only); None when it is not one."""
    match = RESOURCE_ARN_RE.fullmatch(value)
    if match is None:
        return None
    return SessionRef(match.group(4), match.group(1), match.group(2), match.group(3))
