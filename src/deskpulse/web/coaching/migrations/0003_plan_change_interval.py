# Now against Start with its interval (issue 15: "achieved" only beyond noise).

from typing import Any, ClassVar

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies: ClassVar[list[tuple[str, str]]] = [
        ("coaching", "0002_pinned_clock_defaults"),
    ]

    operations: ClassVar[list[Any]] = [
        migrations.AddField(
            model_name="plan",
            name="change",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="plan",
            name="change_low",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="plan",
            name="change_high",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="plan",
            name="change_method",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
    ]
