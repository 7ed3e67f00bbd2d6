"""Who an agent id is, and whether there is anything to show for them."""

from __future__ import annotations

from dataclasses import dataclass

from deskpulse.events.store import Store
from deskpulse.facts.build import facts_exist
from deskpulse.metrics.query import NotVisibleError, Viewer
from deskpulse.metrics.registry import AGENT_CONVERSATIONS
from deskpulse.metrics.report import agent_directory


@dataclass(frozen=True)
class Agent:
    agent_id: str
    name: str
    kind: str  # human | ai
    team_ids: tuple[str, ...]
    active: bool


def find_agent(store: Store, agent_id: str, viewer: Viewer) -> Agent:
    """The agent `viewer` may open, or NotVisibleError.

    Known means announced by agent.upserted or present in the agent facts; anything else
    is refused the same way as another agent's id, so ids cannot be probed.
    """
    if viewer.is_agent and viewer.agent_id != agent_id:
        raise NotVisibleError("no such agent")
    known = agent_directory(store).get(agent_id)
    if known is not None:
        return Agent(
            agent_id=agent_id,
            name=str(known.get("name") or agent_id),
            kind=str(known.get("kind") or "human"),
            team_ids=tuple(known.get("team_ids") or ()),
            active=bool(known.get("active", True)),
        )
    if facts_exist(store):
        table = store.con.table(AGENT_CONVERSATIONS)
        rows = int(table.filter(table.agent_id == agent_id).count().to_pyarrow().as_py())
        if rows:
            return Agent(agent_id, agent_id, "human", (), True)
    raise NotVisibleError("no such agent")
