"""The errors the gateway raises on purpose.

HomeportError
└── GatewayError            the gateway cannot start or do what was asked
    ├── GatewayConfigError  the gateway section (routes, CORS, targets) cannot be used
    └── GeoDatabaseError    the GeoIP database is missing, unreadable or not City data
"""

from __future__ import annotations

from homeport.errors import HomeportError


class GatewayError(HomeportError):
    """The gateway cannot start or do what was asked."""


class GatewayConfigError(GatewayError):
    """The platform file's gateway section cannot be used as written."""


class GeoDatabaseError(GatewayError):
    """The GeoIP database cannot be opened or is not a GeoLite2/GeoIP2 City database."""
