"""Every failure of the API answers with the one error shape and the right status."""

from __future__ import annotations

import dataclasses
import gzip
import logging
from collections.abc import Iterator

import orjson
import pytest
from django.conf import settings as django_settings
from django.test import Client, RequestFactory, override_settings

from deskpulse.events.store import Store
from deskpulse.web.api import core as api_module
from deskpulse.web.api.errors import handler404, handler500
from tests.web.web_helpers import EVENTS_URL, Api, assert_error, created

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_limits() -> Iterator[None]:
    """Limits small enough to cross in a test: 2 KB bodies, 5 events."""
    limited = dataclasses.replace(
        django_settings.DESKPULSE_SETTINGS, max_request_bytes=2048, max_events_per_request=5
    )
    with override_settings(DESKPULSE_SETTINGS=limited, DATA_UPLOAD_MAX_MEMORY_SIZE=2048):
        yield


# -- malformed bodies ----------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"[{", b"", b"\xff\xfe", b"[1,]", b"nope"])
def test_malformed_json_array_is_400(api: Api, api_store: Store, body: bytes) -> None:
    assert_error(api.post_events(body), 400, "malformed_json")
    assert api_store.count("events") == 0


@pytest.mark.parametrize("body", [b"{}", b'"x"', b"3", b"null"])
def test_json_that_is_not_an_array_is_400(api: Api, body: bytes) -> None:
    assert_error(api.post_events(body), 400, "expected_array")


def test_broken_gzip_is_400(api: Api) -> None:
    response = api.post_events(
        b"definitely not gzip",
        content_type="application/json",
        headers={"Content-Encoding": "gzip"},
    )
    assert_error(response, 400, "malformed_gzip")


def test_truncated_gzip_is_400(api: Api) -> None:
    body = gzip.compress(orjson.dumps([created("e1")]))[:-12]
    response = api.post_events(
        body, content_type="application/json", headers={"Content-Encoding": "gzip"}
    )
    assert_error(response, 400, "malformed_gzip")


# -- content type and encoding -------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x"]
)
def test_wrong_content_type_is_415(api: Api, content_type: str) -> None:
    response = api.post_events(orjson.dumps([created("e1")]), content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")


def test_missing_content_type_is_415(client: Client, ingest_token: str) -> None:
    response = client.generic(
        "POST",
        EVENTS_URL,
        orjson.dumps([created("e1")]),
        content_type="",
        headers={"Authorization": f"Bearer {ingest_token}"},
    )
    assert_error(response, 415, "unsupported_media_type")


def test_unknown_content_encoding_is_415(api: Api) -> None:
    response = api.post_events(
        orjson.dumps([created("e1")]),
        content_type="application/json",
        headers={"Content-Encoding": "br"},
    )
    assert_error(response, 415, "unsupported_encoding")


# -- sizes -----------------------------------------------------------------------------------


def test_oversized_body_is_413(api: Api, small_limits: None) -> None:
    body = orjson.dumps([created("e1", subject="x" * 4000)])
    assert_error(api.post_events(body), 413, "payload_too_large")


def test_gzip_bomb_is_413_without_inflating_it(api: Api, small_limits: None) -> None:
    # 1 MB of spaces is about 1 KB of gzip: under the limit on the wire, far over inflated.
    bomb = gzip.compress(b"[" + b" " * 1_000_000 + b"]")
    assert len(bomb) < 2048
    response = api.post_events(
        bomb, content_type="application/json", headers={"Content-Encoding": "gzip"}
    )
    assert_error(response, 413, "payload_too_large")
    assert "decompressed" in response.json()["error"]["message"]


def test_too_many_events_by_setting_is_413(api: Api, small_limits: None) -> None:
    batch = [created(f"e{i}", f"c{i}") for i in range(6)]
    assert_error(api.post_events(batch, compress=True), 413, "too_many_events")
    assert_error(api.post_events(batch, lines=True, compress=True), 413, "too_many_events")


@pytest.mark.slow
def test_10001_events_is_413(api: Api, api_store: Store) -> None:
    batch = [created(f"e{i}", f"c{i}") for i in range(10_001)]
    response = api.post_events(batch, compress=True)
    error = assert_error(response, 413, "too_many_events")
    assert "10,000" in error["message"]
    assert_error(api.post_events(batch, lines=True, compress=True), 413, "too_many_events")
    assert api_store.count("events") == 0


# -- routing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v2/events", "/api/", "/api/v1/events/x"])
def test_unknown_api_route_is_404(anonymous: Api, path: str) -> None:
    assert_error(anonymous.get(path), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/events"),
        ("PUT", "/api/v1/events"),
        ("DELETE", "/api/v1/health"),
        ("POST", "/api/v1/schema/events.json"),
        ("GET", "/api/v1/query"),
    ],
)
def test_wrong_method_is_405(client: Client, db: None, method: str, path: str) -> None:
    response = client.generic(method, path)
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"]


# -- query parameters and bodies that fail validation ---------------------------------------


def test_invalid_query_parameter_is_422(client: Client, read_token: str) -> None:
    response = Api(client, read_token).get("/api/v1/report", as_of="not-a-date")
    error = assert_error(response, 422, "invalid_request", field="as_of")
    assert error["message"].startswith("as_of:")


# -- the unexpected ----------------------------------------------------------------------------


def test_unexpected_exception_is_a_logged_500(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(api_module, "ingest_objects", explode)
    with caplog.at_level(logging.ERROR, logger="deskpulse.web.api"):
        response = api.post_events([created("e1")])
    error = assert_error(response, 500, "internal_error")
    assert "boom" not in error["message"]
    assert "boom" in caplog.text


def test_django_handlers_answer_json_under_api() -> None:
    factory = RequestFactory()
    assert_error(handler404(factory.get("/api/v1/x"), None), 404, "not_found")
    assert_error(handler500(factory.get("/api/v1/x")), 500, "internal_error")
    assert handler404(factory.get("/elsewhere"), None).status_code == 404
    assert "application/json" not in handler404(factory.get("/elsewhere"), None)["Content-Type"]


def test_disallowed_host_is_json_under_api(client: Client) -> None:
    with override_settings(ALLOWED_HOSTS=["deskpulse.example"]):
        response = client.get("/api/v1/health", headers={"Host": "evil.example"})
    assert_error(response, 400, "bad_request")


def test_html_error_pages_under_api_are_reshaped(client: Client, db: None) -> None:
    with override_settings(DEBUG=True):
        assert_error(client.get("/api/v1/missing"), 404, "not_found")
