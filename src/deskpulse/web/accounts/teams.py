"""Team display names, and the teams the events know about.

The events carry team ids (`agent.upserted.team_ids`, `conversation.assigned.team_id`);
people know teams by name. Owners name them on Settings → Teams; every page that shows a
team calls `team_names` so an unnamed team still shows, by its id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from deskpulse.web.accounts.models import Team


class TeamError(ValueError):
    """A team change that cannot be done; `field` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class TeamRow:
    team_id: str
    name: str
    named: bool  # a name was saved (otherwise `name` is the id)
    in_events: bool
    agents: int  # active agents in the team, from the latest agent.upserted


def team_names(team_ids: Iterable[str] = ()) -> dict[str, str]:
    """Team id -> display name: every saved name, plus each id in `team_ids` (its own
    id when it has no name yet). Look ids up with `.get(team_id, team_id)`."""
    names = {team_id: team_id for team_id in team_ids if team_id}
    names.update(dict(Team.objects.values_list("team_id", "name")))
    return names


def team_rows(directory: Mapping[str, Mapping[str, Any]]) -> list[TeamRow]:
    """Every team seen in the agent directory plus the saved ones, by display name."""
    active: dict[str, int] = {}
    seen: set[str] = set()
    for agent in directory.values():
        for team_id in agent.get("team_ids") or ():
            seen.add(team_id)
            if agent.get("active", True):
                active[team_id] = active.get(team_id, 0) + 1
    saved = dict(Team.objects.values_list("team_id", "name"))
    rows = [
        TeamRow(
            team_id=team_id,
            name=saved.get(team_id, team_id),
            named=team_id in saved,
            in_events=team_id in seen,
            agents=active.get(team_id, 0),
        )
        for team_id in seen | set(saved)
    ]
    return sorted(rows, key=lambda row: (row.name.casefold(), row.team_id))


def _team_id(team_id: str) -> str:
    cleaned = team_id.strip()
    if not cleaned:
        raise TeamError("team_id", "a team id is required: the team_id your events carry")
    if len(cleaned) > 256:
        raise TeamError("team_id", "a team id has at most 256 characters")
    return cleaned


def _name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise TeamError("name", "a team needs a name")
    if len(cleaned) > 100:
        raise TeamError("name", "a team name has at most 100 characters")
    return cleaned


def add_team(team_id: str, name: str) -> Team:
    """Name a team id that has no name yet (it need not be in the events yet)."""
    key, label = _team_id(team_id), _name(name)
    if Team.objects.filter(team_id=key).exists():
        raise TeamError("team_id", f"team {key!r} already has a name; rename it in the list")
    try:
        with transaction.atomic():
            return Team.objects.create(team_id=key, name=label)
    except IntegrityError:
        raise TeamError("team_id", f"team {key!r} already has a name") from None


def name_team(team_id: str, name: str) -> Team:
    """Set or change a team's display name."""
    key, label = _team_id(team_id), _name(name)
    team, _ = Team.objects.update_or_create(team_id=key, defaults={"name": label})
    return team


def forget_team(team_id: str) -> None:
    """Drop a saved name; the team shows by its id again (the events are untouched)."""
    Team.objects.filter(team_id=team_id.strip()).delete()


def require_team(directory: Mapping[str, Mapping[str, Any]], team: str | None) -> None:
    """Nothing when `team` is None, a team an agent belongs to, or one with a saved name;
    otherwise ParameterError naming the value (a typo must not read as an empty team)."""
    from deskpulse.web.params import ParameterError

    if team is None:
        return
    known = {str(t) for agent in directory.values() for t in agent.get("team_ids") or ()}
    if team in known or Team.objects.filter(team_id=team).exists():
        return
    shown = ", ".join(sorted(known)[:20]) or "none yet"
    raise ParameterError("team", f"there is no team {team!r} (teams: {shown})")
