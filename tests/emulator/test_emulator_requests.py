"""Request parsing as Stripe does it: bracket notation, coercion against the reference specs."""

from __future__ import annotations

import pytest
from emulator_helpers import Api, error_of
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import reference
from reconciler.emulator import Emulator, forms, params
from reconciler.emulator.errors import StripeError


def test_bracket_notation_decodes_to_nested_data() -> None:
    tree = forms.decode(
        "recurring[interval]=month&metadata[k]=v&tiers[0][up_to]=10&tiers[1][up_to]=inf"
        "&enabled_events[]=a&enabled_events[]=b&lookup_keys[0]=x&expand[]=data.tiers&metadata[0]=z"
    )
    assert tree == {
        "recurring": {"interval": "month"},
        "metadata": {"k": "v", "0": "z"},
        "tiers": {"0": {"up_to": "10"}, "1": {"up_to": "inf"}},
        "enabled_events": ["a", "b"],
        "lookup_keys": {"0": "x"},
        "expand": ["data.tiers"],
    }
    assert forms.decode("tiers[][up_to]=1&tiers[][unit_amount]=5&tiers[][up_to]=inf") == {
        "tiers": [{"up_to": "1", "unit_amount": "5"}, {"up_to": "inf"}]}
    assert forms.decode(b"metadata=&name=a%20b+c") == {"metadata": "", "name": "a b c"}
    assert forms.split_key("a[b") == ["a[b"]


def test_conflicting_forms_of_one_name_are_refused() -> None:
    with pytest.raises(StripeError) as caught:
        forms.decode("metadata=x&metadata[k]=v")
    assert (caught.value.status, caught.value.param) == (400, "metadata[k]")
    with pytest.raises(StripeError):
        forms.decode("expand[]=a&expand[0]=b")


def test_coercion_follows_the_specification() -> None:
    create = reference.kind_facts("price")["params"]["create"]
    got = params.coerce(forms.decode(
        "currency=EUR&unit_amount=12&active=false&tiers[1][up_to]=inf&tiers[0][up_to]=5"
        "&unit_amount_decimal=1.500&metadata[0]=zero&metadata[gone]="), create)
    assert got == {"currency": "eur", "unit_amount": 12, "active": False,
                   "tiers": [{"up_to": 5}, {"up_to": "inf"}], "unit_amount_decimal": "1.5",
                   "metadata": {"0": "zero", "gone": None}}
    coupon = reference.kind_facts("coupon")["params"]["create"]
    assert params.coerce({"percent_off": "25.5"}, coupon) == {"percent_off": 25.5}
    assert params.coerce({"percent_off": "25"}, coupon) == {"percent_off": 25}


@pytest.mark.parametrize(("query", "code", "param"), [
    ("unit_amount=1.5", "parameter_invalid_integer", "unit_amount"),
    ("unit_amount=", "parameter_invalid_empty", "unit_amount"),
    ("active=1", None, "active"),
    ("billing_scheme=weekly", None, "billing_scheme"),
    ("unit_amount_decimal=abc", None, "unit_amount_decimal"),
    ("unit_amount_decimal=1.0000000000001", None, "unit_amount_decimal"),
    ("recurring[usage_type]=metered", "parameter_missing", "recurring[interval]"),
    ("recurring[interval]=month&recurring[intervall]=2", "parameter_unknown", "recurring[intervall]"),
    ("tiers[0][unit_amount]=5", "parameter_missing", "tiers[0][up_to]"),
    ("tiers[0][up_to]=soon", "parameter_invalid_integer", "tiers[0][up_to]"),
    ("currency_options[zzz][unit_amount]=5", None, "currency_options[zzz]"),
    ("nickname[a]=b", None, "nickname"),
    ("metadata[a][b]=c", None, "metadata[a]"),
])
def test_invalid_values_name_the_parameter(query: str, code: str | None, param: str) -> None:
    create = reference.kind_facts("price")["params"]["create"]
    with pytest.raises(StripeError) as caught:
        params.coerce(forms.decode(query), create)
    assert (caught.value.status, caught.value.code, caught.value.param) == (400, code, param)


