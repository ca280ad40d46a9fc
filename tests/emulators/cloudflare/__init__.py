"""An emulator of the parts of Cloudflare's API v4 that homeport uses (see fixture.py)."""
