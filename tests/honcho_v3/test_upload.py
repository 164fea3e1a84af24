"""File upload: PDF, text and JSON files become messages of one peer, in pieces of at most
25,000 characters; other types are refused (415), files over 5 MiB too (413)."""

from __future__ import annotations

import json

import httpx

from mindkeeper.core.services.conversations.messages import split_text
from tests.honcho_v3.support import MESSAGE_KEYS, detail, expect, new_workspace, ws_url

FILE_MAX = 5 * 1024 * 1024


def make_pdf(*pages: str) -> bytes:
    """A small valid PDF with one line of text per page."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    font_ref = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for text in pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        content_ref = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (content_ref, font_ref)
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _upload(
    http: httpx.Client,
    workspace: str,
    content: bytes,
    content_type: str,
    **fields: str,
) -> httpx.Response:
    data = {"peer_id": "alice", **fields}
    return http.post(
        ws_url(workspace, "sessions", "s1", "messages", "upload"),
        files={"file": ("doc", content, content_type)},
        data=data,
    )


def test_text_file(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    created = expect(
        _upload(
            http,
            workspace,
            b"hello file",
            "text/plain; charset=utf-8",
            metadata='{"source": "upload"}',
            created_at="2024-01-02T03:04:05Z",
        ),
        201,
    )
    assert [list(m) for m in created] == [MESSAGE_KEYS]
    message = created[0]
    assert (message["content"], message["peer_id"], message["session_id"]) == (
        "hello file",
        "alice",
        "s1",
    )
    assert message["metadata"] == {"source": "upload"}
    assert message["created_at"] == "2024-01-02T03:04:05Z"
    assert message["token_count"] == 2
    # Unreadable optional fields are ignored.
    created = expect(
        _upload(http, workspace, b"x", "text/markdown", metadata="{nope", created_at="soon"), 201
    )
    assert created[0]["metadata"] == {} and created[0]["created_at"] != "soon"


def test_empty_file_is_one_empty_message(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    created = expect(_upload(http, workspace, b"", "text/plain"), 201)
    assert [m["content"] for m in created] == [""]


def test_json_file(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    created = expect(_upload(http, workspace, b'{"a": [1, 2]}', "application/json"), 201)
    assert json.loads(created[0]["content"]) == {"a": [1, 2]}


def test_pdf_file(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    created = expect(
        _upload(http, workspace, make_pdf("Hello PDF", "Second page"), "application/pdf"), 201
    )
    assert len(created) == 1
    assert "Hello PDF" in created[0]["content"] and "Second page" in created[0]["content"]
    assert detail(_upload(http, workspace, b"%PDF-1.4 broken", "application/pdf"), 422) == (
        "The PDF file could not be read"
    )


def test_long_text_is_cut_at_whitespace(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    text = ("word " * 6000) + "tail"  # 30,004 characters
    created = expect(_upload(http, workspace, text.encode(), "text/plain"), 201)
    assert [len(m["content"]) for m in created] == [25_000, 5_004]
    assert "".join(m["content"] for m in created) == text
    assert created[0]["content"].endswith(" ")


def test_split_text() -> None:
    assert split_text("") == [""]
    assert split_text("abc", 3) == ["abc"]
    assert split_text("abcd", 3) == ["abc", "d"]
    assert split_text("ab cd ef", 6) == ["ab cd ", "ef"]
    assert split_text("abcd\nef gh", 7) == ["abcd\n", "ef gh"]
    assert split_text("a\ncd ef", 6) == ["a\ncd ", "ef"]  # a line break too early
    text = "x" * 10 + "\n" + "y" * 5
    assert "".join(split_text(text, 4)) == text


def test_type_and_size_limits(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    assert detail(_upload(http, workspace, b"\x89PNG", "image/png"), 415) == (
        "Unsupported file type: image/png. "
        "Supported types: ['PDFProcessor', 'TextProcessor', 'JSONProcessor']"
    )
    expect(_upload(http, workspace, b"a" * FILE_MAX, "text/plain"), 201)
    assert detail(_upload(http, workspace, b"a" * (FILE_MAX + 1), "text/plain"), 413) == (
        f"File size ({FILE_MAX + 1} bytes) exceeds maximum allowed size ({FILE_MAX} bytes)"
    )
    limit = 8 * 1024 * 1024  # the server's request body limit
    assert detail(_upload(http, workspace, b"a" * limit, "text/plain"), 413) == (
        f"Request body too large (limit {limit} bytes)"
    )


def test_form_validation(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    url = ws_url(workspace, "sessions", "s1", "messages", "upload")
    errors = detail(http.post(url, files={"file": ("doc", b"x", "text/plain")}), 422)
    assert errors[0]["loc"] == ["body", "peer_id"] and errors[0]["type"] == "missing"
    errors = detail(http.post(url, data={"peer_id": "alice"}), 422)
    assert errors[0]["loc"] == ["body", "file"]
    errors = detail(
        http.post(url, data={"peer_id": "a b"}, files={"file": ("doc", b"x", "text/plain")}), 422
    )
    assert errors[0]["loc"] == ["body", "peer_id"]
    too_many = json.dumps({f"k{i}": i for i in range(101)})
    assert detail(_upload(http, workspace, b"x", "text/plain", metadata=too_many), 422) == (
        "Metadata exceeds maximum of 100 top-level keys"
    )
    assert (
        expect(http.post(ws_url(workspace, "sessions", "s1", "messages", "list")), 200)["total"]
        == 0
    )
    assert http.post(url, json={"peer_id": "a"}).status_code == 422
