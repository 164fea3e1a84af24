"""Every table carries its tenant key, so the tables can be distributed by tenant.

A table holds rows of one workspace (`workspace_id`) or of one AWS account (`account_id`),
as a NOT NULL column. The only exceptions are the global tables listed below, each with the
reason; a table added without a tenant key fails here until it gets one or is listed.
"""

from __future__ import annotations

from mindkeeper.storage.tables import metadata

TENANT_KEYS = ("workspace_id", "account_id")

GLOBAL_TABLES = {
    # The tenant itself: its `public_id` is the `workspace_id` of every workspace-keyed row.
    "workspaces",
    # A deny list of revoked bearer keys, checked before the caller's tenant is known.
    "revoked_keys",
}


def test_every_table_has_a_not_null_tenant_key() -> None:
    missing = []
    for table in metadata.sorted_tables:
        if table.name in GLOBAL_TABLES:
            continue
        keys = [table.c[name] for name in TENANT_KEYS if name in table.c]
        if not keys or all(column.nullable for column in keys):
            missing.append(table.name)
    assert missing == [], f"tables without a NOT NULL tenant key: {missing}"


def test_global_tables_exist_and_have_no_tenant_key() -> None:
    """The allowlist names real tables, and none that could be keyed already is."""
    for name in GLOBAL_TABLES:
        table = metadata.tables[name]
        assert not any(key in table.c for key in TENANT_KEYS), name
