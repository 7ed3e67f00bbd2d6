"""What every JSON API endpoint shares, and the API itself.

- v1.py: the NinjaAPI mounted at /api/v1/, mounting each feature's router
  (`web/<feature>/api.py`) and the API's own endpoints (core.py: /health, /events,
  /query, /report, /rejected);
- auth.py: the one auth rule, sessions and tokens alike (READ, WRITE, INGEST);
- viewer.py: who is asking and what they may see;
- contract.py: what every operation promises (unknown parameters refused, statuses
  documented);
- errors.py: the one error shape; problems.py: the one mapping from a core error to HTTP,
  used by the API and the pages alike;
- bodies.py: reading request bodies (JSON, JSON Lines, gzip) within the limits.

The API lives in v1.py rather than here so that importing any of these modules (every
feature does) does not import every feature's router in turn.
"""
