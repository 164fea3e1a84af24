"""Values PostgreSQL and orjson cannot take as-is: refused clearly or stored faithfully."""

from __future__ import annotations

import httpx

from tests.honcho.support import World, detail, new_app, ok


def test_integers_beyond_64_bits_round_trip(http: httpx.Client) -> None:
    big = 2**70 + 3
    app = ok(
        http.post("/v1/apps", json={"name": f"big-{big}", "metadata": {"n": big, "neg": -big}})
    )
    assert app["metadata"] == {"n": big, "neg": -big}
    fetched = ok(http.get("/v1/apps", params={"app_id": app["id"]}))
    assert fetched["metadata"]["n"] == big


def test_nul_characters_are_refused_everywhere(http: httpx.Client, world: World) -> None:
    app = new_app(http)
    before = ok(http.get("/v1/apps", params={"app_id": app["id"]}))
    for url, body in (
        (f"/v1/apps/{app['id']}", {"name": "a\x00b"}),
        (f"/v1/apps/{app['id']}", {"metadata": {"k": ["ok", {"deep": "x\x00"}]}}),
        (f"/v1/apps/{app['id']}", {"metadata": {"key\x00": 1}}),
    ):
        errors = detail(http.put(url, json=body), 422)
        assert errors[0]["type"] == "value_error"
        assert "NUL" in errors[0]["msg"]
    assert ok(http.get("/v1/apps", params={"app_id": app["id"]})) == before
    messages = world.messages
    errors = detail(http.post(messages, json={"content": "hi\x00", "is_user": True}), 422)
    assert "NUL" in errors[0]["msg"]
    listed = ok(http.post(f"{messages}/list", json={}))
    assert listed["total"] == 0
