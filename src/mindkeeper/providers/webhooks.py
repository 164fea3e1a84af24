"""Webhook delivery over HTTP, and the secret that signs every body.

The secret is `MINDKEEPER_WEBHOOK_SECRET`, else the contents of `MINDKEEPER_WEBHOOK_SECRET_FILE`,
else a secret generated once in `<data dir>/keys/webhook.secret` (64 URL-safe characters, mode
0600, created as the master key is: `master_key.create_private_file`, so processes that race
on a fresh data directory all read the same secret).

A delivery resolves the URL's host once, refuses it when any of its addresses is not public
(unless `MINDKEEPER_WEBHOOK_ALLOW_PRIVATE`), then connects to the first address it checked:
the request carries the URL's host in `Host` and, over TLS, as the server name that the
certificate must match, so a second DNS answer cannot move the request elsewhere. Redirects
are not followed, proxy variables are not used, connections are not kept alive, and the whole
exchange is bounded by `MINDKEEPER_WEBHOOK_TIMEOUT_SECONDS`. The response body is not read.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import socket
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import SplitResult, urlsplit, urlunsplit

import httpx
from pydantic import SecretStr

from mindkeeper.core.ports.webhooks import DeliveryError, public_address
from mindkeeper.errors import Unavailable
from mindkeeper.providers.master_key import create_private_file
from mindkeeper.providers.secrets import SecretError

DEFAULT_PORTS = {"http": 80, "https": 443}
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def webhook_secret_path(data_dir: Path) -> Path:
    """Where a generated webhook secret lives."""
    return data_dir / "keys" / "webhook.secret"


def read_configured_secret(value: SecretStr | None, file: Path | None) -> bytes | None:
    """The configured secret (the setting, else the file), or None when neither is set."""
    if value is not None and value.get_secret_value():
        return value.get_secret_value().encode("utf-8")
    if file is None:
        return None
    try:
        text = Path(file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretError(
            f"MINDKEEPER_WEBHOOK_SECRET_FILE: cannot read {file}: {exc.strerror}"
        ) from None
    if not text:
        raise SecretError(f"MINDKEEPER_WEBHOOK_SECRET_FILE: {file} is empty")
    return text.encode("utf-8")


def create_generated_secret(path: Path) -> bytes:
    """Return the secret stored at `path`, generating the file first when there is none."""
    try:
        existing = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing.encode("ascii")
    create_private_file(path, (secrets.token_urlsafe(48) + "\n").encode("ascii"))
    return path.read_text(encoding="ascii").strip().encode("ascii")


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


class HttpWebhookTransport:
    """Posts webhook bodies with httpx; see the module docstring for the rules."""

    def __init__(
        self,
        configured_secret: bytes | None,
        generated_secret_path: Path,
        timeout_seconds: float,
        allow_private: bool,
    ) -> None:
        self._secret = configured_secret
        self._path = generated_secret_path
        self.timeout_seconds = timeout_seconds
        self.allow_private = allow_private
        self._client: httpx.AsyncClient | None = None

    async def secret(self) -> bytes:
        """The configured secret, else the generated one (created on first use)."""
        if self._secret is None:
            try:
                self._secret = create_generated_secret(self._path)
            except OSError as exc:
                raise Unavailable(
                    f"cannot create the webhook secret {self._path}: {exc.strerror or exc}; "
                    "set MINDKEEPER_WEBHOOK_SECRET_FILE"
                ) from None
        return self._secret

    async def _addresses(self, host: str, port: int) -> list[Address]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise DeliveryError(f"cannot resolve {host}: {exc.strerror or exc}") from None
        found: list[Address] = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if address not in found:
                found.append(address)
        if not found:
            raise DeliveryError(f"cannot resolve {host}: no address")
        return found

    async def _target(self, url: str) -> tuple[str, str, str]:
        """(URL naming the checked address, Host header, server name for TLS)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise DeliveryError(f"invalid URL: {exc}") from None
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise DeliveryError("invalid URL: an http or https URL with a host is needed")
        try:
            host = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise DeliveryError("invalid URL: the host name cannot be encoded") from None
        default = DEFAULT_PORTS[parts.scheme]
        addresses = await self._addresses(host, port or default)
        if not self.allow_private:
            refused = [a for a in addresses if not public_address(a, strict=True)]
            if refused:
                what = "is" if str(refused[0]) == host else "resolves to"
                raise DeliveryError(
                    f"refused: {host} {what} the non-public address {refused[0]} "
                    "(MINDKEEPER_WEBHOOK_ALLOW_PRIVATE permits it)"
                )
        pinned = addresses[0]
        shown = f"[{host}]" if ":" in host else host
        suffix = f":{port}" if port is not None and port != default else ""
        ip = f"[{pinned}]" if pinned.version == 6 else str(pinned)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@{ip}{suffix}" if userinfo else f"{ip}{suffix}"
        target = urlunsplit(SplitResult(parts.scheme, netloc, parts.path, parts.query, ""))
        return target, shown + suffix, host

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout_seconds),
                follow_redirects=False,
                trust_env=False,
                limits=httpx.Limits(max_keepalive_connections=0),
            )
        return self._client

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST the body to the URL's checked address; return the status."""
        target, host_header, server_name = await self._target(url)
        extensions = {"sni_hostname": server_name} if target.startswith("https:") else {}
        try:
            async with asyncio.timeout(self.timeout_seconds):
                async with self._http().stream(
                    "POST",
                    target,
                    content=body,
                    headers={**headers, "Host": host_header},
                    extensions=extensions,
                ) as response:
                    return response.status_code
        except TimeoutError:
            raise DeliveryError(f"no answer within {self.timeout_seconds:g} s") from None
        except (httpx.HTTPError, OSError) as exc:
            raise DeliveryError(_describe(exc)) from None

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
