"""Template filters and tags that show names where the data holds ids and slugs.

Loaded as a template builtin (web/conf.py), so every page can write
`{% agent_name row.agent_id %}`, `{{ row.inquiry|inquiry_name }}` or
`{% segment_name rule.segment %}` without a `{% load %}`.
The id or slug stays in a `title` tooltip. Agent names are read once per request
(`names_for`), never once per row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from deskpulse.names import (
    agent_label,
    agent_names,
    inquiry_label,
    read_segment_label,
    segment_label,
)

register = template.Library()

_CACHE_ATTRIBUTE = "_deskpulse_agent_names"


def names_for(request: HttpRequest | None) -> dict[str, str]:
    """Agent id -> name for this request: one read of the agents table, kept on the request."""
    if request is not None:
        cached: dict[str, str] | None = getattr(request, _CACHE_ATTRIBUTE, None)
        if cached is not None:
            return cached
    from deskpulse.web.runtime import store_with_facts

    names = agent_names(store_with_facts())
    if request is not None:
        setattr(request, _CACHE_ATTRIBUTE, names)
    return names


def _titled(label: str, raw: str) -> SafeString:
    if label == raw:
        return format_html("{}", label)
    return format_html('<span title="{}">{}</span>', raw, label)


@register.simple_tag(takes_context=True)
def agent_name(context: template.Context, agent_id: Any) -> SafeString:
    """The agent's name with their id in a tooltip; an agent never named shows the id."""
    if agent_id is None or agent_id == "":
        return format_html("{}", "")
    raw = str(agent_id)
    return _titled(agent_label(raw, names_for(context.get("request"))), raw)


@register.filter
def inquiry_name(slug: Any) -> SafeString:
    """`invoice_request` -> "Invoice request", with the slug in a tooltip."""
    if slug is None or slug == "":
        return format_html("{}", "")
    return _titled(inquiry_label(str(slug)), str(slug))


@register.filter
def inquiry_text(slug: Any) -> str:
    """The inquiry's display name as plain text (titles, sentences)."""
    return "" if slug is None else inquiry_label(str(slug))


@register.simple_tag(takes_context=True)
def segment_name(context: template.Context, segment: Any) -> SafeString:
    """An alert segment (a mapping, or the "ai_agent = agent-ai-nova" label history
    keeps) in words, "AI agent = Nova", with the raw form in a tooltip."""
    if isinstance(segment, Mapping):
        raw = plain_segment_label(segment)
        parsed: Mapping[str, str] | None = segment
    else:
        raw = str(segment or "")
        parsed = read_segment_label(raw)
    if parsed is None:
        return format_html("{}", raw)
    return _titled(segment_label(parsed, names_for(context.get("request"))), raw)


def plain_segment_label(segment: Mapping[str, str]) -> str:
    """The id form: "ai_agent = agent-ai-nova" (what alert rules and history store)."""
    if not segment:
        return "all conversations"
    return ", ".join(f"{dimension} = {value}" for dimension, value in segment.items())
