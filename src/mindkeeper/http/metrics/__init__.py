"""Observability of the HTTP server: Prometheus metrics, request ids, the /metrics route.

`surfaces` names the surface and route template of a request (a surface added later
registers its prefixes there), `collect` holds the metrics and what feeds them (requests,
models, embedder, database pool, queue and size), `middleware` times every request and sets
its id, `route` serves /metrics. With several worker processes (`serve --workers N`) the
values live in files under PROMETHEUS_MULTIPROC_DIR, which `mindkeeper serve` manages.
"""
