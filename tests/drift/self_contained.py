"""What an HTML report would fetch from elsewhere when opened: it must be nothing.

The drift report is one file a person opens wherever it lands (a CI artifact, an attachment,
a laptop offline): a stylesheet, script, image or font it points at would be missing there,
and fetching it would tell a third party the report was opened. So the page may name nothing
to load: no ``<link>`` or ``<base>``, no URL attribute but a ``data:`` URI or a ``#fragment``
(a link a person may follow, ``<a href>``, loads nothing and is allowed), no ``@import``, and
no ``url(...)`` in a style (which is how a web font arrives) but a ``data:`` one.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_NEVER = {"link", "base"}
_URL_ATTRIBUTES = {"src", "srcset", "href", "data", "poster", "background", "action",
                   "formaction", "manifest", "xlink:href", "codebase", "longdesc"}
_NAVIGATION = {"a", "area"}  # their href is followed on a click, not fetched
_INLINE = re.compile(r"\s*(#|data:)", re.IGNORECASE)
_STYLE_FETCH = re.compile(r"@import|url\(\s*(?![\"']?\s*(?:data:|#))", re.IGNORECASE)


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _NEVER:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            value = value or ""
            if name in _URL_ATTRIBUTES and not (tag in _NAVIGATION and name == "href") and (
                    not _INLINE.match(value)):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name == "style" and _STYLE_FETCH.search(value):
                self.found.append(f"<{tag} style={value!r}>")
            if tag == "meta" and name == "content" and "url=" in value.lower():
                self.found.append(f"<meta content={value!r}>")  # a refresh to elsewhere
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.found += [f"<style> {m.group(0)}" for m in _STYLE_FETCH.finditer(data)]


def external_resources(html: str) -> list[str]:
    """Everything in ``html`` that a browser would load from outside the file."""
    scan = _Scan()
    scan.feed(html)
    scan.close()
    return scan.found
