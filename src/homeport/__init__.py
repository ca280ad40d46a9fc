"""homeport: a production-shaped self-hosted platform from one declarative file."""

__version__ = "0.1.0"
