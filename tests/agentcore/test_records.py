"""Long-term records through boto3: batch writes, get/delete, namespaces, retrieval by meaning,
metadata filters, pagination, tokens."""

from __future__ import annotations

from typing import Any

from tests.agentcore.support import RECORD_ID, T0, new_memory, raises_aws, uid, walk

FACTS = [
    ("/facts/alice/", "Alice drinks green tea every morning."),
    ("/facts/alice/", "Alice works as a marine biologist in Lisbon."),
    ("/facts/alice2/", "Alice2 collects vintage motorcycles."),
    ("/facts/bob", "Bob plays the cello in an orchestra."),
    ("/summaries/alice/sessions/s1/", "Alice asked about tea varieties."),
]


def _create(data: Any, memory: str, items: list[tuple[str, str]], **kw: Any) -> list[str]:
    response = data.batch_create_memory_records(
        memoryId=memory,
        records=[
            {
                "requestIdentifier": f"r{i}",
                "namespaces": [namespace],
                "content": {"text": text},
                "timestamp": T0,
                **kw,
            }
            for i, (namespace, text) in enumerate(items)
        ],
    )
    assert response["failedRecords"] == []
    assert [r["requestIdentifier"] for r in response["successfulRecords"]] == [
        f"r{i}" for i in range(len(items))
    ]
    assert all(r["status"] == "SUCCEEDED" for r in response["successfulRecords"])
    return [r["memoryRecordId"] for r in response["successfulRecords"]]


def _texts(summaries: list[dict[str, Any]]) -> list[str]:
    return [s["content"]["text"] for s in summaries]


def test_batch_create_get_and_delete(data: Any, memory: str) -> None:
    ids = _create(data, memory, FACTS[:2])
    assert all(RECORD_ID.match(i) and len(i) == 40 for i in ids)
    record = data.get_memory_record(memoryId=memory, memoryRecordId=ids[0])["memoryRecord"]
    assert record["content"] == {"text": FACTS[0][1]}
    assert record["namespaces"] == ["/facts/alice/"]
    assert record["memoryStrategyId"] == "custom"
    assert record["timestamp"] == T0
    assert "expiresAt" not in record
    deleted = data.delete_memory_record(memoryId=memory, memoryRecordId=ids[0])
    assert deleted["memoryRecordId"] == ids[0]
    for call in (data.get_memory_record, data.delete_memory_record):
        with raises_aws("ResourceNotFoundException", 404):
            call(memoryId=memory, memoryRecordId=ids[0])
    with raises_aws("ResourceNotFoundException", 404):
        data.get_memory_record(memoryId=memory, memoryRecordId="mem-" + "a" * 36)


def test_namespace_exact_and_path_matching(data: Any, memory: str) -> None:
    _create(data, memory, FACTS)

    def listed(**scope: str) -> list[str]:
        pages = walk(data.list_memory_records, "memoryRecordSummaries", memoryId=memory, **scope)
        return sorted(_texts([r for page in pages for r in page]))

    alice = sorted([FACTS[0][1], FACTS[1][1]])
    assert listed(namespace="/facts/alice/") == alice
    assert listed(namespace="/facts/alice") == alice
    assert listed(namespacePath="/facts/alice") == alice
    assert listed(namespacePath="/facts/alice/") == alice
    assert listed(namespace="/facts/") == []
    assert len(listed(namespacePath="/facts")) == 4
    assert len(listed(namespacePath="/")) == 5
    assert listed(namespace="/facts/bob/") == [FACTS[3][1]]
    assert listed(namespacePath="/summaries/alice") == [FACTS[4][1]]
    with raises_aws("ValidationException", 400, "Exactly one"):
        data.list_memory_records(memoryId=memory)
    with raises_aws("ValidationException", 400, "Exactly one"):
        data.list_memory_records(memoryId=memory, namespace="/a", namespacePath="/a")


def test_list_is_newest_first_in_exact_pages(data: Any, memory: str) -> None:
    items = [("/many/", f"fact number {i}") for i in range(23)]
    _create(data, memory, items)
    pages = walk(
        data.list_memory_records,
        "memoryRecordSummaries",
        memoryId=memory,
        namespace="/many/",
        maxResults=5,
    )
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    texts = [t for page in pages for t in _texts(page)]
    assert texts == [f"fact number {i}" for i in reversed(range(23))]


