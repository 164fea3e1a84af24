"""Uploaded files as text, as upstream's file processors read them: PDF (text of each page),
any `text/*` type, and JSON (pretty-printed). Other types are refused with 415, files over
5 MiB with 413."""

from __future__ import annotations

import io
import json
from typing import Any

from starlette.exceptions import HTTPException

#: Largest accepted upload, in bytes.
FILE_MAX = 5 * 1024 * 1024
_PROCESSORS = "['PDFProcessor', 'TextProcessor', 'JSONProcessor']"


def check_size(size: int) -> None:
    """413 for a file over FILE_MAX."""
    if size > FILE_MAX:
        raise HTTPException(
            status_code=413,
            detail=f"File size ({size} bytes) exceeds maximum allowed size ({FILE_MAX} bytes)",
        )


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception:  # any malformed document is the client's mistake, never a 500
        raise HTTPException(status_code=422, detail="The PDF file could not be read") from None
    return "\n\n".join(p for p in pages if p)


def _json(data: bytes) -> str:
    text = _text(data)
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        return text
    return json.dumps(parsed, indent=2, ensure_ascii=False)


def extract_text(content_type: str | None, data: bytes) -> str:
    """The text of an uploaded file (NUL characters removed); 415 for other types, 422 for
    a PDF that cannot be read. CPU-bound: call it from a worker thread."""
    media = _media_type(content_type)
    if media == "application/pdf":
        text = _pdf(data)
    elif media == "application/json":
        text = _json(data)
    elif media.startswith("text/"):
        text = _text(data)
    else:
        raise HTTPException(
            status_code=415,
            detail=f"Unsupported file type: {content_type}. Supported types: {_PROCESSORS}",
        )
    return text.replace("\x00", "")
