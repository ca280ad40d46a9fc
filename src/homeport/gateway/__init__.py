"""The edge gateway: header-routed reverse proxy with geo lookups, CORS and telemetry."""
