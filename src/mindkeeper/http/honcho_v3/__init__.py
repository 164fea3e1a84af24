"""The Honcho v3 surface (`/v3/...`): workspaces, peers, sessions, messages, conclusions."""
