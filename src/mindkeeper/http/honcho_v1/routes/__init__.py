"""Routers of the Honcho v1 surface, one module per resource."""
