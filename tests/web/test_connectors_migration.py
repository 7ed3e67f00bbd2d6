"""Upgrading: connectors made before signing secrets keep receiving webhooks.

Migration 0003 sets allow_unsigned on every existing connector (their Chatwoot may be
too old to sign); a connector created afterwards starts with allow_unsigned off.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from deskpulse.web.connectors.models import Connector
from deskpulse.web.connectors.service import create_connector

BEFORE = [("connectors", "0002_pinned_clock_defaults")]
AFTER = [("connectors", "0003_signing_secret")]


@pytest.mark.django_db(transaction=True)
def test_existing_connectors_allow_unsigned_after_the_upgrade() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    old_model = old_apps.get_model("connectors", "Connector")
    old = old_model.objects.create(kind="chatwoot", name="before", secret_hash="a" * 64)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)

    upgraded = Connector.objects.get(pk=old.pk)
    assert upgraded.allow_unsigned is True
    assert upgraded.signing_state == "unsigned allowed"
    new, _ = create_connector("chatwoot", "after")
    assert new.allow_unsigned is False
    assert new.signing_state == "refusing: no secret"
