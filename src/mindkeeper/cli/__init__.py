"""The `mindkeeper` command line: one module per command group."""