def test_retrieve_ranks_by_meaning_with_scores_in_range(data: Any, memory: str) -> None:
    _create(data, memory, FACTS)
    found = data.retrieve_memory_records(
        memoryId=memory,
        namespacePath="/facts",
        searchCriteria={"searchQuery": "What does Alice like to drink?", "topK": 3},
    )["memoryRecordSummaries"]
    assert len(found) == 3
    assert found[0]["content"]["text"] == FACTS[0][1]
    scores = [r["score"] for r in found]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    music = data.retrieve_memory_records(
        memoryId=memory,
        namespacePath="/",
        searchCriteria={"searchQuery": "orchestra musician"},
    )["memoryRecordSummaries"]
    assert music[0]["content"]["text"] == FACTS[3][1]
    assert len(music) == 5


def test_retrieve_pages_within_top_k(data: Any, memory: str) -> None:
    _create(data, memory, [("/p/", f"note about tea number {i}") for i in range(12)])
    pages = walk(
        data.retrieve_memory_records,
        "memoryRecordSummaries",
        memoryId=memory,
        namespace="/p/",
        searchCriteria={"searchQuery": "tea", "topK": 10},
        maxResults=4,
    )
    assert [len(p) for p in pages] == [4, 4, 2]
    ids = [r["memoryRecordId"] for page in pages for r in page]
    assert len(set(ids)) == 10


def test_metadata_filters_on_indexed_keys(control: Any, data: Any) -> None:
    memory = new_memory(
        control,
        indexedKeys=[
            {"key": "topic", "type": "STRING"},
            {"key": "level", "type": "NUMBER"},
            {"key": "tags", "type": "STRINGLIST"},
        ],
    )

    def record(i: int, topic: str, level: float, tags: list[str]) -> dict[str, Any]:
        return {
            "requestIdentifier": f"r{i}",
            "namespaces": ["/m/"],
            "content": {"text": f"{topic} note {i}"},
            "timestamp": T0,
            "metadata": {
                "topic": {"stringValue": topic},
                "level": {"numberValue": level},
                "tags": {"stringListValue": tags},
                "when": {"dateTimeValue": T0},
            },
        }

    data.batch_create_memory_records(
        memoryId=memory,
        records=[
            record(0, "food", 1, ["a"]),
            record(1, "food", 5, ["a", "b"]),
            record(2, "travel", 9, ["b"]),
        ],
    )

    def matching(*filters: dict[str, Any]) -> list[str]:
        listed = data.list_memory_records(
            memoryId=memory, namespace="/m/", metadataFilters=list(filters)
        )["memoryRecordSummaries"]
        retrieved = data.retrieve_memory_records(
            memoryId=memory,
            namespace="/m/",
            searchCriteria={"searchQuery": "note", "metadataFilters": list(filters)},
        )["memoryRecordSummaries"]
        assert sorted(_texts(listed)) == sorted(_texts(retrieved))
        return sorted(_texts(listed))

    def cond(key: str, op: str, value: dict[str, Any] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"left": {"metadataKey": key}, "operator": op}
        if value is not None:
            out["right"] = {"metadataValue": value}
        return out

    assert matching(cond("topic", "EQUALS_TO", {"stringValue": "food"})) == [
        "food note 0",
        "food note 1",
    ]
    assert matching(cond("level", "GREATER_THAN", {"numberValue": 4})) == [
        "food note 1",
        "travel note 2",
    ]
    assert matching(
        cond("topic", "EQUALS_TO", {"stringValue": "food"}),
        cond("level", "LESS_THAN_OR_EQUALS", {"numberValue": 1}),
    ) == ["food note 0"]
    assert matching(cond("tags", "CONTAINS", {"stringValue": "b"})) == [
        "food note 1",
        "travel note 2",
    ]
    assert len(matching(cond("topic", "EXISTS"))) == 3
    with raises_aws("ValidationException", 400, "not an indexed key"):
        matching(cond("when", "EXISTS"))
    got = data.list_memory_records(memoryId=memory, namespace="/m/", maxResults=1)
    metadata = got["memoryRecordSummaries"][0]["metadata"]
    assert metadata["tags"] == {"stringListValue": ["b"]}
    assert metadata["when"] == {"dateTimeValue": T0}


