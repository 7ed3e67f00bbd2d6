"""People, roles and API tokens (app state in Django's database)."""
