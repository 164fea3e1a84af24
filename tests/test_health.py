"""Liveness and readiness probes."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import LiveServer


def test_healthz(server: LiveServer) -> None:
    with server.client() as http:
        response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_schema_at_head(server: LiveServer) -> None:
    with server.client() as http:
        response = http.get("/readyz")
    body = response.json()
    assert response.status_code == 200
    assert body["ready"] is True
    assert body["schema_revision"] == body["schema_head"]


def test_readyz_is_503_on_an_unmigrated_database(
    server_factory: Callable[..., LiveServer], tmp_path
) -> None:  # type: ignore[no-untyped-def]
    blank = server_factory(database_url=f"sqlite+aiosqlite:///{tmp_path / 'blank.db'}")
    with blank.client() as http:
        response = http.get("/readyz")
    assert response.status_code == 503
    assert response.json()["ready"] is False
    assert response.json()["schema_revision"] is None
