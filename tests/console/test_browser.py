"""The console in a real browser: browse to a message, find a fact by a paraphrased query,
retry a dead letter, sign in with a scoped key and fail to reach another tenant's page, and
see a message's `<script>` shown as text. Screenshots of the main pages go to docs/console/
when MINDKEEPER_CONSOLE_SCREENSHOTS is set."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import httpx

from mindkeeper.bootstrap import build_runtime
from mindkeeper.core.services import keys, queue
from mindkeeper.providers.secrets import JwtCodec
from tests.conftest import LiveServer
from tests.console.conftest import JWT_SECRET
from tests.fill import SCRIPT, Filled, fill_v1, fill_v3, ok

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"


def shoot(page: Any, name: str, backend: str) -> None:
    """Save a screenshot for the docs (SQLite run only, when asked)."""
    if os.environ.get("MINDKEEPER_CONSOLE_SCREENSHOTS") and backend == "sqlite":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def test_browse_to_a_message(backend: str, filled: tuple[LiveServer, Filled], browser: Any) -> None:
    """Workspaces -> app -> user -> session -> the message, by clicking; Bedrock steps."""
    server, made = filled

    def steps(page: Any) -> None:
        page.goto(server.url + "/console")
        shoot(page, "overview", backend)
        page.click("text=Workspaces")
        page.locator("h1:has-text('Workspaces')").wait_for()
        page.click(f"text={made.app_name}")
        page.locator("h2:has-text('Peers')").wait_for()
        shoot(page, "workspace", backend)
        page.click("text=alice")
        page.locator("h2:has-text('What was learnt')").wait_for()
        shoot(page, "peer", backend)
        page.click(f"a[href$='/s/{made.session}']")
        message = page.locator(f"#m-{made.message_ids[0]} .content")
        message.wait_for()
        assert message.inner_text() == "I just moved to Lisbon and I'm learning Portuguese."
        assert '"n": 0' in page.locator(f"#m-{made.message_ids[0]} pre").text_content()
        shoot(page, "session", backend)
        page.click("text=Bedrock sessions")
        page.locator("h1:has-text('Bedrock sessions')").wait_for()
        page.click(f"text={made.bedrock_session}")
        page.locator("h2:has-text('Invocations')").wait_for()
        page.click(f"text={made.invocation}")
        page.locator("text=Hello from the agent").wait_for()
        image = page.locator("img.step-image")
        assert image.count() == 1
        assert page.evaluate("img => img.naturalWidth", image.element_handle()) == 8
        shoot(page, "bedrock", backend)

    browser(steps)


def test_find_a_fact_by_a_paraphrase(
    backend: str, filled: tuple[LiveServer, Filled], browser: Any
) -> None:
    """The search box finds facts and conclusions by meaning, not by words."""
    server, made = filled

    def steps(page: Any) -> None:
        page.goto(f"{server.url}/console/w/{made.app}/c/{made.collection}")
        page.fill("input[name=q]", "which city is her home")
        page.click("button:has-text('Search')")
        page.wait_for_selector("text=Closest in meaning")
        assert page.locator(".document .content").first.inner_text() == "Alice lives in Lisbon"
        shoot(page, "search", backend)
        page.goto(f"{server.url}/console/workspaces")
        page.click(f"text={made.workspace}")
        page.locator("h2:has-text('Peers')").wait_for()
        page.click("text=assistant")
        page.locator("h2:has-text('What was learnt')").wait_for()
        page.locator("table a").first.click()
        page.locator("input[name=q]").wait_for()
        page.fill("input[name=q]", "what instrument does he perform on")
        page.click("button:has-text('Search')")
        page.wait_for_selector("text=Closest in meaning")
        assert page.locator(".document .content").first.inner_text() == "Bob plays the cello"

    browser(steps)


def _dead_letters(server: LiveServer, count: int) -> None:
    """Make dead letters as the worker would: claim jobs and fail them (one attempt allowed)."""

    async def go() -> None:
        runtime = build_runtime(server.settings, embedder=None)
        try:
            for _ in range(count):
                job = await queue.claim(runtime, "test-worker")
                assert job is not None
                assert await queue.fail(runtime, job, "model exploded <b>boom</b>")
        finally:
            await runtime.close()

    asyncio.run(go())


def test_retry_and_discard_dead_letters(
    backend: str, filled: tuple[LiveServer, Filled], browser: Any
) -> None:
    """Retry puts a dead letter back to pending; discard removes one."""
    server, _ = filled
    _dead_letters(server, 2)

    def steps(page: Any) -> None:
        page.goto(server.url + "/console/queue")
        rows = page.locator("tr.dead")
        assert rows.count() == 2
        assert page.locator("#dead-count").inner_text() == "2"
        assert "model exploded <b>boom</b>" in rows.first.locator(".err").inner_text()
        shoot(page, "queue", backend)
        pending = int(page.locator("#pending").inner_text())
        first = rows.first.get_attribute("id")
        rows.first.locator("button:has-text('Retry')").click()
        page.locator(f"#{first}").wait_for(state="detached")
        assert page.locator("tr.dead").count() == 1
        assert int(page.locator("#pending").inner_text()) == pending + 1
        last = page.locator("tr.dead").first.get_attribute("id")
        page.locator("tr.dead").first.locator("button:has-text('Discard')").click()
        page.locator(f"#{last}").wait_for(state="detached")
        assert page.locator("tr.dead").count() == 0
        assert page.locator("#dead-count").inner_text() == "0"

    browser(steps)


def test_script_content_is_shown_as_text(filled: tuple[LiveServer, Filled], browser: Any) -> None:
    """A message holding a script tag renders as text and runs nothing."""
    server, made = filled

    def steps(page: Any) -> None:
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{server.url}/console/w/{made.app}/s/{made.session}")
        shown = page.locator(f"#m-{made.message_ids[1]} .content").inner_text()
        assert shown == SCRIPT
        assert page.title() != "pwned"
        assert page.locator(f"#m-{made.message_ids[1]} script").count() == 0
        assert not dialogs

    browser(steps)


def test_scoped_key_sees_only_its_scope(
    backend: str, server_factory: Any, browser: Any, tmp_path: Path
) -> None:
    """Sign in with an app key: its own pages open, another app's do not; a v3 key by name
    likewise; admin pages are refused."""
    server = server_factory(
        auth_enabled=True,
        auth_jwt_secret=JWT_SECRET,
        auth_cache_seconds=0,
        worker_enabled=False,
        data_dir=tmp_path / "data",
    )
    codec = JwtCodec(JWT_SECRET)
    admin = keys.mint_admin(codec, server.runtime.now()).token
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {admin}"}) as http:
        mine, theirs = fill_v1(http), fill_v1(http)
        other = Filled()
        fill_v3(http, other)
        key = ok(http.post("/v1/keys", params={"app_id": mine.app}))["key"]
    v3_key = keys.mint_by_name(codec, server.runtime.now(), workspace=other.workspace).token

    def steps(page: Any) -> None:
        page.goto(server.url + "/console/w/" + mine.app)
        assert "/console/login" in page.url
        page.fill("textarea[name=key]", key)
        page.click("button:has-text('Sign in')")
        page.wait_for_url(f"**/console/w/{mine.app}")
        page.click(f"a[href$='/s/{mine.session}']")
        page.locator(f"#m-{mine.message_ids[0]} .content").wait_for()
        for path in (
            f"/console/w/{theirs.app}",
            f"/console/w/{theirs.app}/s/{theirs.session}",
            f"/console/w/{theirs.app}/c/{theirs.collection}",
            "/console/workspaces",
            "/console/queue",
            "/console/keys",
        ):
            response = page.goto(server.url + path)
            assert response.status == 404, path
            assert page.locator("#error").inner_text() == "Not found, or not visible with this key."
            assert "Lisbon" not in page.content()
        shoot(page, "refused", backend)
        page.goto(server.url + "/console/w/" + mine.app)
        page.click("button:has-text('Sign out')")
        page.wait_for_url("**/console/login")
        page.fill("textarea[name=key]", v3_key)
        page.click("button:has-text('Sign in')")
        page.wait_for_url("**/console/w/*")
        page.locator("h2:has-text('Peers')").wait_for()
        assert page.locator("h1").inner_text().endswith(other.workspace)
        assert page.goto(f"{server.url}/console/w/{mine.app}").status == 404

    browser(steps)


def test_cookie_and_csrf(server_factory: Any, tmp_path: Path) -> None:
    """The session cookie is HttpOnly and SameSite=Strict; forms without the token fail."""
    server = server_factory(
        auth_enabled=True, auth_jwt_secret=JWT_SECRET, auth_cache_seconds=0, worker_enabled=False
    )
    admin = keys.mint_admin(JwtCodec(JWT_SECRET), server.runtime.now()).token
    with httpx.Client(base_url=server.url) as http:
        form = http.get("/console/login")
        csrf = http.cookies["mk_console_csrf"]
        assert "HttpOnly" in form.headers["set-cookie"]
        assert "SameSite=strict" in form.headers["set-cookie"].replace("Strict", "strict")
        refused = http.post("/console/login", data={"key": admin, "csrf": "wrong"})
        assert refused.status_code == 401
        signed = http.post("/console/login", data={"key": admin, "csrf": csrf})
        assert signed.status_code == 303
        cookie = signed.headers["set-cookie"]
        assert "mk_console=" in cookie and "HttpOnly" in cookie and "Path=/console" in cookie
        assert "samesite=strict" in cookie.lower()
        assert http.get("/console/queue").status_code == 200
        assert http.post("/console/queue/retry", data={"csrf": "nope"}).status_code == 403
        csp = http.get("/console/queue").headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
