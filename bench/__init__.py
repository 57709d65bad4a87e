"""Benchmark harness for Tenantry: `python -m bench --help`.

The service runs as a separate uvicorn process on a loopback port and is driven over HTTP, so
the figures include the real server stack (uvloop, httptools, the middleware). Results land in
`bench/results/` as Markdown, JSON and PNG charts.
"""
