"""/models/, /models/topics/ and /api/v1/models…: what each role sees and may do.

The model page is for every member and names no agent; its numbers are the current
version's cards. Topic review is for admins and owners: an agent gets 403 on the page and
the API (the examples quote customers across the whole team), and cannot change a topic.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import User
from django.test import Client, override_settings

from deskpulse.events.store import open_store
from deskpulse.models.cards import ModelCards
from deskpulse.models.topics import TopicBook, discover, load_book, save_topics
from deskpulse.models.training import model_cards, train
from deskpulse.settings import Settings
from tests.models.helpers import THEMES, generated_folder
from tests.web.conftest import MakeToken
from tests.web.web_helpers import assert_error

pytestmark = pytest.mark.django_db

TRAINED_AT = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def trained_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with models trained on 8,000 generated conversations (seed 11): one
    channel passes the quality gate, the others fall back, each for its own reason."""
    settings = generated_folder(tmp_path_factory.mktemp("model-pages") / "data", conversations=8000)
    store = open_store(settings)
    try:
        train(store, settings, now=TRAINED_AT)
    finally:
        store.close()
    return settings.data_dir


def _planted_topics(settings: Settings) -> TopicBook:
    ids, texts = [], []
    for theme, phrasings in THEMES.items():
        for i in range(30):
            ids.append(f"{theme}-{i}")
            texts.append(f"{phrasings[i % len(phrasings)]} (case {i})")
    model, book = discover(ids, texts, k=3, discovered_at=TRAINED_AT)
    save_topics(settings, model, book)
    return book


@pytest.fixture
def install(trained_folder: Path, tmp_path: Path) -> Iterator[Settings]:
    """The web app serving a copy of the trained folder, with three planted topics."""
    folder = tmp_path / "install"
    shutil.copytree(trained_folder, folder, ignore=shutil.ignore_patterns("*.duckdb*"))
    settings = Settings(data_dir=folder)
    _planted_topics(settings)
    with override_settings(DESKPULSE_SETTINGS=settings):
        yield settings


@pytest.fixture
def empty_install(tmp_path: Path) -> Iterator[Settings]:
    settings = Settings(data_dir=tmp_path / "empty")
    with override_settings(DESKPULSE_SETTINGS=settings):
        yield settings


def _page(client: Client, user: User, url: str, status: int = 200) -> BeautifulSoup:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status, response.content[:400]
    return BeautifulSoup(response.content, "html.parser")


def _text(node: Any) -> str:
    assert node is not None
    return " ".join(node.get_text(" ", strip=True).split())


def _figures(soup: BeautifulSoup) -> dict[str, Any]:
    script = soup.find("script", id="figures")
    assert script is not None
    loaded: dict[str, Any] = json.loads(script.string or "{}")
    return loaded


# -- the model page ---------------------------------------------------------------------------


def test_every_member_opens_the_model_page(
    client: Client, install: Settings, owner: User, admin: User, agent: User
) -> None:
    for user in (owner, admin, agent):
        soup = _page(client, user, "/models/")
        current = soup.select_one('nav a[aria-current="page"]')
        assert _text(current) == "Models"
        assert _text(soup.find("h1")) == "Models"


