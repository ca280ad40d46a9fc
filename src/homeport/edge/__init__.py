"""The Cloudflare edge as code: desired state, current state, plan, apply, failover, import.

``cloudflare.py`` is the only module that talks to Cloudflare. ``desired``, ``normalize``,
``diff``, ``plan``, ``safety`` and ``render`` are pure; ``current``, ``apply``, ``failover``,
``importer`` and ``preflight`` do the I/O through ``cloudflare.CloudflareApi``.
"""