def test_metadata_keys_named_like_currencies_are_free_text(api: Api) -> None:
    """Only a declared parameter is a currency; a metadata key of that name is the user's data."""
    metadata = {"currency": "dollars", "default_currency": "xyz", "currency_options": "any"}
    product = api.create("/v1/products", name="Mug", metadata=metadata)
    assert product["metadata"] == metadata
    price = api.create("/v1/prices", product=product["id"], currency="usd", unit_amount=5,
                       metadata={"billing_currency": "x"})
    assert price["metadata"] == {"billing_currency": "x"}
    error_of(api.post("/v1/prices", {"product": product["id"], "currency": "xyz", "unit_amount": 5}),
             400, None, "currency")


def test_unknown_parameter_suggests_the_near_name(api: Api) -> None:
    error = error_of(api.post("/v1/products", {"name": "x", "descripton": "y"}), 400,
                     "parameter_unknown", "descripton")
    assert "Did you mean description?" in error["message"]


def test_create_only_parameter_on_update_says_why(api: Api) -> None:
    product = api.create("/v1/products", name="Pro")
    price = api.create("/v1/prices", product=product["id"], currency="usd", unit_amount=100)
    error = error_of(api.post(f"/v1/prices/{price['id']}", {"unit_amount": 200}), 400,
                     "parameter_unknown", "unit_amount")
    assert error["message"] == ("Received unknown parameter: unit_amount. unit_amount can only be "
                                "set when a price is created; to change it, create a new price.")
    assert error["doc_url"] == "https://stripe.com/docs/error-codes/parameter-unknown"


def test_query_strings_and_bodies_use_the_same_notation(api: Api) -> None:
    product = api.create("/v1/products", name="Pro")
    api.create("/v1/prices", product=product["id"], currency="usd", unit_amount=1, lookup_key="a")
    api.create("/v1/prices", product=product["id"], currency="usd", unit_amount=2, lookup_key="b")
    api.create("/v1/prices", product=product["id"], currency="usd", unit_amount=3, lookup_key="c")
    raw = api.http.get("/v1/prices?lookup_keys[]=a&lookup_keys[]=c").json()
    assert sorted(p["lookup_key"] for p in raw["data"]) == ["a", "c"]
    indexed = api.http.get("/v1/prices?lookup_keys[0]=b").json()
    assert [p["lookup_key"] for p in indexed["data"]] == ["b"]
    hook = api.http.post("/v1/webhook_endpoints", content=b"url=https%3A%2F%2Fx.test%2Fh&enabled_events[0]="
                         b"price.created&enabled_events[1]=price.updated",
                         headers={"Content-Type": "application/x-www-form-urlencoded"}).json()
    assert hook["enabled_events"] == ["price.created", "price.updated"]


_text = st.text(st.characters(blacklist_characters="[]", blacklist_categories=("Cs",)), min_size=1,
                max_size=12)


@settings(max_examples=60, deadline=None)
@given(metadata=st.dictionaries(_text, _text, max_size=5),
       update=st.dictionaries(_text, st.one_of(st.none(), _text), max_size=5))
def test_metadata_round_trips_and_merges(metadata: dict[str, str], update: dict[str, str | None]) -> None:
    """Any text survives form encoding, and updates merge key by key ("" removes a key)."""
    api = Api(Emulator())
    made = api.create("/v1/products", name="Any", **({"metadata": metadata} if metadata else {}))
    assert made["metadata"] == metadata
    merged = api.ok(api.post(f"/v1/products/{made['id']}", {"metadata": update} if update else {}))
    expected = {**metadata, **update}
    assert merged["metadata"] == {k: v for k, v in expected.items() if v is not None}