def test_anonymous_and_roleless_visitors(client: Client, install: Settings, outsider: User) -> None:
    response = client.get("/models/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    client.force_login(outsider)
    assert client.get("/models/").status_code == 403


def test_shows_the_cards_numbers(client: Client, install: Settings, admin: User) -> None:
    cards = model_cards(install)
    assert cards.version is not None
    soup = _page(client, admin, "/models/")
    assert cards.version in _text(soup.select_one(".models-version"))
    classifier = cards.classifier
    assert classifier is not None
    assert classifier.macro_f1 is not None
    assert classifier.baseline_macro_f1 is not None
    section = soup.select_one(".classifier-card")
    assert section is not None
    assert _text(section.select_one('[data-metric="macro_f1"]')) == f"{classifier.macro_f1:.3f}"
    assert (
        _text(section.select_one('[data-metric="baseline_macro_f1"]'))
        == f"{classifier.baseline_macro_f1:.3f}"
    )
    assert len(section.select("table.per-class tbody tr")) == classifier.classes == 20
    figures = _figures(soup)
    for index, card in enumerate(cards.channels):
        block = soup.select_one(f'.channel-card[data-channel="{card.channel}"]')
        assert block is not None
        assert block["data-status"] == card.status
        assert card.reason in _text(block.select_one(".reason"))
        badge = {"ok": "Predicting", "partial": "Partly predicting", "fallback": "Measured rates"}
        assert badge[card.status] in _text(block.find("h2"))
        for outcome in (card.satisfaction, card.resolution):
            row = block.select_one(f'tr[data-outcome="{outcome.outcome}"]')
            assert row is not None
            assert row["data-passed"] == ("yes" if outcome.passed else "no")
            # Each outcome says whether it is used; a failed one is never called predicting.
            predicts = card.outcome_status(outcome.outcome).status == "ok"
            assert predicts == outcome.passed
            assert row["data-source"] == ("model" if predicts else "measured")
            use = _text(row.select_one("[data-use]"))
            assert use == "Predicts" if predicts else use.startswith("Not used: the page shows")
            expected_auc = "\u2013" if outcome.auc is None else f"{outcome.auc:.3f}"
            assert _text(row.select_one('[data-metric="auc"]')) == expected_auc
            assert _text(row.select_one('[data-metric="positives"]')) == f"{outcome.positives:,}"
            assert _text(row.select_one('[data-metric="negatives"]')) == f"{outcome.negatives:,}"
            if not outcome.passed:
                assert outcome.reason in _text(row)
        figure = figures.get(f"calibration-{index}")
        measured = [o for o in (card.satisfaction, card.resolution) if o.calibration]
        if not measured:
            assert figure is None
            continue
        assert figure is not None
        diagonal = figure["data"][0]
        assert diagonal["x"] == [0, 1]
        assert diagonal["y"] == [0, 1]
        for trace, outcome in zip(figure["data"][1:], measured, strict=True):
            assert trace["x"] == [b.predicted for b in outcome.calibration]
            assert trace["y"] == [b.observed for b in outcome.calibration]
    # The generated data: satisfaction predicts somewhere, resolution falls back somewhere.
    outcomes = [
        card.outcome_status(name).status
        for card in cards.channels
        for name in ("satisfaction", "resolution")
    ]
    assert "ok" in outcomes
    assert "fallback" in outcomes


def _agent_names(folder: Path) -> set[str]:
    names = set()
    for line in (folder / "generated.jsonl").read_bytes().splitlines():
        event = orjson.loads(line)
        if event["type"] == "agent.upserted":
            names.add(event["name"])
    return names


def test_names_no_agent(
    client: Client, install: Settings, trained_folder: Path, agent: User, owner: User
) -> None:
    names = _agent_names(trained_folder)
    assert len(names) > 10
    for user in (agent, owner):
        client.force_login(user)
        html = client.get("/models/").content.decode()
        assert not [name for name in names if name in html]
        assert not [name for name in names if name in client.get("/api/v1/models").content.decode()]


def test_agents_get_no_topic_link(
    client: Client, install: Settings, admin: User, agent: User
) -> None:
    assert _page(client, admin, "/models/").find("a", href="/models/topics/") is not None
    assert _page(client, agent, "/models/").find("a", href="/models/topics/") is None


def test_before_any_training(client: Client, empty_install: Settings, owner: User) -> None:
    soup = _page(client, owner, "/models/")
    assert "No models trained yet" in _text(soup.find("main"))
    assert "deskpulse train" in _text(soup.find("main"))


def test_an_unreadable_version_is_shown(client: Client, install: Settings, owner: User) -> None:
    version = model_cards(install).version
    (install.data_dir / "models" / str(version) / "manifest.json").write_text("{")
    soup = _page(client, owner, "/models/")
    alert = _text(soup.select_one(".models-error"))
    assert "cannot be read" in alert
    assert "corrupt" in alert


# -- topic review -----------------------------------------------------------------------------


def test_admins_review_topics(client: Client, install: Settings, admin: User) -> None:
    book = load_book(install)
    assert book is not None
    soup = _page(client, admin, "/models/topics/")
    cards = soup.select(".topic-card")
    assert len(cards) == 3
    for card, topic in zip(cards, book.topics, strict=True):
        assert _text(card.select_one(".terms")) == ", ".join(topic.terms)
        assert len(card.select(".topic-examples li")) == len(topic.examples)
        assert card.find("input", attrs={"name": "csrfmiddlewaretoken"}) is not None


def test_agents_cannot_open_topic_review(client: Client, install: Settings, agent: User) -> None:
    soup = _page(client, agent, "/models/topics/", status=403)
    assert "for admins and owners" in _text(soup.find("main"))
    assert not soup.select(".topic-card")


def _post(client: Client, data: dict[str, Any]) -> Any:
    return client.post("/models/topics/", data)


def test_name_merge_ignore_by_form(client: Client, install: Settings, owner: User) -> None:
    client.force_login(owner)
    response = _post(client, {"action": "name", "topic": "1", "name": "Refunds"})
    assert response.status_code == 302
    assert response["Location"] == "/models/topics/"
    page = BeautifulSoup(client.get("/models/topics/").content, "html.parser")
    assert "Topic 1 is now the inquiry 'Refunds'." in _text(page.select_one(".messages"))
    assert page.select_one('.topic-card[data-topic="1"]')["data-status"] == "named"  # type: ignore[index]
    assert (
        _post(client, {"action": "merge", "topics": ["2", "3"], "name": "Other"}).status_code == 302
    )
    assert _post(client, {"action": "ignore", "topic": "3"}).status_code == 302
    book = load_book(install)
    assert book is not None
    assert [(t.status, t.name) for t in book.topics] == [
        ("named", "Refunds"),
        ("named", "Other"),
        ("ignored", None),
    ]


def test_bad_form_input_is_explained(client: Client, install: Settings, owner: User) -> None:
    client.force_login(owner)
    before = load_book(install)
    for data, message in (
        ({"action": "name", "topic": "1", "name": "  "}, "give the topic a name"),
        ({"action": "name", "topic": "7", "name": "X"}, "no topic 7; the topics are 1, 2, 3"),
        ({"action": "merge", "topics": ["2"], "name": "X"}, "at least two different topics"),
        ({"action": "rename", "topic": "1"}, "'rename' is not one of name, merge, ignore"),
        ({"action": "ignore", "topic": "one"}, "'one' is not a topic number"),
    ):
        response = _post(client, data)
        assert response.status_code == 400, data
        soup = BeautifulSoup(response.content, "html.parser")
        assert message in _text(soup.select_one(".notice.error"))
    assert load_book(install) == before


def test_agents_cannot_change_topics(client: Client, install: Settings, agent: User) -> None:
    before = load_book(install)
    client.force_login(agent)
    response = _post(client, {"action": "name", "topic": "1", "name": "Mine"})
    assert response.status_code == 403
    assert load_book(install) == before


def test_topic_forms_need_the_csrf_token(install: Settings, owner: User) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    before = load_book(install)
    assert _post(strict, {"action": "ignore", "topic": "1"}).status_code == 403
    assert load_book(install) == before


# -- the API ----------------------------------------------------------------------------------


def test_api_models_for_members_and_read_tokens(
    client: Client, install: Settings, agent: User, make_token: MakeToken, owner: User
) -> None:
    assert_error(client.get("/api/v1/models"), 401, "missing_token")
    client.force_login(agent)
    body = client.get("/api/v1/models").json()
    cards: ModelCards = model_cards(install)
    assert body["version"] == cards.version
    assert [c["channel"] for c in body["channels"]] == [c.channel for c in cards.channels]
    assert body["channels"][0]["satisfaction"]["auc"] == cards.channels[0].satisfaction.auc
    for shown, card in zip(body["channels"], cards.channels, strict=True):
        assert shown["status"] == card.status
        for name in ("satisfaction", "resolution"):
            found = card.outcome_status(name)  # type: ignore[arg-type]
            assert shown["outcomes"][name]["status"] == found.status
            assert shown["outcomes"][name]["reason"] == found.reason
            assert found.status == ("ok" if card.outcome(name).passed else "fallback")  # type: ignore[arg-type]
    assert body["classifier"]["macro_f1"] == cards.classifier.macro_f1  # type: ignore[union-attr]
    client.logout()
    token = make_token(owner, ("read",))
    by_token = client.get("/api/v1/models", headers={"Authorization": f"Bearer {token}"})
    assert by_token.status_code == 200
    assert by_token.json() == body


def test_api_topics_are_for_admins(
    client: Client, install: Settings, admin: User, agent: User
) -> None:
    client.force_login(agent)
    assert_error(client.get("/api/v1/models/topics"), 403, "admins_only")
    client.force_login(admin)
    body = client.get("/api/v1/models/topics").json()
    assert [t["topic_id"] for t in body["topics"]] == [1, 2, 3]


def _decide(client: Client, topic: int | str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(
        f"/api/v1/models/topics/{topic}",
        orjson.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def test_api_decisions(
    client: Client, install: Settings, admin: User, owner: User, make_token: MakeToken
) -> None:
    client.force_login(admin)
    named = _decide(client, 1, {"action": "name", "name": "Refunds"})
    assert named.status_code == 200, named.content
    assert named.json()["topics"][0]["name"] == "Refunds"
    merged = _decide(client, 2, {"action": "merge", "name": "Other", "merge_with": [3]})
    assert [t["name"] for t in merged.json()["topics"]] == ["Refunds", "Other", "Other"]
    assert_error(_decide(client, 9, {"action": "ignore"}), 404, "not_found", "topic")
    assert_error(_decide(client, 1, {"action": "name", "name": ""}), 422, "invalid_request", "name")
    assert_error(_decide(client, 1, {"action": "rename"}), 422, "invalid_request", "action")
    client.logout()
    token = make_token(owner, ("write",))
    ignored = _decide(client, 3, {"action": "ignore"}, Authorization=f"Bearer {token}")
    assert ignored.status_code == 200
    assert ignored.json()["topics"][2]["status"] == "ignored"


def test_api_agents_and_read_tokens_cannot_decide(
    client: Client, install: Settings, agent: User, owner: User, make_token: MakeToken
) -> None:
    before = load_book(install)
    client.force_login(agent)
    assert_error(_decide(client, 1, {"action": "ignore"}), 403, "admins_only")
    client.logout()
    read = make_token(owner, ("read",))
    assert_error(
        _decide(client, 1, {"action": "ignore"}, Authorization=f"Bearer {read}"),
        403,
        "insufficient_scope",
    )
    agent_token = make_token(agent, ("write",))
    assert_error(
        _decide(client, 1, {"action": "ignore"}, Authorization=f"Bearer {agent_token}"),
        403,
        "admins_only",
    )
    assert load_book(install) == before


def test_api_session_decisions_need_the_csrf_token(install: Settings, owner: User) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    before = load_book(install)
    assert_error(_decide(strict, 1, {"action": "ignore"}), 403, "csrf_failed")
    assert load_book(install) == before
    strict.get("/models/topics/")  # sets the csrftoken cookie, as a browser would
    token = strict.cookies["csrftoken"].value
    accepted = _decide(strict, 1, {"action": "ignore"}, **{"X-CSRFToken": token})
    assert accepted.status_code == 200