def test_batch_update_and_delete_report_each_record(data: Any, memory: str) -> None:
    ids = _create(data, memory, FACTS[:2])
    missing = "mem-" + "b" * 36
    updated = data.batch_update_memory_records(
        memoryId=memory,
        records=[
            {
                "memoryRecordId": ids[0],
                "timestamp": T0,
                "content": {"text": "Alice now prefers coffee."},
                "namespaces": ["/moved/"],
            },
            {"memoryRecordId": missing, "timestamp": T0},
        ],
    )
    assert [r["memoryRecordId"] for r in updated["successfulRecords"]] == [ids[0]]
    assert updated["failedRecords"][0]["memoryRecordId"] == missing
    assert updated["failedRecords"][0]["status"] == "FAILED"
    assert updated["failedRecords"][0]["errorCode"] == 404
    moved = data.list_memory_records(memoryId=memory, namespace="/moved/")
    assert _texts(moved["memoryRecordSummaries"]) == ["Alice now prefers coffee."]
    found = data.retrieve_memory_records(
        memoryId=memory, namespace="/moved/", searchCriteria={"searchQuery": "coffee"}
    )["memoryRecordSummaries"]
    assert _texts(found) == ["Alice now prefers coffee."]
    deleted = data.batch_delete_memory_records(
        memoryId=memory, records=[{"memoryRecordId": ids[1]}, {"memoryRecordId": missing}]
    )
    assert [r["memoryRecordId"] for r in deleted["successfulRecords"]] == [ids[1]]
    assert [r["memoryRecordId"] for r in deleted["failedRecords"]] == [missing]


def test_batch_create_tokens_and_unknown_strategies(data: Any, memory: str) -> None:
    token = uid("tok")
    args: dict[str, Any] = {
        "memoryId": memory,
        "clientToken": token,
        "records": [
            {
                "requestIdentifier": "a",
                "namespaces": ["/t/"],
                "content": {"text": "x"},
                "timestamp": T0,
            },
            {
                "requestIdentifier": "b",
                "namespaces": [],
                "content": {"text": "y"},
                "timestamp": T0,
                "memoryStrategyId": "nope",
            },
        ],
    }
    first = data.batch_create_memory_records(**args)
    assert [r["requestIdentifier"] for r in first["failedRecords"]] == ["b"]
    again = data.batch_create_memory_records(**args)
    assert again["successfulRecords"] == first["successfulRecords"]
    listed = data.list_memory_records(memoryId=memory, namespace="/t/")
    assert len(listed["memoryRecordSummaries"]) == 1
    args["records"] = args["records"][:1]
    with raises_aws("ValidationException", 400, "different parameters"):
        data.batch_create_memory_records(**args)
    with raises_aws("ValidationException", 400, "REMOVE"):
        data.batch_create_memory_records(
            memoryId=memory, records=[], recordExpirySpecification={"action": "REMOVE"}
        )


def test_record_expiry(data: Any, memory: str) -> None:
    response = data.batch_create_memory_records(
        memoryId=memory,
        records=[
            {
                "requestIdentifier": "a",
                "namespaces": ["/e/"],
                "content": {"text": "x"},
                "timestamp": T0,
            }
        ],
        recordExpirySpecification={"recordExpiryDurationDays": 31},
    )
    record_id = response["successfulRecords"][0]["memoryRecordId"]
    record = data.get_memory_record(memoryId=memory, memoryRecordId=record_id)["memoryRecord"]
    assert (record["expiresAt"] - record["createdAt"]).days == 31
    data.batch_update_memory_records(
        memoryId=memory,
        records=[{"memoryRecordId": record_id, "timestamp": T0}],
        recordExpirySpecification={"action": "REMOVE"},
    )
    record = data.get_memory_record(memoryId=memory, memoryRecordId=record_id)["memoryRecord"]
    assert "expiresAt" not in record
