"""Helpers of the v3 security tests: tokens with any claims, a small world of workspaces,
peers, sessions and members made over HTTP, and the names of v3's 401 details."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from tests.security.conftest import JWT_SECRET, uid

NO_TOKEN = "No access token provided"
INVALID = "Invalid JWT"
EXPIRED = "JWT has expired"
REVOKED = "JWT has been revoked"
ADMIN_ONLY = "Resource requires admin privileges"
NOT_PERMITTED = "JWT not permissioned for this resource"
UNAUTHORIZED = "Unauthorized access to resource"
MISSING_WORKSPACE = "Invalid JWT scope: peer/session token missing workspace"

#: Peers of every world workspace and the sessions they are active members of.
PEERS = ("alice", "bob", "carol")
#: s1: alice and bob; s2: carol; s3: bob (alice joined and left).
MEMBERS = {"s1": {"alice", "bob"}, "s2": {"carol"}, "s3": {"bob"}}


def sign(claims: dict[str, Any], secret: str = JWT_SECRET, algorithm: str = "HS256") -> str:
    """A token with exactly these claims."""
    return jwt.encode(claims, secret, algorithm=algorithm)


def ok(response: httpx.Response, *statuses: int) -> Any:
    """Assert a success status and return the JSON body (None when empty)."""
    assert response.status_code in (statuses or (200, 201)), (
        response.request.method,
        str(response.request.url),
        response.status_code,
        response.text,
    )
    return response.json() if response.content else None


def refused(response: httpx.Response, detail: str) -> None:
    """Assert a 401 with exactly this detail."""
    assert (response.status_code, response.json()) == (401, {"detail": detail}), (
        response.request.method,
        str(response.request.url),
        response.status_code,
        response.text,
    )


@dataclass
class World:
    """Workspaces with the peers, sessions and members of `PEERS` and `MEMBERS`; one message
    per session (by an active member)."""

    workspaces: list[str]
    messages: dict[tuple[str, str], str] = field(default_factory=dict)
    peers: dict[str, set[str]] = field(default_factory=dict)
    sessions: dict[str, set[str]] = field(default_factory=dict)

    def active(self, workspace: str, session: str) -> set[str]:
        """Active members of a session of the world (none for sessions made later)."""
        return MEMBERS.get(session, set()) if session in self.sessions[workspace] else set()


def build_world(admin: httpx.Client, count: int = 2, scopes: bool = False) -> World:
    """Make `count` workspaces with unique names, as `World` describes (with a scope `sc`
    holding s1 when `scopes`)."""
    world = World([uid("ws") for _ in range(count)])
    for ws in world.workspaces:
        base = f"/v3/workspaces/{ws}"
        ok(admin.post("/v3/workspaces", json={"id": ws}))
        for session in ("s1", "s2", "s3"):
            members = sorted(MEMBERS[session] | ({"alice"} if session == "s3" else set()))
            ok(
                admin.post(
                    f"{base}/sessions", json={"id": session, "peers": {m: {} for m in members}}
                )
            )
            sender = sorted(MEMBERS[session])[0]
            sent = ok(
                admin.post(
                    f"{base}/sessions/{session}/messages",
                    json={"messages": [{"peer_id": sender, "content": f"hi from {sender}"}]},
                )
            )
            world.messages[(ws, session)] = sent[0]["id"]
        ok(admin.request("DELETE", f"{base}/sessions/s3/peers", json=["alice"]))
        if scopes:
            ok(admin.post(f"{base}/scopes", json={"id": "sc"}))
            ok(admin.post(f"{base}/scopes/sc/sessions", json={"session_ids": ["s1"]}), 204)
        world.peers[ws] = set(PEERS)
        world.sessions[ws] = set(MEMBERS)
    return world
