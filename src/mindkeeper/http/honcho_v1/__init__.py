"""The Honcho v1 wire surface (`/v1/...`), compatible with Honcho v1.1.0 and honcho-ai 0.2.0."""
