"""Moving data in and out: export and import as versioned JSON Lines, and SQLite backups.

`format` (the file format), `plan` (which tables, in which order, from the table metadata),
`exporter` and `importer` (streaming, constant memory), `backup` (SQLite's online backup).
"""
