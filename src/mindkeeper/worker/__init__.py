"""Background work of the server process: periodic maintenance (agent-session expiry and purge)."""
