"""The job board's services: a monolith, the same API split into jobs and companies, an AI
worker fed by a Redis Stream, and a landing page. Each runs as ``python -m services.<name>``
from ``examples/jobboard``."""
