"""Webhook signing secrets, and what connectors made before them do.

Connectors created before signatures existed keep working after the upgrade: they get
allow_unsigned=True (their Chatwoot may be too old to sign, and nothing tells the
upgrade otherwise). The settings page and `deskpulse connect list` show them as
"unsigned allowed" until a signing secret is set. New connectors start with
allow_unsigned=False.
"""

from typing import Any, ClassVar

from django.db import migrations, models


def allow_unsigned_for_existing(apps: Any, schema_editor: Any) -> None:
    connector = apps.get_model("connectors", "Connector")
    connector.objects.all().update(allow_unsigned=True)


class Migration(migrations.Migration):
    dependencies: ClassVar[list[tuple[str, str]]] = [
        ("connectors", "0002_pinned_clock_defaults"),
    ]

    operations: ClassVar[list[Any]] = [
        migrations.AddField(
            model_name="connector",
            name="signing_secret_sealed",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="connector",
            name="signing_secret_set_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="connector",
            name="allow_unsigned",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(allow_unsigned_for_existing, migrations.RunPython.noop),
    ]
