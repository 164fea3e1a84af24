"""Ports of the agent-session store: its repository and the keyring that seals data at rest.

The repository works inside the unit of work's transaction and never commits. Every session
lookup is scoped by account, so a session of another account reads as missing. Children
(invocations, steps, tags) are addressed through their session (its account and internal key)
and are removed with it. Listings are newest first with keyset cursors and never use offsets.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from mindkeeper.core.agents import (
    Invocation,
    Listing,
    ListRequest,
    NewSession,
    SessionStatus,
    SessionSummary,
    StepSummary,
    StepTime,
    StoredSession,
    StoredStep,
    StringMap,
)


class SealBroken(Exception):
    """A sealed value failed authentication (tampered, moved or corrupt); not a caller error."""


class Keyring(Protocol):
    """Symmetric keys addressed by reference; seals values with authenticated encryption.

    `context` is bound to the ciphertext as associated data: opening with another context
    fails, so a sealed value cannot be moved to another session or step.
    """

    def knows(self, key_ref: str) -> bool:
        """True when the keyring holds the key."""
        ...

    def seal(self, key_ref: str, plaintext: bytes, context: bytes) -> bytes:
        """Encrypt and authenticate; Forbidden when the key is unknown."""
        ...

    def open(self, key_ref: str, sealed: bytes, context: bytes) -> bytes:
        """Decrypt; Forbidden when the key is gone, SealBroken when authentication fails."""
        ...


class AgentRepository(Protocol):
    """Agent sessions, their invocations, steps and tags."""

    async def add_session(self, new: NewSession) -> StoredSession:
        """Insert an ACTIVE session."""
        ...

    async def get_session(self, account_id: str, session_id: str) -> StoredSession | None:
        """Return the account's session with that id."""
        ...

    async def list_sessions(self, account_id: str, request: ListRequest) -> Listing[SessionSummary]:
        """Return a page of the account's sessions, newest `created_at` first."""
        ...

    async def update_session(
        self,
        session: StoredSession,
        *,
        now: datetime,
        metadata_blob: bytes | None = None,
        status: SessionStatus | None = None,
        ended_at: datetime | None = None,
    ) -> StoredSession:
        """Set the given fields and `last_updated_at = now`; return the new row."""
        ...

    async def touch_session(self, session: StoredSession, now: datetime) -> None:
        """Set `last_updated_at = now`."""
        ...

    async def touch_active(
        self, account_id: str, session_id: str, now: datetime, idle_before: datetime
    ) -> StoredSession | None:
        """Set `last_updated_at = now` on the account's session if it is ACTIVE and was updated
        after `idle_before`; return it, or None (missing, ended or idle: nothing changed)."""
        ...

    async def mark_expired(self, idle_before: datetime, keys: Sequence[int] | None = None) -> int:
        """Set EXPIRED on sessions (all or `keys`) idle since `idle_before`; return the count."""
        ...

    async def delete_session(self, session: StoredSession) -> None:
        """Remove the session with its invocations, steps and tags."""
        ...

    async def purge_sessions(self, idle_before: datetime, limit: int) -> int:
        """Remove up to `limit` sessions idle since `idle_before`, children too; count them."""
        ...

    async def add_invocation(
        self,
        session: StoredSession,
        invocation_id: str,
        description: str | None,
        now: datetime,
    ) -> Invocation:
        """Insert an invocation; AlreadyExists when the session already has that id."""
        ...

    async def get_invocation(self, session: StoredSession, invocation_id: str) -> Invocation | None:
        """Return the session's invocation with that id."""
        ...

    async def list_invocations(
        self, session: StoredSession, request: ListRequest
    ) -> Listing[Invocation]:
        """Return a page of the session's invocations, newest `created_at` first."""
        ...

    async def add_step(
        self,
        session: StoredSession,
        invocation_id: str,
        step_id: str,
        time: StepTime,
        payload_blob: bytes,
        now: datetime,
    ) -> bool:
        """Insert a step into the session's invocation; False (nothing written) when the session
        has no such invocation or already has that step id."""
        ...

    async def get_step(self, session: StoredSession, step_id: str) -> StoredStep | None:
        """Return the session's step with that id."""
        ...

    async def list_steps(
        self, session: StoredSession, invocation: Invocation | None, request: ListRequest
    ) -> Listing[StepSummary]:
        """Return a page of the session's (or one invocation's) steps, newest step time first."""
        ...

    async def get_tags(self, session: StoredSession) -> StringMap:
        """Return the session's tags."""
        ...

    async def put_tags(self, session: StoredSession, tags: StringMap) -> None:
        """Add or overwrite tags."""
        ...

    async def remove_tags(self, session: StoredSession, keys: Sequence[str]) -> None:
        """Remove the tags with those keys (absent keys are ignored)."""
        ...
