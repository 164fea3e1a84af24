"""Request members of the 14 operations: parsed from path labels, query and JSON body.

Each parser records constraint failures on a `Problems` and returns what it could parse; the
handler raises once all parts are checked. Limits are the service model's (see docs/bedrock.md);
the image limits are those AWS documents for session steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from mindkeeper.core.agents import NewStep, StringMap
from mindkeeper.http.bedrock import arn, images
from mindkeeper.http.bedrock.arn import SessionRef
from mindkeeper.http.bedrock.validation import (
    Problems,
    blob,
    integer,
    string,
    string_map,
    timestamp,
    union,
)

MAX_RESULTS = 1000
TOKEN_MAX = 2048
METADATA_ENTRIES_MAX = 50
TAGS_PER_REQUEST_MAX = 200
DESCRIPTION_MAX = 200
IMAGES_PER_STEP_MAX = 20
IMAGE_BYTES_MAX = 3_932_160  # 3.75 MiB
IMAGE_SIDE_MAX = 8000
IMAGE_FORMATS = ("png", "jpeg", "gif", "webp")

UUID_RE = re.compile(arn.UUID)
TOKEN_RE = re.compile(r"\S*")
TAG_PATTERN = r"^[a-zA-Z0-9\s._:/=+@-]*$"
TAG_RE = re.compile(r"[a-zA-Z0-9\s._:/=+@-]*", re.ASCII)
KMS_KEY_PATTERN = r"^arn:aws(|-cn|-us-gov):kms:[a-zA-Z0-9-]*:[0-9]{12}:key/[a-zA-Z0-9-]{36}$"
KMS_KEY_RE = re.compile(KMS_KEY_PATTERN[1:-1])
S3_URI_PATTERN = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.{1,1024}$"
S3_URI_RE = re.compile(S3_URI_PATTERN[1:-1])
_CONTENT_BLOCK_MEMBERS = ("text", "image")


@dataclass(frozen=True, slots=True)
class NewSessionInput:
    """CreateSession members."""

    metadata: StringMap
    key_ref: str | None
    tags: StringMap


def session_identifier(problems: Problems, value: str) -> SessionRef | None:
    """Check the `sessionIdentifier` label: a session UUID or ARN."""
    ref = arn.parse_session_identifier(value)
    if ref is None:
        problems.add(
            "sessionIdentifier",
            f"Member must satisfy regular expression pattern: {arn.SESSION_IDENTIFIER_PATTERN}",
            value,
        )
    return ref


def resource_arn(problems: Problems, value: str) -> SessionRef | None:
    """Check the `resourceArn` label: a session ARN of 20-1011 characters."""
    if string(problems, "resourceArn", value, min_len=20, max_len=1011) is None:
        return None
    ref = arn.parse_resource_arn(value)
    if ref is None:
        problems.add(
            "resourceArn",
            f"Member must satisfy regular expression pattern: {arn.RESOURCE_ARN_PATTERN}",
            value,
        )
    return ref


def uuid(problems: Problems, where: str, value: Any, *, required: bool = False) -> str | None:
    """Check a lowercase UUID member."""
    return string(
        problems, where, value, required=required, pattern=UUID_RE, pattern_text=arn.UUID_PATTERN
    )


def paging(problems: Problems, query: dict[str, list[str]]) -> tuple[int | None, str | None]:
    """Check `maxResults` (1-1000) and `nextToken` (1-2048 non-space characters)."""
    raw_max = query.get("maxResults", [None])[0]
    limit = integer(problems, "maxResults", raw_max, 1, MAX_RESULTS)
    raw_token = query.get("nextToken", [None])[0]
    token = string(
        problems,
        "nextToken",
        raw_token,
        min_len=1,
        max_len=TOKEN_MAX,
        pattern=TOKEN_RE,
        pattern_text=r"^\S*$",
    )
    return limit, token


def metadata(problems: Problems, value: Any) -> StringMap | None:
    """Check `sessionMetadata`: at most 50 entries, keys 1-100, values 0-5000 characters."""
    return string_map(
        problems,
        "sessionMetadata",
        value,
        max_entries=METADATA_ENTRIES_MAX,
        key_len=(1, 100),
        value_len=(0, 5000),
    )


def tags(problems: Problems, value: Any, *, required: bool = False) -> StringMap | None:
    """Check a `tags` map: 1-200 entries, keys 1-128 and values 0-256 of the tag alphabet."""
    if value is None and required:
        problems.add("tags", "Member must not be null", "null")
        return None
    return string_map(
        problems,
        "tags",
        value,
        min_entries=1,
        max_entries=TAGS_PER_REQUEST_MAX,
        key_len=(1, 128),
        value_len=(0, 256),
        pattern=TAG_RE,
        pattern_text=TAG_PATTERN,
    )


def tag_keys(problems: Problems, query: dict[str, list[str]]) -> list[str] | None:
    """Check the repeated `tagKeys` query parameter: 1-200 keys."""
    keys = query.get("tagKeys")
    if not keys:
        problems.add("tagKeys", "Member must not be null", "null")
        return None
    if len(keys) > TAGS_PER_REQUEST_MAX:
        problems.add(
            "tagKeys", f"Member must have length less than or equal to {TAGS_PER_REQUEST_MAX}", keys
        )
        return None
    for index, key in enumerate(keys, 1):
        where = f"tagKeys.{index}.member"
        checked = string(
            problems, where, key, min_len=1, max_len=128, pattern=TAG_RE, pattern_text=TAG_PATTERN
        )
        if checked is None:
            return None
    return keys


def create_session(problems: Problems, body: dict[str, Any], account_id: str) -> NewSessionInput:
    """CreateSession body: optional metadata, KMS key ARN (of the caller's account) and tags."""
    key_ref = string(
        problems,
        "encryptionKeyArn",
        body.get("encryptionKeyArn"),
        min_len=1,
        max_len=2048,
        pattern=KMS_KEY_RE,
        pattern_text=KMS_KEY_PATTERN,
    )
    if key_ref is not None and key_ref.split(":")[4] != account_id:
        problems.add(
            "encryptionKeyArn",
            f"Member must be a KMS key of the caller's account {account_id}",
            key_ref,
        )
        key_ref = None
    return NewSessionInput(
        metadata(problems, body.get("sessionMetadata")) or {},
        key_ref,
        tags(problems, body.get("tags")) or {},
    )


def create_invocation(problems: Problems, body: dict[str, Any]) -> tuple[str | None, str | None]:
    """CreateInvocation body: optional invocation id and description (1-200)."""
    invocation_id = uuid(problems, "invocationId", body.get("invocationId"))
    description = string(
        problems, "description", body.get("description"), min_len=1, max_len=DESCRIPTION_MAX
    )
    return invocation_id, description


def put_step(problems: Problems, body: dict[str, Any]) -> NewStep | None:
    """PutInvocationStep body; the payload is re-serialised with only its set union members."""
    invocation_id = uuid(
        problems, "invocationIdentifier", body.get("invocationIdentifier"), required=True
    )
    step_id = uuid(problems, "invocationStepId", body.get("invocationStepId"))
    time = timestamp(problems, "invocationStepTime", body.get("invocationStepTime"))
    raw = body.get("payload")
    if raw is None:
        problems.add("payload", "Member must not be null", "null")
        return None
    payload = _payload(problems, raw)
    if problems or invocation_id is None or time is None or payload is None:
        return None
    return NewStep(invocation_id, step_id, time, orjson.dumps(payload))


def _payload(problems: Problems, raw: Any) -> dict[str, Any] | None:
    member = union(problems, "payload", raw, ("contentBlocks",))
    if member is None:
        return None
    blocks = member[1]
    where = "payload.contentBlocks"
    if not isinstance(blocks, list):
        problems.add(where, "Member must be a list")
        return None
    if not blocks:
        problems.add(where, "Member must have length greater than or equal to 1")
        return None
    out: list[dict[str, Any]] = []
    image_count = 0
    for index, block in enumerate(blocks, 1):
        at = f"{where}.{index}.member"
        chosen = union(problems, at, block, _CONTENT_BLOCK_MEMBERS, sensitive=True)
        if chosen is None:
            continue
        name, value = chosen
        if name == "text":
            text = string(problems, f"{at}.text", value, min_len=1, sensitive=True)
            if text is not None:
                out.append({"text": text})
        else:
            image_count += 1
            image = _image(problems, f"{at}.image", value)
            if image is not None:
                out.append({"image": image})
    if image_count > IMAGES_PER_STEP_MAX:
        problems.add(where, f"Member must contain at most {IMAGES_PER_STEP_MAX} image blocks")
    return None if problems else {"contentBlocks": out}


def _image(problems: Problems, where: str, raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        problems.add(where, "Member must be a structure")
        return None
    fmt = raw.get("format")
    if fmt is None:
        problems.add(f"{where}.format", "Member must not be null")
    elif fmt not in IMAGE_FORMATS:
        problems.add(
            f"{where}.format",
            f"Member must satisfy enum value set: [{', '.join(IMAGE_FORMATS)}]",
            fmt,
        )
        fmt = None
    if raw.get("source") is None:
        problems.add(f"{where}.source", "Member must not be null")
        return None
    chosen = union(problems, f"{where}.source", raw["source"], ("bytes", "s3Location"))
    if chosen is None or fmt is None:
        return None
    name, value = chosen
    if name == "bytes":
        data = blob(problems, f"{where}.source.bytes", value)
        if data is None:
            return None
        if len(data) > IMAGE_BYTES_MAX:
            problems.add(
                f"{where}.source.bytes",
                f"Member must have length less than or equal to {IMAGE_BYTES_MAX} bytes",
            )
            return None
        size = images.dimensions(fmt, data)
        if size is not None and max(size) > IMAGE_SIDE_MAX:
            problems.add(
                f"{where}.source.bytes",
                f"Image must be at most {IMAGE_SIDE_MAX}x{IMAGE_SIDE_MAX} pixels "
                f"(got {size[0]}x{size[1]})",
            )
            return None
        return {"format": fmt, "source": {"bytes": value}}
    if not isinstance(value, dict):
        problems.add(f"{where}.source.s3Location", "Member must be a structure")
        return None
    uri = string(
        problems,
        f"{where}.source.s3Location.uri",
        value.get("uri"),
        required=True,
        min_len=1,
        max_len=1024,
        pattern=S3_URI_RE,
        pattern_text=S3_URI_PATTERN,
    )
    return None if uri is None else {"format": fmt, "source": {"s3Location": {"uri": uri}}}


def invocation_identifier(
    problems: Problems, body: dict[str, Any], *, required: bool
) -> str | None:
    """The `invocationIdentifier` body member of step reads and listings."""
    return uuid(
        problems, "invocationIdentifier", body.get("invocationIdentifier"), required=required
    )
