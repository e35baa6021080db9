"""``expand[]``: replace an id by the object it names, or include a field shown only on demand.

Which fields expand, and into what, comes from the reference ``expandable`` marks
(``price.product`` → product, ``promotion_code.promotion.coupon`` → coupon). Paths nest
(``product.default_price``). Objects the emulator does not model (customers, tax codes) stay
ids. Anything else is refused as Stripe does: "This property cannot be expanded". A path
deeper than Stripe's documented four levels (``data.`` of a list counts as one; the depth is
read from ``data/limits.json``) is refused before anything expands; Stripe's wording for that
is not documented, so the text is an assumption.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from reconciler import limits

from .errors import invalid

if TYPE_CHECKING:
    from .resource import Context, Resource


def check_depth(paths: Sequence[str]) -> None:
    """Refuse an ``expand[]`` path nested deeper than Stripe allows."""
    depth = limits.api_rule("expand_max_depth")["value"]
    for i, path in enumerate(paths):
        if path.count(".") + 1 > depth:
            raise invalid(f"You cannot expand more than {depth} levels of a property "
                          f"({path}).", f"expand[{i}]")


def apply(ctx: Context, resource: Resource, out: dict[str, Any], path: str) -> None:
    _expand(ctx, out, resource.fields, resource.expand_only, path.split("."), path)


def _expand(ctx: Context, node: Any, props: Mapping[str, Any], expand_only: frozenset[str],
            parts: list[str], path: str) -> None:
    name, rest = parts[0], parts[1:]
    spec = props.get(name)
    if spec is None or not isinstance(node, dict):
        raise invalid(f"This property cannot be expanded ({path}).", "expand")
    value = node.get(name)
    target = spec.get("expandable")
    if target:
        other = ctx.registry.get(target)
        if other is None:
            return  # not modelled here: the id stays
        if isinstance(value, str):
            found = ctx.find(target, value)
            if found is not None:
                node[name] = other.render(ctx, found, [".".join(rest)] if rest else [])
        elif isinstance(value, dict) and rest:
            _expand(ctx, value, other.fields, other.expand_only, rest, path)
        return
    if rest and spec.get("type") == "object":
        if isinstance(value, dict):
            _expand(ctx, value, spec.get("properties", {}), frozenset(), rest, path)
        return
    if not rest and name in expand_only:
        return
    raise invalid(f"This property cannot be expanded ({path}).", "expand")
