"""The Django web layer: JSON API under /api/v1, auth and roles, the production server.

Nothing here is imported by the core. Importing this package does not import Django, so
the CLI can import `deskpulse.web.bootstrap.setup_django` before Django is configured.
"""
