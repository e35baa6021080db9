"""Form encoding in Stripe's bracket notation (reconciler.stripe.encoding)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler import reference
from reconciler.stripe.encoding import encode, encode_pairs, format_number

# -- an independent decoder, used to check round trips ------------------------------------

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def decode(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in pairs:
        m = _KEY.match(key)
        assert m, f"malformed key {key!r}"
        parts = [m.group(1), *re.findall(r"\[([^\[\]]*)\]", m.group(2))]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            assert isinstance(node, dict), f"{key!r} nests under a scalar"
        assert parts[-1] not in node, f"duplicate key {key!r}"
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    node = {k: _listify(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        assert sorted(int(k) for k in node) == list(range(len(node))), "array indexes not dense"
        return [node[str(i)] for i in range(len(node))]
    return node


def stringify(value: Any) -> Any:
    """What the server should see: strings everywhere, None and empty containers gone."""
    if isinstance(value, dict):
        out = {str(k): stringify(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in out.items() if v not in ({}, [])}
    if isinstance(value, (list, tuple)):
        items = [stringify(v) for v in value if v is not None]
        return [v for v in items if v not in ({}, [])]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return format_number(value)
    return value


# -- the rules, one by one ----------------------------------------------------------------


def test_nested_mapping_uses_brackets() -> None:
    assert encode_pairs({"recurring": {"interval": "month", "interval_count": 3}}) == [
        ("recurring[interval]", "month"),
        ("recurring[interval_count]", "3"),
    ]


def test_lists_of_scalars_are_indexed() -> None:
    assert encode_pairs({"lookup_keys": ["a", "b", "c"]}) == [
        ("lookup_keys[0]", "a"),
        ("lookup_keys[1]", "b"),
        ("lookup_keys[2]", "c"),
    ]


def test_lists_of_objects_are_indexed_then_keyed() -> None:
    tiers = [{"up_to": 10, "unit_amount": 500}, {"up_to": "inf", "unit_amount": 400}]
    assert encode_pairs({"tiers": tiers}) == [
        ("tiers[0][unit_amount]", "500"),
        ("tiers[0][up_to]", "10"),
        ("tiers[1][unit_amount]", "400"),
        ("tiers[1][up_to]", "inf"),
    ]


def test_more_than_ten_items_keep_numeric_order() -> None:
    pairs = encode_pairs({"enabled_events": [f"e{i}" for i in range(12)]})
    assert [k for k, _ in pairs] == [f"enabled_events[{i}]" for i in range(12)]


def test_nested_lists_are_indexed_twice() -> None:
    assert encode_pairs({"a": [["x", "y"], ["z"]]}) == [
        ("a[0][0]", "x"), ("a[0][1]", "y"), ("a[1][0]", "z"),
    ]


def test_booleans() -> None:
    assert encode_pairs({"active": False, "shippable": True}) == [
        ("active", "false"),
        ("shippable", "true"),
    ]
    assert encode_pairs({"x": {"enabled": True}}) == [("x[enabled]", "true")]


def test_none_is_omitted_at_every_depth() -> None:
    params = {"nickname": None, "recurring": {"interval": "day", "meter": None}, "l": [None, "a"]}
    assert encode_pairs(params) == [("l[0]", "a"), ("recurring[interval]", "day")]


def test_empty_string_is_sent_to_clear() -> None:
    assert encode_pairs({"description": "", "metadata": {"old": "", "k": "v"}}) == [
        ("description", ""),
        ("metadata[k]", "v"),
        ("metadata[old]", ""),
    ]
    assert encode({"metadata": ""}) == "metadata="


def test_empty_containers_encode_to_nothing() -> None:
    assert encode_pairs({"metadata": {}, "images": [], "name": "x"}) == [("name", "x")]
    assert encode_pairs({}) == [] and encode_pairs(None) == []


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (-5, "-5"),
        (10**20, "100000000000000000000"),
        (12.5, "12.5"),
        (0.1, "0.1"),
        (1e-7, "0.0000001"),
        (1.5e-10, "0.00000000015"),
        (1e20, "100000000000000000000"),
        (2.0, "2.0"),
        (-0.0, "0.0"),
        (Decimal("1E+3"), "1000"),
        (Decimal("1.2E-8"), "0.000000012"),
        (Decimal("0.0000001"), "0.0000001"),
        (Decimal("12.50"), "12.50"),
        (Decimal("-0"), "0"),
        (Decimal("123456789012345678901234567890.123"), "123456789012345678901234567890.123"),
    ],
)
def test_numbers_never_use_scientific_notation(value: Any, text: str) -> None:
    assert format_number(value) == text
    assert encode_pairs({"n": value}) == [("n", text)]
    assert "e" not in text.lower()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), Decimal("NaN"), Decimal("-Infinity")])
def test_non_finite_numbers_are_refused(bad: Any) -> None:
    with pytest.raises(ValueError):
        encode_pairs({"n": bad})


def test_inf_string_passes_through() -> None:
    assert encode_pairs({"up_to": "inf"}) == [("up_to", "inf")]


def test_unsupported_values_are_refused() -> None:
    with pytest.raises(TypeError):
        encode_pairs({"x": object()})
    with pytest.raises(TypeError):
        encode_pairs({"x": {1, 2}})
    with pytest.raises(ValueError):
        encode_pairs({"x": dt.datetime(2030, 1, 1)})  # naive: ambiguous
    with pytest.raises(TypeError):
        encode_pairs(["not", "a", "mapping"])  # type: ignore[arg-type]


def test_aware_datetime_becomes_unix_timestamp() -> None:
    when = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert encode_pairs({"redeem_by": when}) == [("redeem_by", "1893456000")]


def test_key_order_is_stable_whatever_the_insertion_order() -> None:
    a = {"b": 1, "a": {"y": 2, "x": [{"q": 1, "p": 2}]}, "metadata": {"z": "1", "m": "2"}}
    b = {"metadata": {"m": "2", "z": "1"}, "a": {"x": [{"p": 2, "q": 1}], "y": 2}, "b": 1}
    assert encode(a) == encode(b)
    assert [k for k, _ in encode_pairs(a)] == sorted(k for k, _ in encode_pairs(a))


def test_urlencoding_escapes_brackets_and_values() -> None:
    text = encode({"metadata": {"a b": "x&y=z"}, "name": "Ünïcode ✓"})
    assert dict(parse_qsl(text, keep_blank_values=True)) == {
        "metadata[a b]": "x&y=z",
        "name": "Ünïcode ✓",
    }


# -- every nested shape in the reference --------------------------------------------------


def _sample(schema: dict[str, Any], variant: int = 0) -> Any:
    if "anyOf" in schema:
        options = schema["anyOf"]
        return _sample(options[variant % len(options)], variant)
    kind = schema.get("type")
    if kind == "string":
        if schema.get("enum"):
            return schema["enum"][variant % len(schema["enum"])]
        return "0.000001" if schema.get("format") == "decimal" else f"text {variant}"
    if kind == "integer":
        return 1000 + variant
    if kind == "number":
        return 12.5 + variant
    if kind == "boolean":
        return variant % 2 == 0
    if kind == "map":
        values = schema.get("values", {"type": "string"})
        return {"usd": _sample(values, 0), "eur": _sample(values, 1)}
    if kind == "array":
        items = schema.get("items", {"type": "string"})
        return [_sample(items, 0), _sample(items, 1)]
    if kind == "object":
        return {name: _sample(prop, variant) for name, prop in schema.get("properties", {}).items()}
    return f"any {variant}"


def _reference_samples() -> list[tuple[str, str, dict[str, Any]]]:
    cases = []
    for obj in reference.api()["kinds"]:
        facts = reference.kind_facts(obj)
        for op, params in facts["params"].items():
            sample = {name: _sample(spec) for name, spec in params.items()}
            if sample:
                cases.append((obj, op, sample))
    return cases


REFERENCE_SAMPLES = _reference_samples()


@pytest.mark.parametrize(
    ("obj", "op", "params"), REFERENCE_SAMPLES, ids=[f"{o}-{op}" for o, op, _ in REFERENCE_SAMPLES]
)
def test_every_reference_param_round_trips(obj: str, op: str, params: dict[str, Any]) -> None:
    pairs = encode_pairs(params)
    assert decode(pairs) == stringify(params)
    # urlencode + parse gives the same pairs back (nothing lost in escaping)
    assert parse_qsl(encode(params), keep_blank_values=True) == pairs


def test_reference_shapes_are_all_exercised() -> None:
    """The reference has maps, arrays of objects, int|"inf" unions, arrays inside map values:
    each appears in the encoded keys above, in the exact form Stripe expects."""
    keys = {k for _, _, params in REFERENCE_SAMPLES for k, _ in encode_pairs(params)}
    expected = {
        "metadata[usd]",  # map of strings
        "lookup_keys[1]",  # array of scalars
        "tiers[0][up_to]",  # array of objects
        "currency_options[eur][unit_amount]",  # map of objects
        "currency_options[usd][tiers][1][up_to]",  # array of objects inside a map value
        "currency_options[usd][custom_unit_amount][enabled]",  # object inside a map value
        "default_price_data[recurring][interval]",  # nested object
        "restrictions[currency_options][usd][minimum_amount]",  # map inside an object
        "fixed_amount[currency_options][eur][tax_behavior]",
        "marketing_features[0][name]",
        "card[display_preference][preference]",  # payment method configuration family
        "package_dimensions[height]",  # number
        "applies_to[products][0]",
        "expand[0]",
    }
    assert expected <= keys, sorted(expected - keys)
    # int | "inf" both appear as tiers[].up_to values
    price_create = next(p for o, op, p in REFERENCE_SAMPLES if (o, op) == ("price", "create"))
    up_to = {v for k, v in encode_pairs(price_create) if re.fullmatch(r"tiers\[\d\]\[up_to\]", k)}
    assert up_to == {"inf", "1001"}


def test_matches_the_official_sdk_encoder_on_reference_samples() -> None:
    """Cross-check with stripe-python's encoder (used as an oracle, not as code)."""
    from stripe._encode import _api_encode

    for obj, op, params in REFERENCE_SAMPLES:
        ours = sorted(encode_pairs(params))
        theirs = sorted((k, v if isinstance(v, str) else stringify(v)) for k, v in _api_encode(params))
        assert ours == theirs, (obj, op)


# -- property: arbitrary nesting round-trips ----------------------------------------------

_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.decimals(allow_nan=False, allow_infinity=False, places=6),
    st.text(max_size=10),
)
_values = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(_names, children, max_size=4),
    ),
    max_leaves=20,
)


@given(st.dictionaries(_names, _values, max_size=6))
def test_property_round_trip(params: dict[str, Any]) -> None:
    pairs = encode_pairs(params)
    assert decode(pairs) == stringify(params)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_property_floats_are_exact_and_positional(x: float) -> None:
    text = format_number(x)
    assert "e" not in text.lower()
    assert float(text) == x
