"""Ports of webhooks: the endpoints a workspace registers, and the transport that delivers.

Endpoints are scoped by workspace: every lookup names the workspace. Deliveries travel through
the job queue (one job per endpoint and event); the transport posts one signed body to one URL
and reports the HTTP status, or raises `DeliveryError` when no status was received (refused
target, connection error, timeout).
"""

from __future__ import annotations

import builtins
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mindkeeper.core.values import Page, PageRequest

#: The job kind of one delivery (one endpoint, one event; payload `endpoint_id`, `type`, `body`).
WEBHOOK = "webhook"


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """A URL that receives the events of one workspace."""

    id: str
    workspace_id: str
    url: str
    created_at: datetime


def public_address(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, strict: bool = False
) -> bool:
    """False for private, loopback, link-local, reserved, multicast and unspecified
    addresses (upstream's rule for URLs); `strict` also refuses every other address that is
    not globally reachable (shared, benchmarking, documentation ranges). An IPv4-mapped IPv6
    address is judged as its IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if strict and not address.is_global:
        return False
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    """Webhook deliveries in the queue by state (done: within the retention period)."""

    pending: int = 0
    running: int = 0
    done: int = 0
    dead: int = 0
    retrying: int = 0
    last_error: str | None = None


class DeliveryError(Exception):
    """A delivery got no HTTP status: refused target, network error or timeout."""


class WebhookRepository(Protocol):
    """The webhook endpoints of workspaces (works inside the unit of work, never commits)."""

    async def get(self, workspace_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        """Return the endpoint of the workspace with that id, or None."""
        ...

    async def get_by_url(self, workspace_id: str, url: str) -> WebhookEndpoint | None:
        """Return the workspace's endpoint for that exact URL, or None."""
        ...

    async def count_locked(self, workspace_id: str) -> int:
        """Count the workspace's endpoints, holding registrations of that workspace back until
        the transaction ends (so a limit checked on the count holds under concurrency)."""
        ...

    async def create(self, workspace_id: str, url: str, now: datetime) -> WebhookEndpoint:
        """Add an endpoint (AlreadyExists when the workspace has that URL)."""
        ...

    async def list(self, workspace_id: str, page: PageRequest) -> Page[WebhookEndpoint]:
        """Return a page of the workspace's endpoints in registration order."""
        ...

    async def all(self, workspace_id: str) -> builtins.list[WebhookEndpoint]:
        """Return every endpoint of the workspace in registration order."""
        ...

    async def delete(self, workspace_id: str, endpoint_id: str) -> bool:
        """Remove the endpoint; False when the workspace has no such endpoint."""
        ...

    async def delivery_counts(self) -> DeliveryCounts:
        """Count the delivery jobs of every workspace by state (the queue status' view)."""
        ...


class WebhookTransport(Protocol):
    """Posts event bodies to endpoints, with the server's signing secret."""

    async def secret(self) -> bytes:
        """The HMAC key that signs every body (Unavailable when it cannot be had)."""
        ...

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST the body and return the response status (DeliveryError when none came)."""
        ...

    async def close(self) -> None:
        """Release the connections."""
        ...
