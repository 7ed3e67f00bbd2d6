# A person's own time zone for the digest's day and hour; empty: the reporting one.

from typing import ClassVar

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies: ClassVar[list[tuple[str, str]]] = [
        ("digest", "0001_initial"),
    ]

    operations: ClassVar[list[migrations.operations.base.Operation]] = [
        migrations.AddField(
            model_name="digestpreference",
            name="timezone",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
    ]
