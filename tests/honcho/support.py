"""Helpers of the Honcho v1 suite: create apps, users and sessions quickly over raw HTTP."""

from __future__ import annotations

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

#: Upstream's rendering of `created_at`: UTC with `Z`, six fraction digits or none at all.
CREATED_AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$")
#: A public id: nanoid, 21 URL-safe characters.
PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]{21}$")

#: Key order of each resource as upstream emits it (reference §1.4).
APP_KEYS = ["id", "name", "metadata", "created_at"]
USER_KEYS = ["id", "name", "app_id", "created_at", "metadata"]
SESSION_KEYS = ["id", "is_active", "user_id", "app_id", "metadata", "created_at"]
MESSAGE_KEYS = [
    "id",
    "content",
    "is_user",
    "session_id",
    "metadata",
    "created_at",
    "app_id",
    "user_id",
]
METAMESSAGE_KEYS = [
    "id",
    "label",
    "content",
    "user_id",
    "app_id",
    "session_id",
    "message_id",
    "metadata",
    "created_at",
    "metamessage_type",
]
COLLECTION_KEYS = ["id", "name", "user_id", "app_id", "metadata", "created_at"]
DOCUMENT_KEYS = ["id", "content", "metadata", "created_at", "collection_id", "app_id", "user_id"]
PAGE_KEYS = ["items", "total", "page", "size", "pages"]


def uid(prefix: str = "t") -> str:
    """A unique name."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def ok(response: httpx.Response) -> Any:
    """Assert a 200 JSON reply and return its body."""
    assert response.status_code == 200, (response.status_code, response.text)
    return response.json()


def detail(response: httpx.Response, status: int) -> Any:
    """Assert the status and return the `detail` of the error body."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert list(body) == ["detail"], body
    return body["detail"]


def error_types(response: httpx.Response) -> list[tuple[str, tuple[Any, ...]]]:
    """The (type, loc) pairs of a validation 422."""
    errors = detail(response, 422)
    assert isinstance(errors, list), errors
    return [(e["type"], tuple(e["loc"])) for e in errors]


def new_app(c: httpx.Client, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """Create an app with a unique name."""
    body: dict[str, Any] = {"name": uid("app")}
    if metadata is not None:
        body["metadata"] = metadata
    return ok(c.post("/v1/apps", json=body))  # type: ignore[no-any-return]


def new_user(
    c: httpx.Client, app_id: str, metadata: dict[str, Any] | None = None, name: str | None = None
) -> dict[str, Any]:
    """Create a user in the app."""
    body: dict[str, Any] = {"name": name or uid("user")}
    if metadata is not None:
        body["metadata"] = metadata
    return ok(c.post(f"/v1/apps/{app_id}/users", json=body))  # type: ignore[no-any-return]


def new_session(
    c: httpx.Client, app_id: str, user_id: str, metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Create a session of the user."""
    body = {} if metadata is None else {"metadata": metadata}
    return ok(c.post(f"/v1/apps/{app_id}/users/{user_id}/sessions", json=body))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class World:
    """One app, one user of it and one session of that user."""

    app: str
    user: str
    session: str

    @property
    def users(self) -> str:
        """Path of the app's users."""
        return f"/v1/apps/{self.app}/users"

    @property
    def sessions(self) -> str:
        """Path of the user's sessions."""
        return f"/v1/apps/{self.app}/users/{self.user}/sessions"

    @property
    def messages(self) -> str:
        """Path of the session's messages."""
        return f"{self.sessions}/{self.session}/messages"

    @property
    def metamessages(self) -> str:
        """Path of the user's metamessages."""
        return f"/v1/apps/{self.app}/users/{self.user}/metamessages"

    @property
    def collections(self) -> str:
        """Path of the user's collections."""
        return f"/v1/apps/{self.app}/users/{self.user}/collections"

    def documents(self, collection_id: str) -> str:
        """Path of a collection's documents."""
        return f"{self.collections}/{collection_id}/documents"

    def add_messages(self, c: httpx.Client, *contents: str) -> list[dict[str, Any]]:
        """Append messages (alternating user/assistant) to the session in one batch."""
        batch = [{"content": t, "is_user": i % 2 == 0} for i, t in enumerate(contents)]
        return ok(c.post(f"{self.messages}/batch", json={"messages": batch}))  # type: ignore[no-any-return]

    def new_collection(
        self, c: httpx.Client, name: str | None = None, metadata: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Create a collection of the user."""
        body: dict[str, Any] = {"name": name or uid("col")}
        if metadata is not None:
            body["metadata"] = metadata
        return ok(c.post(self.collections, json=body))  # type: ignore[no-any-return]


def new_world(c: httpx.Client) -> World:
    """A fresh app, a user in it and a session of that user."""
    app = new_app(c)["id"]
    user = new_user(c, app)["id"]
    return World(app, user, new_session(c, app, user)["id"])


def reserved_collection(server: Any, app_id: str, user_id: str) -> str:
    """Create the user's reserved `honcho` collection as the deriver would; return its id.

    Runs the service on its own event loop and engine (a thread of its own), like a second
    process sharing the database.
    """
    from mindkeeper.bootstrap import build_runtime
    from mindkeeper.core.services import collections

    async def run() -> str:
        runtime = build_runtime(server.settings, embedder=None)
        try:
            uow = runtime.uow()
            async with uow:
                collection = await collections.get_or_create_reserved(uow, app_id, user_id)
                await uow.commit()
            return collection.id
        finally:
            await runtime.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()
