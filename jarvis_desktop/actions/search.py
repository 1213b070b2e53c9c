"""``web_search``: open the default browser on the configured search engine (``[actions] search_url``)."""

from __future__ import annotations

import webbrowser
from urllib.parse import quote_plus

from jarvis_desktop.actions.context import ActionContext
from jarvis_desktop.actions.result import ActionResult, refused, would
from jarvis_desktop.errors import BadInputError
from jarvis_desktop.nlu.result import ParseResult


def search_url(template: str, query: str) -> str:
    """``template`` with ``{query}`` replaced by the URL-encoded ``query``.

    Raises:
        BadInputError: the template is not an http(s) address with a ``{query}`` placeholder.
    """
    if "{query}" not in template or not template.startswith(("http://", "https://")):
        raise BadInputError(f"[actions] search_url must be an http(s) address containing {{query}}, got {template!r}")
    return template.replace("{query}", quote_plus(query))


def web_search(parse: ParseResult, ctx: ActionContext) -> ActionResult:
    """Search for ``parse.payload``. ``data``: ``query``, ``url``."""
    query = (parse.payload or "").strip()
    if not query:
        return refused(parse.intent, "What should I search for?", "Search — no words")
    url = search_url(ctx.settings.actions.search_url, query)
    data = {"query": query, "url": url}
    if ctx.dry_run:
        return would(parse.intent, f"search the web for “{query}”", **data)
    if not webbrowser.open(url):
        return refused(
            parse.intent, f"No web browser found to search for “{query}” ({url}).", f"Search: {query}", **data
        )
    return ActionResult(
        intent=parse.intent,
        kind="done",
        text=f"Searching the web for “{query}”.",
        summary=f"Search: {query}",
        data=data,
    )
