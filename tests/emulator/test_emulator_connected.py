"""Connected accounts: created and listed by the platform, each with objects of its own, and
faults that one account meets without the others."""

from __future__ import annotations

from emulator_helpers import Api

from reconciler.emulator import Emulator, Faults


def test_accounts_are_created_listed_newest_first_and_retrieved(api: Api) -> None:
    made = [api.create("/v1/accounts", type="custom", metadata={"region": f"r{i}"})
            for i in range(3)]
    listed = api.ok(api.get("/v1/accounts", {"limit": 2}))
    assert [a["id"] for a in listed["data"]] == [made[2]["id"], made[1]["id"]]
    assert listed["has_more"] is True
    rest = api.ok(api.get("/v1/accounts", {"starting_after": made[1]["id"]}))
    assert [a["id"] for a in rest["data"]] == [made[0]["id"]] and not rest["has_more"]
    got = api.ok(api.get(f"/v1/accounts/{made[0]['id']}"))
    assert got["metadata"] == {"region": "r0"} and got["type"] == "custom"


def test_an_unknown_account_is_a_404(api: Api) -> None:
    response = api.get("/v1/accounts/acct_missing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_missing"


def test_each_connected_account_has_its_own_objects(emu: Emulator) -> None:
    one, two = (Api(emu, **{"Stripe-Account": f"acct_{n}"}) for n in ("one", "two"))
    one.create("/v1/products", name="Only in one")
    assert one.ok(one.get("/v1/products"))["data"][0]["name"] == "Only in one"
    assert two.ok(two.get("/v1/products"))["data"] == []


def test_faults_of_one_account_spare_the_others(emu: Emulator) -> None:
    emu.set_account_faults("acct_bad", Faults(fail_rate=1.0))
    bad, good = (Api(emu, **{"Stripe-Account": n}) for n in ("acct_bad", "acct_good"))
    assert bad.get("/v1/products").status_code == 500
    assert good.get("/v1/products").status_code == 200
    assert Api(emu).get("/v1/products").status_code == 200


def test_account_faults_are_set_through_the_test_controls(emu: Emulator, api: Api) -> None:
    response = api.http.post("/_emulator/faults?account=acct_bad", content=b'{"fail_rate": 1}')
    assert response.json()["fail_rate"] == 1
    assert api.http.get("/_emulator/faults?account=acct_bad").json()["fail_rate"] == 1
    assert api.http.get("/_emulator/faults").json()["fail_rate"] == 0
    assert emu.account_faults("acct_bad").fail_rate == 1
