"""Clients for external capabilities (embedding, LLM) that implement the core ports."""
