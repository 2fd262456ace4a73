"""Open311 GeoReport v2 under /open311/v2/ (docs/open311.md): intake's second front door."""
