"""Command-line options several commands share, declared once so that `report`,
`signals` and `ai-report` spell, explain and default them the same way."""

from __future__ import annotations

from typing import Annotated

import typer

PeriodOption = Annotated[
    str, typer.Option(help="7d, 14d, 30d, 90d, or custom (with --from and --to).")
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="End of the period (default: now).")
]
FromOption = Annotated[str | None, typer.Option("--from", help="Custom period start.")]
ToOption = Annotated[str | None, typer.Option("--to", help="Custom period end (exclusive).")]
