"""AgentCore identifiers and their core counterparts.

- `eventId` `<13 digits>#<hex>`: the hex spells the message's public id; the digits are the
  millisecond its id was made (the time prefix of the nanoid). Both parts must agree.
- `memoryRecordId` `mem-<document id>-<14-character check>` (40 characters): the check is a
  keyed hash of the document id, so made-up ids read as missing, not as someone's record.
- `jobID` `job-<queue key>`.
- memory ARN `arn:<partition>:bedrock-agentcore:<region>:<account>:memory/<memoryId>`: an ARN
  naming another partition, region or account than the caller's reads as a missing memory.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from mindkeeper.core.values import ID_ALPHABET, ID_LENGTH
from mindkeeper.errors import NotFound

_RECORD_KEY = b"mindkeeper/agentcore/memory-record"
_TIME_MOD = 1 << 47
_MEMORY_ARN = re.compile(
    r"arn:(aws|aws-cn|aws-us-gov):bedrock-agentcore:([a-z0-9-]+):([0-9]{12}):memory/(.+)"
)
_RESOURCE_ARN = re.compile(
    r"arn:([^:]*):bedrock-agentcore:([a-z0-9-]+):([0-9]{12}):([a-z-]+)/([^/]+)"
)
_JOB = re.compile(r"job-([0-9]{1,18})")


def _id_millis(public_id: str) -> int:
    value = 0
    for char in public_id[:8]:
        value = (value << 6) | max(0, ID_ALPHABET.find(char))
    return value % _TIME_MOD


def event_id(message_id: str) -> str:
    """The eventId of a message."""
    return f"{_id_millis(message_id):013d}#{message_id.encode('ascii').hex()}"


def message_id(event: str) -> str | None:
    """The message public id an eventId spells, or None for an id this server never made."""
    digits, _, spelled = event.partition("#")
    try:
        public = bytes.fromhex(spelled).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    if len(public) != ID_LENGTH or any(c not in ID_ALPHABET for c in public):
        return None
    if not digits.isdigit() or int(digits) != _id_millis(public):
        return None
    return public


def _check(document_id: str) -> str:
    digest = hashlib.blake2b(document_id.encode(), digest_size=12, key=_RECORD_KEY).digest()
    return base64.urlsafe_b64encode(digest).decode()[:14]


def record_id(document_id: str) -> str:
    """The memoryRecordId of a document."""
    return f"mem-{document_id}-{_check(document_id)}"


def document_id(record: str) -> str | None:
    """The document public id of a memoryRecordId, or None for an id this server never made."""
    if len(record) != 4 + ID_LENGTH + 1 + 14 or not record.startswith("mem-"):
        return None
    public, check = record[4 : 4 + ID_LENGTH], record[5 + ID_LENGTH :]
    if record[4 + ID_LENGTH] != "-" or _check(public) != check:
        return None
    return public


def job_id(key: int) -> str:
    """The jobID of a queue row."""
    return f"job-{key}"


def job_key(job: str) -> int | None:
    """The queue key of a jobID."""
    match = _JOB.fullmatch(job)
    return None if match is None else int(match.group(1))


@dataclass(frozen=True, slots=True)
class Home:
    """Where the caller's resources live: partition, region, account."""

    partition: str
    region: str
    account_id: str

    def memory_arn(self, memory: str) -> str:
        """The ARN of one of the caller's memories."""
        return (
            f"arn:{self.partition}:bedrock-agentcore:{self.region}:{self.account_id}"
            f":memory/{memory}"
        )

    def memory(self, identifier: str) -> str:
        """The memory id of a bare id or an ARN of the caller's (NotFound for another home)."""
        if not identifier.startswith("arn:"):
            return identifier
        match = _MEMORY_ARN.fullmatch(identifier)
        if match is None or match.groups()[:3] != (self.partition, self.region, self.account_id):
            raise NotFound(f"Memory {identifier} not found")
        return match.group(4)

    def taggable(self, arn: str) -> str:
        """The memory id of a resource ARN to tag (NotFound for anything else)."""
        match = _RESOURCE_ARN.fullmatch(arn)
        if (
            match is None
            or match.groups()[:3] != (self.partition, self.region, self.account_id)
            or match.group(4) != "memory"
        ):
            raise NotFound(f"Resource {arn} not found")
        return match.group(5)
