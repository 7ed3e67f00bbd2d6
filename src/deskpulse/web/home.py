"""The landing page at `/`: what this install holds and where to go next.

Signed-in people go straight to /analytics; anyone else sees that deskpulse runs, on what
data, and how to sign in or use the API.
"""

from __future__ import annotations

from html import escape

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from deskpulse.web.runtime import get_store

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>deskpulse</title>
<style>
 body {{ font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }}
 main {{ max-width: 760px; margin: 48px auto; padding: 0 24px; }}
 h1 {{ font-size: 28px; margin: 0 0 4px; }} .lead {{ color: #566; margin: 0 0 28px; }}
 .stats {{ display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin-bottom: 28px; }}
 .stat {{ background: #fff; border: 1px solid #e2e5ea; border-radius: 8px; padding: 14px; }}
 .stat b {{ display: block; font-size: 22px; }} .stat span {{ color: #667; font-size: 13px; }}
 section {{ background: #fff; border: 1px solid #e2e5ea; border-radius: 8px; padding: 18px 22px;
           margin-bottom: 16px; }}
 h2 {{ font-size: 17px; margin: 0 0 8px; }}
 code, pre {{ background: #f0f2f5; border-radius: 4px; font-size: 13px; }}
 pre {{ padding: 10px 12px; overflow-x: auto; }} a {{ color: #2456c7; }}
 a.signin {{ display: inline-block; background: #2456c7; color: #fff; padding: 8px 16px;
            border-radius: 6px; text-decoration: none; margin-bottom: 24px; }}
 @media (max-width: 600px) {{ .stats {{ grid-template-columns: repeat(2, 1fr); }} }}
</style></head>
<body><main>
<h1>deskpulse</h1>
<p class="lead">Performance analytics and coaching for support teams of human and AI agents.</p>
<p><a class="signin" href="/accounts/login/?next=/analytics/">Sign in to the analytics</a></p>
<div class="stats">
 <div class="stat"><b>{events}</b><span>events stored</span></div>
 <div class="stat"><b>{conversations}</b><span>conversations</span></div>
 <div class="stat"><b>{agents}</b><span>agents</span></div>
 <div class="stat"><b>{backend}</b><span>backend</span></div>
</div>
<section><h2>The JSON API</h2>
<p>Every number comes with its sample size <code>n</code>. Browse and try it in the
<a href="/api/v1/docs">API docs</a>; the event contract is published as
<a href="/api/v1/schema/events.json">JSON Schema</a>.</p>
<pre>curl -H "Authorization: Bearer $TOKEN" {base}api/v1/report?period=30d</pre>
<p>Create a token with <code>deskpulse token create --name NAME --scope read --scope ingest</code>
(the demo prints one).</p></section>
<section><h2>Send events</h2>
<pre>curl -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/x-ndjson" \\
     --data-binary @events.jsonl {base}api/v1/events</pre>
<p>Or from files of any size: <code>deskpulse import events.jsonl.gz</code>.
Rejected events are listed by <code>deskpulse rejected</code>.</p></section>
<section><h2>From the command line</h2>
<pre>deskpulse report --period 30d             # team KPIs and the agent leaderboard
deskpulse report --period 7d --format json</pre></section>
</main></body></html>
"""


def home(request: HttpRequest) -> HttpResponse | HttpResponseRedirect:
    if request.user.is_authenticated:
        return HttpResponseRedirect("/analytics/")
    store = get_store()
    tables = set(store.con.list_tables())
    conversations = store.count("conversation_facts") if "conversation_facts" in tables else 0
    agents = store.count("agents") if "agents" in tables else 0
    page = _PAGE.format(
        events=f"{store.count('events'):,}",
        conversations=f"{conversations:,}",
        agents=f"{agents:,}",
        backend=escape({"postgres": "PostgreSQL", "spark": "Spark"}.get(store.backend, "DuckDB")),
        base=escape(request.build_absolute_uri("/")),
    )
    return HttpResponse(page)
