"""Use cases of memory resources (AgentCore Memory) over the core model: `memories` (the
resource, its strategies and tags), `events` (short-term memory), `records` (long-term memory
and retrieval), `extraction` (the queue jobs that derive records), `maintenance` (expiry)."""
