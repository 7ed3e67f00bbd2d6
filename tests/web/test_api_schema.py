"""The published event schema, the OpenAPI document and the docs page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from deskpulse.events.contract import EVENT_TYPES

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client: Client) -> dict[str, Any]:
    response = client.get("/api/v1/schema/events.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/schema+json")
    body: dict[str, Any] = response.json()
    return body


def test_schema_is_a_discriminated_union_of_the_13_types(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert len(EVENT_TYPES) == 13  # event.retracted: written by deskpulse, documented too
    branches = schema["oneOf"]
    assert len(branches) == 13
    mapping = schema["discriminator"]["mapping"]
    assert schema["discriminator"]["propertyName"] == "type"
    assert set(mapping) == set(EVENT_TYPES)
    for event_type, ref in mapping.items():
        name = ref.removeprefix("#/$defs/")
        definition = schema["$defs"][name]
        assert definition["properties"]["type"]["const"] == event_type
        assert {"id", "type", "occurred_at"} <= set(definition["required"])
    assert {branch["$ref"] for branch in branches} == set(mapping.values())


def test_schema_is_valid_json_schema(schema: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    good = {
        "id": "e1",
        "type": "survey.responded",
        "occurred_at": "2026-03-02T10:00:00Z",
        "conversation_id": "c1",
        "survey": "csat",
        "score": 5,
    }
    assert validator.is_valid(good)
    assert not validator.is_valid({**good, "survey": "mood"})


def test_openapi_document_lists_the_endpoints(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert {"/api/v1/events", "/api/v1/query", "/api/v1/report", "/api/v1/health"} <= set(
        document["paths"]
    )
    events = document["paths"]["/api/v1/events"]["post"]
    assert {"application/json", "application/x-ndjson"} <= set(events["requestBody"]["content"])
    assert events["security"] == [{"SessionAuth": []}, {"TokenAuth": []}]


def test_openapi_document_has_no_duplicated_keys(client: Client) -> None:
    # A 201 declared by the endpoint and "201" from its links once both reached the
    # document; the docs page then refused it ("duplicated mapping key").
    duplicated: list[str] = []

    def keep(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        names = [name for name, _ in pairs]
        duplicated.extend(name for name in set(names) if names.count(name) > 1)
        return dict(pairs)

    json.loads(client.get("/api/v1/openapi.json").content, object_pairs_hook=keep)
    assert duplicated == []


def test_docs_page_uses_bundled_assets(client: Client) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    asset = client.get("/static/ninja/swagger-ui-bundle.js")
    assert asset.status_code == 200


def test_home_page_says_what_the_install_holds(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "events stored" in page
    assert 'href="/api/v1/docs"' in page
