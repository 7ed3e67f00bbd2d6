"""The Content-Security-Policy header, templates free of inline code, Plotly's CSS as files.

The browser test (tests/browser/test_csp_browser.py) proves every page works under the
policy; these check the pieces without a browser.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.web.plotly_assets import GLOBAL_STYLE_ID, extract_styles, plotly_styles

WEB = Path(__file__).resolve().parents[2] / "src" / "deskpulse" / "web"
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy_of(header: str) -> dict[str, str]:
    directives = (part.strip().partition(" ") for part in header.split(";"))
    return {name: value for name, _, value in directives}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/analytics/no-such-page/", "/api/v1/docs"])
def test_pages_carry_the_policy(client: Client, owner: User, path: str) -> None:
    client.force_login(owner)
    response = client.get(path)
    assert policy_of(response["Content-Security-Policy"]) == POLICY


@pytest.mark.django_db
def test_a_signed_in_page_carries_the_policy(client: Client, owner: User) -> None:
    client.force_login(owner)
    response = client.get("/settings/users/")
    assert response.status_code == 200
    assert policy_of(response["Content-Security-Policy"]) == POLICY


def _templates() -> list[Path]:
    # The shared templates (web/templates/) and each feature's (web/<feature>/templates/).
    found = sorted(WEB.glob("**/templates/**/*.html"))
    assert len(found) > 50
    return found


@pytest.mark.parametrize("template", _templates(), ids=lambda path: str(path.relative_to(WEB)))
def test_templates_hold_no_inline_code_or_style(template: Path) -> None:
    """What `script-src 'self'; style-src 'self'` would refuse: inline <script> and
    <style>, style="" and on…= attributes. Data goes in json_script blocks instead."""
    html = template.read_text(encoding="utf-8")
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, f"inline script in {template.name}: {tag}"
    assert "<style" not in html, template.name
    assert not re.search(r"\sstyle\s*=", html), template.name
    assert not re.search(r"\son[a-z]+\s*=", html), template.name


def test_plotly_styles_are_read_from_the_installed_bundle() -> None:
    styles = plotly_styles()
    assert ".js-plotly-plot .plotly .modebar{" in styles.css
    assert ".plotly-notifier .notifier-note{" in styles.css
    assert "X," not in styles.css  # every placeholder replaced
    assert styles.maplibre_id is not None
    assert re.fullmatch(r"[0-9a-f]{64}", styles.maplibre_id)
    assert ".maplibregl-map{" in styles.maplibre_css


def test_extracting_keeps_plotlys_order_and_placeholders() -> None:
    bundle = (
        'var a={"X,X div":\'direction:ltr;\',"X .modebar":"position:absolute;",'
        '"Y p":"margin:0;"};for(b in a)c=b.replace(/^,/," ,").replace(/X/g,'
        '".js-plotly-plot .plotly").replace(/Y/g,".plotly-notifier"),d.addStyleRule(c,a[b]);'
        'if(!document.getElementById("' + "ab" * 32 + '")){var e=document.createElement("style");'
        'e.id="' + "ab" * 32 + "\",e.textContent='.maplibregl-map{font:12px/20px \\'A\\'}'"
    )
    styles = extract_styles(bundle)
    # plotly.js inserts each rule at the top of its sheet: the last one comes first.
    assert styles.css.splitlines() == [
        ".plotly-notifier p{margin:0;}",
        ".js-plotly-plot .plotly .modebar{position:absolute;}",
        ".js-plotly-plot .plotly,.js-plotly-plot .plotly div{direction:ltr;}",
    ]
    assert styles.maplibre_id == "ab" * 32
    assert styles.maplibre_css == ".maplibregl-map{font:12px/20px 'A'}"


def test_an_unknown_bundle_gives_empty_styles_not_an_error() -> None:
    styles = extract_styles("console.log('not plotly')")
    assert (styles.css, styles.maplibre_id, styles.maplibre_css) == ("", None, "")


@pytest.mark.django_db
def test_plotlys_css_is_served_as_a_file(client: Client) -> None:
    response = client.get("/static/plotly/plotly.css")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/css; charset=utf-8"
    assert response.content.decode() == plotly_styles().css
    maplibre = client.get("/static/plotly/maplibre.css")
    assert maplibre.status_code == 200
    assert ".maplibregl-map{" in maplibre.content.decode()


@pytest.mark.django_db
def test_chart_pages_link_the_css_before_plotly(client: Client, owner: User) -> None:
    client.force_login(owner)
    page = BeautifulSoup(client.get("/ai-agents/").content, "html.parser")
    elements = page.select(f"link[id='{GLOBAL_STYLE_ID}'], script[src]")
    sources = [element.get("href") or element.get("src") for element in elements]
    assert sources.index("/static/plotly/plotly.css") < sources.index(
        "/static/plotly/plotly.min.js"
    ), sources
    link = page.select_one(f"link[id='{GLOBAL_STYLE_ID}']")
    assert link is not None
    assert link.get("class") == ["no-inline-styles"]
    assert page.select_one(f"link[id='{plotly_styles().maplibre_id}']") is not None
    assert page.select_one("script[src='/static/deskpulse/charts.js']") is not None
    assert page.select_one("script#figures[type='application/json']") is not None
