"""The client's wire behaviour against scripted transports: headers, params, paging, account."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from stripe_fakes import KEY, LIVE_KEY, Script, reply, run

import reconciler
from reconciler.reference import API_VERSION
from reconciler.stripe import Account, APIError, StripeClient, is_live_key


def _form(request: httpx.Request) -> list[tuple[str, str]]:
    return parse_qsl(request.content.decode(), keep_blank_values=True)


def _query(request: httpx.Request) -> list[tuple[str, str]]:
    return parse_qsl(request.url.query.decode(), keep_blank_values=True)


def test_headers(make_client) -> None:
    script = Script(reply())

    async def go() -> None:
        async with make_client(script) as client:
            await client.request("GET", "/v1/prices")
        async with make_client(script, stripe_account="acct_1Conn",
                               stripe_version="2025-01-01.test") as client:
            await client.request("POST", "/v1/prices", {"currency": "usd"})

    run(go())
    get, post = script.requests
    assert get.headers["Authorization"] == f"Bearer {KEY}"
    assert get.headers["Stripe-Version"] == API_VERSION == "2026-10-28.endive"
    assert get.headers["User-Agent"] == (
        f"reconciler/{reconciler.__version__} python-httpx/{httpx.__version__}")
    assert "Stripe-Account" not in get.headers and "Idempotency-Key" not in get.headers
    assert "Content-Type" not in get.headers and get.content == b""
    assert post.headers["Stripe-Account"] == "acct_1Conn"
    assert post.headers["Stripe-Version"] == "2025-01-01.test"
    assert post.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert post.headers["Idempotency-Key"]


def test_get_params_go_in_the_query_post_params_in_the_body(make_client) -> None:
    script = Script(reply())

    async def go() -> None:
        async with make_client(script) as client:
            await client.request("GET", "/v1/prices", {"active": False, "lookup_keys": ["a", "b"]},
                                 expand=["data.tiers"])
            await client.request("POST", "/v1/prices", {
                "currency": "usd", "tiers": [{"up_to": "inf", "unit_amount": 5}],
                "metadata": {"gone": ""}, "nickname": None}, expand=["tiers"])
            await client.request("DELETE", "/v1/coupons/co_1")

    run(go())
    get, post, delete = script.requests
    assert get.url.path == "/v1/prices"
    assert _query(get) == [("active", "false"), ("expand[0]", "data.tiers"),
                           ("lookup_keys[0]", "a"), ("lookup_keys[1]", "b")]
    assert post.url.query == b""
    assert _form(post) == [("currency", "usd"), ("expand[0]", "tiers"), ("metadata[gone]", ""),
                           ("tiers[0][unit_amount]", "5"), ("tiers[0][up_to]", "inf")]
    assert delete.method == "DELETE" and delete.content == b"" and delete.url.query == b""


def test_expand_merges_with_params(make_client) -> None:
    script = Script(reply())

    async def go() -> None:
        async with make_client(script) as client:
            await client.request("GET", "/v1/prices/p", {"expand": ["product"]},
                                 expand=["product", "tiers"])

    run(go())
    assert _query(script.requests[0]) == [("expand[0]", "product"), ("expand[1]", "tiers")]


def test_helpers_build_paths(make_client) -> None:
    script = Script(reply())

    async def go() -> None:
        async with make_client(script) as client:
            await client.create("/v1/products", {"name": "x"}, idempotency_key="k1")
            await client.update("/v1/products", "prod/odd id", {"name": "y"})
            await client.retrieve("/v1/prices", "price_1", expand=["product"])
            await client.delete("/v1/products/prod_1/features", "pf_1")
            with pytest.raises(ValueError):
                await client.retrieve("/v1/prices", "")

    run(go())
    assert [(r.method, r.url.raw_path.decode()) for r in script.requests] == [
        ("POST", "/v1/products"),
        ("POST", "/v1/products/prod%2Fodd%20id"),
        ("GET", "/v1/prices/price_1?expand%5B0%5D=product"),
        ("DELETE", "/v1/products/prod_1/features/pf_1"),
    ]
    assert StripeClient.object_path("/v1/billing/meters", "mtr_1", "deactivate") == (
        "/v1/billing/meters/mtr_1/deactivate")


def test_api_base_is_used(make_client) -> None:
    script = Script(reply())

    async def go() -> None:
        async with make_client(script, api_base="http://127.0.0.1:12111/") as client:
            await client.request("GET", "/v1/account")

    run(go())
    assert str(script.requests[0].url) == "http://127.0.0.1:12111/v1/account"


def test_bad_calls_are_refused_before_sending(make_client) -> None:
    script = Script(reply())

    async def go() -> None:
        async with make_client(script) as client:
            with pytest.raises(ValueError):
                await client.request("PATCH", "/v1/prices")
            with pytest.raises(ValueError):
                await client.request("GET", "v1/prices")
            with pytest.raises(TypeError):
                await client.request("POST", "/v1/prices", {"x": object()})

    run(go())
    assert script.requests == []


# -- pagination ---------------------------------------------------------------------------


class Pages:
    """A list endpoint over ``n`` objects, newest first, honouring limit/starting_after."""

    def __init__(self, n: int) -> None:
        self.ids = [f"obj_{i:05d}" for i in range(n, 0, -1)]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        q = dict(_query(request))
        limit = int(q.get("limit", 10))
        start = self.ids.index(q["starting_after"]) + 1 if "starting_after" in q else 0
        page = self.ids[start:start + limit]
        return httpx.Response(200, json={
            "object": "list", "url": "/v1/things", "has_more": start + limit < len(self.ids),
            "data": [{"id": i, "object": "thing"} for i in page]})


@pytest.mark.parametrize("n", [0, 1, 99, 100, 101, 250, 1000])
def test_list_all_yields_every_object_once(make_client, n: int) -> None:
    pages = Pages(n)

    async def go() -> list[str]:
        async with make_client(pages) as client:
            return [o["id"] async for o in client.list_all("/v1/things", {"active": True})]

    ids = run(go())
    assert ids == pages.ids
    assert len(pages.requests) == max(1, math.ceil(n / 100))
    for i, request in enumerate(pages.requests):
        q = dict(_query(request))
        assert q["limit"] == "100" and q["active"] == "true"
        assert q.get("starting_after") == (pages.ids[i * 100 - 1] if i else None)


def test_list_all_is_lazy(make_client) -> None:
    pages = Pages(500)

    async def go() -> list[str]:
        async with make_client(pages) as client:
            out = []
            async for obj in client.list_all("/v1/things"):
                out.append(obj["id"])
                if len(out) == 150:
                    break
            return out

    assert len(run(go())) == 150
    assert len(pages.requests) == 2


def test_list_all_follows_search_pages(make_client) -> None:
    script = Script(
        reply(body={"object": "search_result", "data": [{"id": "a"}], "has_more": True,
                    "next_page": "page_2"}),
        reply(body={"object": "search_result", "data": [{"id": "b"}], "has_more": False,
                    "next_page": None}),
    )

    async def go() -> list[str]:
        async with make_client(script) as client:
            return [o["id"] async for o in client.list_all("/v1/prices/search",
                                                           {"query": "active:'true'"})]

    assert run(go()) == ["a", "b"]
    assert dict(_query(script.requests[1]))["page"] == "page_2"


def test_list_all_refuses_a_cursor_that_does_not_advance(make_client) -> None:
    stuck = reply(body={"object": "list", "data": [{"id": "same"}], "has_more": True})

    async def go() -> None:
        async with make_client(Script(stuck)) as client:
            async for _ in client.list_all("/v1/things"):
                pass

    with pytest.raises(APIError, match="did not advance"):
        run(go())


def test_list_all_refuses_ending_before_and_bad_envelopes(make_client) -> None:
    async def go(params: dict[str, Any], body: dict[str, Any]) -> None:
        async with make_client(Script(reply(body=body))) as client:
            async for _ in client.list_all("/v1/things", params):
                pass

    with pytest.raises(ValueError):
        run(go({"ending_before": "x"}, {}))
    with pytest.raises(APIError, match="no 'data'"):
        run(go({}, {"object": "list"}))


# -- account ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "body", "expected"),
    [
        (KEY, {"id": "acct_1", "object": "account",
               "settings": {"dashboard": {"display_name": "Acme"}}},
         Account("acct_1", False, "Acme")),
        (KEY, {"id": "acct_2", "livemode": True, "business_profile": {"name": "Acme Inc"}},
         Account("acct_2", True, "Acme Inc")),
        (LIVE_KEY, {"id": "acct_3", "livemode": False}, Account("acct_3", True, None)),
        ("rk_live_restrictedkey0000000", {"id": "acct_4"}, Account("acct_4", True, None)),
        ("rk_test_restrictedkey0000000", {"id": "acct_5"}, Account("acct_5", False, None)),
    ],
)
def test_account(make_client, key: str, body: dict[str, Any], expected: Account) -> None:
    script = Script(reply(body=body))

    async def go() -> Account:
        async with make_client(script, key=key) as client:
            first = await client.account()
            assert await client.account() is first
            assert (await client.account(refresh=True)) == first
            return first

    assert run(go()) == expected
    assert [r.url.path for r in script.requests] == ["/v1/account", "/v1/account"]


def test_account_without_id_is_an_error(make_client) -> None:
    async def go() -> None:
        async with make_client(Script(reply(body={"object": "account"}))) as client:
            await client.account()

    with pytest.raises(APIError, match="no id"):
        run(go())


def test_is_live_key() -> None:
    assert is_live_key("sk_live_x") and is_live_key("rk_live_x")
    assert not is_live_key("sk_test_x") and not is_live_key("rk_test_x")
    assert not is_live_key("pk_live_x")  # publishable keys are not secret keys


def test_aclose_closes_the_connection_pool(make_client) -> None:
    async def go() -> bool:
        client = make_client(Script(reply()))
        async with client:
            pass
        return client._http.is_closed

    assert run(go())
