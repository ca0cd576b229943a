"""The agent's HTTP face: REST under /api/v1 (described by OpenAPI), /healthz, /metrics, the kiosk."""
