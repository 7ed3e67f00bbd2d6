"""One reading of a period for every surface (metrics/window.py), with worked examples."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from deskpulse.metrics.periods import PeriodInputError, named_period
from deskpulse.metrics.window import Window, read_moment, read_window

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def test_a_date_as_of_means_through_the_end_of_that_day() -> None:
    # The case: the CLI used to read as_of=2026-03-08 as its first instant, so its
    # 30 days ran 02-06 .. 03-08 while the pages' ran 02-07 .. 03-09.
    window = read_window(period="30d", as_of="2026-03-08", tz=UTC, now=NOW)
    assert window == Window(period="30d", as_of=datetime(2026, 3, 9, tzinfo=UTC))
    period = named_period("30d", window.as_of or NOW, UTC)
    assert (period.start, period.end) == (
        datetime(2026, 2, 7, tzinfo=UTC),
        datetime(2026, 3, 9, tzinfo=UTC),
    )


def test_custom_dates_are_whole_days_in_the_reporting_time_zone() -> None:
    # TWCS: --from 2017-10-01 --to 2017-10-31 is all 31 days of October, in Berlin time.
    window = read_window(
        period="custom", start="2017-10-01", end="2017-10-31", tz=BERLIN, now=NOW,
        earliest=date(2000, 1, 1),
    )  # fmt: skip
    assert window.start == datetime(2017, 10, 1, tzinfo=BERLIN)
    assert window.end == datetime(2017, 11, 1, tzinfo=BERLIN)
    assert window.start.utcoffset() != window.end.utcoffset()  # DST ended on 2017-10-29


def test_a_timestamp_means_exactly_that_instant() -> None:
    window = read_window(period="7d", as_of="2026-03-08T18:30:00+01:00", tz=UTC, now=NOW)
    assert window.as_of == datetime(2026, 3, 8, 17, 30, tzinfo=UTC)
    assert read_moment("2026-03-08T17:30:00Z", "as_of", UTC, day_end=True, now=NOW) == (
        datetime(2026, 3, 8, 17, 30, tzinfo=UTC)
    )


def test_nothing_given_is_thirty_days_up_to_now() -> None:
    assert read_window(period=None, tz=UTC, now=NOW) == Window(period="30d", as_of=None)


@pytest.mark.parametrize(
    ("asked", "field", "words"),
    [
        ({"period": "31d"}, "period", "choose one of 7d, 14d, 30d, 90d, custom"),
        ({"period": "7d", "as_of": "yesterday"}, "as_of", "is not a date or a time"),
        ({"period": "7d", "as_of": "2026-03-08T18:30:00"}, "as_of", "has no offset"),
        ({"period": "7d", "as_of": "9999-12-31"}, "as_of", "dates from 2000-01-01"),
        ({"period": "7d", "as_of": "1999-12-31"}, "as_of", "dates from 2000-01-01"),
        ({"period": "custom", "start": "2026-03-01"}, "to", "needs both from and to"),
        ({"period": "custom", "start": "2026-03-09", "end": "2026-03-01"}, "to", "end after"),
        ({"period": "custom", "start": "2024-01-01", "end": "2026-03-01"}, "to", "400 days"),
    ],
)
def test_what_cannot_be_read_names_its_parameter(
    asked: dict[str, str], field: str, words: str
) -> None:
    with pytest.raises(PeriodInputError) as raised:
        read_window(tz=UTC, now=NOW, **asked)  # type: ignore[arg-type]
    assert raised.value.field == field
    assert words in raised.value.message


def test_an_install_that_accepts_older_events_may_ask_about_them() -> None:
    window = read_window(
        period="custom", start="1995-01-01", end="1995-01-31", tz=UTC, now=NOW,
        earliest=date(1990, 1, 1),
    )  # fmt: skip
    assert window.start == datetime(1995, 1, 1, tzinfo=UTC)
