"""URL routing, generated from the endpoints listed in the reference data.

Only what Stripe has is routed: a DELETE on a kind without one, or any other unknown method
and path, finds nothing and the application answers Stripe's "Unrecognized request URL" 404.
Each route also has a template for request counting, with the object id written ``{id}``
(``POST /v1/prices/{id}``) and a parent id kept by name (``/v1/products/{product}/features``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reconciler import reference

_PLACEHOLDER = re.compile(r"\{([^}]+)\}")
_ID = "[^/]+"
CONNECTED = "connected_account"  # the platform's connected accounts (emulator/connected.py)


@dataclass(frozen=True)
class Route:
    method: str
    kind: str  # reference object name, "account", or CONNECTED
    op: str  # create, retrieve, update, delete, list, search, deactivate...
    template: str
    pattern: re.Pattern[str]
    names: tuple[str, ...]  # placeholders in order; the object's own id is "id"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.fullmatch(path)
        return dict(zip(self.names, found.groups(), strict=True)) if found else None


def _route(method: str, kind: str, op: str, path: str, parent: str | None) -> Route:
    names = _PLACEHOLDER.findall(path)
    # The placeholder after the kind's base path is the object's own id; a leading one is the
    # parent's (product features live under /v1/products/{product}).
    renamed = [n if (parent is not None and i == 0) else "id" for i, n in enumerate(names)]
    template = path
    for old, new in zip(names, renamed, strict=True):
        template = template.replace("{" + old + "}", "{" + new + "}", 1)
    regex = re.escape(template)
    for name in renamed:
        regex = regex.replace(re.escape("{" + name + "}"), f"({_ID})", 1)
    return Route(method, kind, op, template, re.compile(regex), tuple(renamed))


def build() -> list[Route]:
    """All routes, literal paths before parameterised ones (``/search`` before ``/{id}``)."""
    routes = [Route("GET", "account", "retrieve", "/v1/account", re.compile("/v1/account"), ())]
    routes += [_route(method, CONNECTED, op, path, None) for method, op, path in (
        ("POST", "create", "/v1/accounts"), ("GET", "list", "/v1/accounts"),
        ("GET", "retrieve", "/v1/accounts/{account}"))]
    for kind, facts in reference.api()["kinds"].items():
        parent = "product" if "{" in facts["base_path"] else None
        for endpoint in facts["endpoints"]:
            routes.append(_route(endpoint["method"], kind, endpoint["op"], endpoint["path"], parent))
    return sorted(routes, key=lambda r: len(r.names))


def find(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        ids = route.match(method, path)
        if ids is not None:
            return route, ids
    return None
