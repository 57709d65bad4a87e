"""What operators watch: structured logs, Prometheus metrics, readiness."""
