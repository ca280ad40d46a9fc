"""The dashboard: an OTLP receiver, a bounded telemetry store, and the web UI over both."""
