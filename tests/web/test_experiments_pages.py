"""The /experiments pages: the list, one experiment's result with every statistic, the
definition form with its field-named errors, and who may open what.

The events are tests/experiments_scenario.py's small experiment; every URL pins `as_of`
so the results are read after the experiment ended, whatever day the suite runs.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.events.store import Store
from deskpulse.web.experiments.models import Experiment
from tests.experiments_scenario import KEY, planted, small_experiment
from tests.factories import ingest_and_build

pytestmark = pytest.mark.django_db

AS_OF = "as_of=2026-03-20"
LIST = "/experiments/"
DETAIL = f"/experiments/{KEY}/"
EDIT = f"/experiments/{KEY}/edit/"
NEW = "/experiments/new/"


def define(**changes: Any) -> Experiment:
    fields: dict[str, Any] = {
        "key": KEY,
        "name": "Shorter AI replies",
        "hypothesis": "Concise replies resolve more chats alone.",
        "variants": ["control", "concise"],
        "planned_split": [50.0, 50.0],
        "primary_metric": "ai_resolved_rate",
        "guardrail_metrics": ["csat_mean", "cost_per_conversation"],
        "start_date": date(2026, 3, 2),
        "end_date": date(2026, 3, 8),
        "mde_percent": 50.0,
    }
    fields.update(changes)
    return Experiment.objects.create(**fields)


@pytest.fixture
def small(api_store: Store) -> Experiment:
    ingest_and_build(api_store, small_experiment().events)
    return define()


def form_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": "welcome-message",
        "name": "Friendlier welcome",
        "hypothesis": "",
        "control": "control",
        "treatment": "friendly",
        "primary_metric": "csat_mean",
        "guardrail_metrics": ["escalation_rate", "turns_mean"],
        "start_date": "2026-04-01",
        "end_date": "2026-04-30",
        "alpha": "0.05",
        "mde_percent": "5",
        "treatment_percent": "50",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def page(client: Client, user: User, url: str) -> Any:
    client.force_login(user)
    return client.get(f"{url}?{AS_OF}")


# -- reading ------------------------------------------------------------------------------


def test_list_shows_status_exposures_and_verdict(
    client: Client, agent: User, small: Experiment
) -> None:
    response = page(client, agent, LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-experiment="reply-style"' in html
    assert "Shorter AI replies" in html
    assert "Ended" in html
    assert "control: 3" in html
    assert "concise: 4" in html
    assert "Keep running" in html  # far too little data for a verdict
    assert "Define an experiment" not in html  # agents read, never edit


def test_result_page_has_every_number(client: Client, owner: User, small: Experiment) -> None:
    response = page(client, owner, DETAIL)
    assert response.status_code == 200
    html = response.content.decode()
    # Each variant's value and n.
    assert 'data-metric="ai_resolved_rate"' in html
    assert "33.3%" in html
    assert "100.0%" in html
    assert "n 3" in html
    # Difference in points, lift with its interval, both p-values, the test.
    assert "+66.7 pp" in html
    assert "+200.0%" in html
    assert "95% CI" in html
    assert "two-proportion z-test" in html
    assert "Welch&#x27;s t-test" in html
    assert "Holm p" in html
    # SRM against the plan, gates, power, the data-quality warnings.
    assert "Sample ratio check (SRM)" in html
    assert "matches the planned 50% / 50% split" in html
    assert "minimum 100 per variant" in html
    assert "Days to decision" in html
    assert "exposed to more than one variant" in html
    assert "verbose" in html
    # The recommendation and why, and the explanation of the rule.
    assert "Recommendation: Keep running" in html
    assert "not enough data" in html
    assert "after correcting for the number of metrics" in html
    assert "any lift over 5% is significant" in html
    # The chart, drawn by the locally served Plotly.
    assert 'id="chart-lift"' in html
    assert "/static/plotly/plotly.min.js" in html
    assert "Edit" in html


def test_a_shipped_experiment_says_why(client: Client, admin: User, api_store: Store) -> None:
    ingest_and_build(api_store, planted(200, 0.2, 0.6).events)
    define(guardrail_metrics=["escalation_rate"], mde_percent=100.0)
    html = page(client, admin, DETAIL).content.decode()
    assert "Recommendation: Ship" in html
    assert "Ship concise: the primary metric&#x27;s lift (+" in html
    assert "significantly better" in html
    # One guardrail: the plan tests the primary at alpha / 2 (Holm's worst case).
    assert "the primary tested at 0.025 (Holm over 2 metrics)" in html
    # Fixed-horizon: locked on the day the planned sample was reached, and it says so.
    assert "Locked since 2026-03-04" in html
    assert "data-locked" in html


def test_an_inconclusive_experiment_says_so(client: Client, admin: User, api_store: Store) -> None:
    ingest_and_build(api_store, planted(200, 0.40, 0.45).events)
    define(guardrail_metrics=[], mde_percent=35.0)
    html = page(client, admin, DETAIL).content.decode()
    assert "Recommendation: Inconclusive" in html
    assert "the primary tested at 0.05" in html  # no guardrail: no Holm cost
    assert "cannot tell the variants apart" in html
    assert "Locked since" in html


def test_sequential_experiments_show_always_valid_intervals(
    client: Client, owner: User, small: Experiment
) -> None:
    small.sequential = True
    small.save()
    html = page(client, owner, DETAIL).content.decode()
    assert "Always-valid intervals" in html
    assert "always-valid p" in html


def test_unknown_key_is_404(client: Client, owner: User, agent: User, small: Experiment) -> None:
    for user in (owner, agent):
        assert page(client, user, "/experiments/no-such/").status_code == 404
        client.force_login(user)
        assert client.get("/experiments/no-such/edit/").status_code == 404


@pytest.mark.parametrize(
    ("who", "list_status", "detail_status", "form_status"),
    [
        ("owner", 200, 200, 200),
        ("admin", 200, 200, 200),
        ("agent", 200, 200, 404),
        ("outsider", 403, 403, 404),
    ],
)
def test_who_may_open_what(
    request: pytest.FixtureRequest,
    client: Client,
    small: Experiment,
    who: str,
    list_status: int,
    detail_status: int,
    form_status: int,
) -> None:
    user: User = request.getfixturevalue(who)
    assert page(client, user, LIST).status_code == list_status
    assert page(client, user, DETAIL).status_code == detail_status
    assert client.get(NEW).status_code == form_status
    assert client.get(EDIT).status_code == form_status


def test_anonymous_visitors_sign_in_first(client: Client, small: Experiment) -> None:
    for url in (LIST, DETAIL, NEW, EDIT):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


# -- defining ---------------------------------------------------------------------------------


def test_owner_defines_an_experiment(client: Client, owner: User) -> None:
    client.force_login(owner)
    assert client.get(NEW).status_code == 200
    response = client.post(NEW, form_body())
    assert response.status_code == 302
    assert response["Location"] == "/experiments/welcome-message/"
    saved = Experiment.objects.get(key="welcome-message")
    assert saved.variants == ["control", "friendly"]
    assert saved.planned_split == [50.0, 50.0]
    # Stored in the registry's order, whatever order they were ticked in.
    assert saved.guardrail_metrics == ["escalation_rate", "turns_mean"]
    assert saved.created_by == owner
    assert saved.alpha == 0.05
    assert not saved.sequential
    assert client.get("/experiments/welcome-message/").status_code == 200


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"treatment": "control"}, "Treatment variant: must differ from the control variant"),
        ({"end_date": "2026-03-01"}, "End date: must not be before the start date"),
        ({"primary_metric": "nps"}, "Primary metric: Select a valid choice"),
        ({"key": "has space"}, "Key: use letters, digits"),
        ({"key": "new"}, "Key: &#x27;new&#x27; is reserved"),
        ({"alpha": "0.5"}, "Alpha: must be between 0.001 and 0.2"),
        ({"treatment_percent": "100"}, "Planned treatment share (%): must be between 1 and 99"),
        ({"guardrail_metrics": ["csat_mean"]}, "Guardrail metrics: the primary metric cannot"),
        ({"start_date": "soon"}, "Start date: Enter a valid date."),
        ({"name": None}, "Name: This field is required."),
    ],
)
def test_form_errors_name_the_field(
    client: Client, admin: User, changes: dict[str, Any], message: str
) -> None:
    client.force_login(admin)
    response = client.post(NEW, form_body(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Experiment.objects.exists()


def test_keys_are_unique(client: Client, admin: User, small: Experiment) -> None:
    client.force_login(admin)
    response = client.post(NEW, form_body(key=KEY))
    assert response.status_code == 400
    assert "an experiment with the key" in response.content.decode()


def test_admin_edits_but_not_the_key(client: Client, admin: User, small: Experiment) -> None:
    client.force_login(admin)
    form = client.get(EDIT)
    assert form.status_code == 200
    assert "Shorter AI replies" in form.content.decode()
    body = form_body(
        key="renamed",
        name="Shorter replies, v2",
        control="control",
        treatment="concise",
        primary_metric="ai_resolved_rate",
        start_date="2026-03-02",
        end_date="2026-03-08",
    )
    response = client.post(EDIT, body)
    assert response.status_code == 302, response.content.decode()
    small.refresh_from_db()
    assert small.key == KEY
    assert small.name == "Shorter replies, v2"
    assert small.updated_by == admin


def test_agents_cannot_edit(client: Client, agent: User, small: Experiment) -> None:
    client.force_login(agent)
    assert client.post(EDIT, form_body(name="hijacked")).status_code == 404
    assert client.post(NEW, form_body()).status_code == 404
    small.refresh_from_db()
    assert small.name == "Shorter AI replies"
    assert Experiment.objects.count() == 1


def test_nav_has_experiments(client: Client, agent: User, small: Experiment) -> None:
    html = page(client, agent, LIST).content.decode()
    assert '<a href="/experiments/" aria-current="page">Experiments</a>' in html


def test_a_guardrail_short_of_the_planned_sample_is_not_read_as_settled(
    client: Client, admin: User, api_store: Store
) -> None:
    """Fixed-horizon, far from its planned sample: a guardrail that moved reads "looks …;
    planned sample not reached" in the table, as the recommendation says, never
    "significantly …"."""
    ingest_and_build(api_store, planted(200, 0.2, 0.6).events)
    define(
        primary_metric="cost_per_conversation",
        guardrail_metrics=["ai_resolved_rate"],
        mde_percent=1.0,
        end_date=None,
    )
    soup = BeautifulSoup(page(client, admin, DETAIL).content, "html.parser")
    row = soup.select_one('tr[data-metric="ai_resolved_rate"]')
    assert row is not None
    assert "looks better; planned sample not reached" in row.get_text(" ")
    assert "significantly" not in row.get_text(" ")
