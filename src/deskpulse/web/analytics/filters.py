"""The dashboard's filters as a URL carries them: team, channel, inbox, inquiry, customer
tier and language (`/analytics/?team=t-billing&channel=email`).

One reading for the page, its API twin, the drill-down and the CSV exports. A value the
data does not know is refused naming the parameter and the value (API 422, pages 400, as
for every other parameter). Which team an agent may narrow to is the query layer's
decision (their own only; another answers 404), so for an agent the team is not looked
up here: a 400 listing the teams would tell them which exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from deskpulse.events.store import Store
from deskpulse.metrics.dashboard import SCOPE_FILTERS, check_filters, filter_choices
from deskpulse.metrics.query import Filters, Viewer
from deskpulse.metrics.report import agent_directory
from deskpulse.web.accounts.teams import team_names
from deskpulse.web.params import ParameterError

# What the form calls each filter, and what "any" reads as.
LABELS: dict[str, tuple[str, str]] = {
    "team": ("Team", "All teams"),
    "channel": ("Channel", "All channels"),
    "inbox": ("Inbox", "All inboxes"),
    "inquiry": ("Inquiry", "All inquiries"),
    "customer_tier": ("Customer tier", "All tiers"),
    "language": ("Language", "All languages"),
}


def scope_params(params: Mapping[str, Any]) -> dict[str, str]:
    """The filter parameters the URL sets (blank ones are not set)."""
    values: dict[str, str] = {}
    for name in SCOPE_FILTERS:
        value = str(params.get(name) or "").strip()
        if value:
            values[name] = value
    return values


def read_scope(params: Mapping[str, Any], store: Store, viewer: Viewer) -> Filters:
    """The URL's filters, each checked against what the data knows."""
    values = scope_params(params)
    try:
        filters = Filters(**values)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else "filters"
        raise ParameterError(field, str(first["msg"]).removeprefix("Value error, ")) from None
    checked = filters.model_copy(update={"team": None}) if viewer.is_agent else filters
    check_filters(store, checked, also_known={"team": team_names().keys()})
    return filters


def filter_form(
    store: Store, viewer: Viewer, filters: Filters, kept: Mapping[str, str]
) -> dict[str, Any]:
    """The filter form's selects (value, label, chosen) and the other parameters it keeps."""
    choices = dict(filter_choices(store))
    names = team_names(choices["team"])
    if viewer.is_agent:
        # An agent may narrow to their own team only: offer no other.
        agent_id = viewer.agent_id or ""
        own = agent_directory(store).get(agent_id, {}).get("team_ids") or ()
        choices["team"] = tuple(sorted(str(t) for t in own))
    else:
        choices["team"] = tuple(sorted({*choices["team"], *names}))
    selects = []
    for name in SCOPE_FILTERS:
        label, anything = LABELS[name]
        chosen = getattr(filters, name)
        options = list(choices[name])
        if chosen is not None and chosen not in options:
            options.append(chosen)
        shown = (lambda v: names.get(v, v)) if name == "team" else (lambda v: v)
        control = f"{name.replace('_', '-')}-filter"
        if name == "team" and viewer.is_agent:
            if not options:
                continue  # in no team: nothing to narrow to
            # An agent's choice is the whole organisation or their own team's numbers
            # (team-level, naming nobody), worded as theirs.
            control, label, anything = "own-team-filter", "Your team", "Whole organisation"
        selects.append(
            {
                "name": name,
                "id": control,
                "label": label,
                "anything": anything,
                "options": [(value, shown(value), value == chosen) for value in options],
            }
        )
    hidden = {k: v for k, v in kept.items() if v and k not in SCOPE_FILTERS}
    return {
        "selects": selects,
        "hidden": hidden,
        "active": any(getattr(filters, name) is not None for name in SCOPE_FILTERS),
    }
