"""Plotly's stylesheets as files, so charts draw under a strict Content-Security-Policy.

plotly.min.js injects its CSS as <style> elements, which `style-src 'self'` refuses. It
skips that when the page already holds an element with the id it would use
(`plotly.js-style-global` marked `no-inline-styles`, and a content hash for the map
library's CSS): then the page must link the rules itself. The rules live inside the
bundle of the installed plotly package, so they are read from it here, once, and served
at /static/plotly/plotly.css and /static/plotly/maplibre.css: they always match the
bundle the page loads.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import plotly
from django import template
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString

logger = logging.getLogger("deskpulse.web")

BUNDLE = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
GLOBAL_STYLE_ID = "plotly.js-style-global"

_STRING = r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
# plotly.js' own rules: {"X,X div": "direction:ltr;…", …}, with X and Y standing for the
# plot's and the notifier's selectors, then inserted one by one at the top of the sheet.
_RULES = re.compile(r'=(\{"X,X div":.*?\});for\((\w+) in ', re.S)
_RULE = re.compile(_STRING + r"\s*:\s*" + _STRING + r"\s*,?")
_PLACEHOLDERS = re.compile(r'\.replace\(/X/g,"([^"]+)"\)\.replace\(/Y/g,"([^"]+)"\)')
# The map library's CSS: injected once under an id that is a hash of it.
_MAPLIBRE = re.compile(
    r'document\.getElementById\("([0-9a-f]{64})"\)\)\{var (\w+)=document\.createElement\("style"\);'
    r"\2\.id=\"\1\",\2\.textContent=" + _STRING
)


@dataclass(frozen=True)
class PlotlyStyles:
    css: str
    maplibre_id: str | None
    maplibre_css: str


def _js_string(literal: str) -> str:
    """The text of a JavaScript string literal."""

    def unescape(match: re.Match[str]) -> str:
        escaped = match.group(1)
        if escaped[0] in "ux" and len(escaped) > 1:
            return chr(int(escaped[1:], 16))
        return {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}.get(escaped, escaped)

    return re.sub(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", unescape, literal[1:-1])


def extract_styles(bundle: str) -> PlotlyStyles:
    """Plotly's CSS rules and the map library's CSS, as plotly.min.js would inject them."""
    css = ""
    rules = _RULES.search(bundle)
    placeholders = _PLACEHOLDERS.search(bundle)
    if rules and placeholders:
        plot, notifier = placeholders.groups()
        sheet = []
        for selector, declarations in _RULE.findall(rules.group(1)[1:-1]):
            name = _js_string(selector)
            name = re.sub(r"^,", " ,", name).replace("X", plot).replace("Y", notifier)
            sheet.append(f"{name}{{{_js_string(declarations)}}}")
        # Each rule went in at index 0, so the last one ended up first.
        css = "\n".join(reversed(sheet)) + "\n"
    else:
        logger.warning("cannot find plotly.js' CSS rules in %s: charts may look unstyled", BUNDLE)
    maplibre = _MAPLIBRE.search(bundle)
    return PlotlyStyles(
        css=css,
        maplibre_id=maplibre.group(1) if maplibre else None,
        maplibre_css=_js_string(maplibre.group(3)) if maplibre else "",
    )


@cache
def plotly_styles() -> PlotlyStyles:
    return extract_styles(BUNDLE.read_text(encoding="utf-8"))


def _stylesheet(text: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    return response


def plotly_css(request: HttpRequest) -> HttpResponse:
    return _stylesheet(plotly_styles().css)


def maplibre_css(request: HttpRequest) -> HttpResponse:
    return _stylesheet(plotly_styles().maplibre_css)


register = template.Library()


@register.simple_tag
def plotly_stylesheets() -> SafeString:
    """The <link>s that stand in for the <style> elements plotly.min.js would inject.

    They must come before plotly.min.js: it looks for them when it loads.
    """
    styles = plotly_styles()
    links = format_html(
        '<link rel="stylesheet" id="{}" class="no-inline-styles" href="/static/plotly/plotly.css">',
        GLOBAL_STYLE_ID,
    )
    if styles.maplibre_id:
        links += format_html(
            '\n<link rel="stylesheet" id="{}" href="/static/plotly/maplibre.css">',
            styles.maplibre_id,
        )
    return links
