"""Seconds between two timestamps, the one duration arithmetic every fact uses.

A leaf module: facts/expressions.py and facts/business_hours.py both build on it, so
neither needs the other to measure a span.
"""

from __future__ import annotations

import ibis.expr.types as ir


def seconds_between(start: ir.TimestampValue, stop: ir.TimestampValue) -> ir.FloatingValue:
    # A microsecond difference, which every backend agrees on exactly (AI agents answer
    # in under a second).
    return stop.delta(start, unit="microsecond").cast("float64") / 1_000_000
