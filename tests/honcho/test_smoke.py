"""A first end-to-end check with the real honcho-ai client."""

from __future__ import annotations

from honcho import Honcho

from tests.conftest import LiveServer


def test_app_round_trip(server: LiveServer) -> None:
    client = Honcho(base_url=server.url, max_retries=0)
    app = client.apps.create(name="demo", metadata={"k": "v"})
    assert client.apps.get(app_id=app.id).name == "demo"
    assert client.apps.get_by_name(name="demo").id == app.id
