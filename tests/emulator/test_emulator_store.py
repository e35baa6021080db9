"""State: in memory, or a JSON file shared safely between processes; reset and read-back."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from emulator_helpers import KEY, Api, error_of

from reconciler.emulator import Emulator

WRITER = textwrap.dedent("""
    import sys
    from reconciler.emulator import Emulator
    from emulator_helpers import Api
    api = Api(Emulator(state_file=sys.argv[1]))
    for i in range(int(sys.argv[3])):
        api.create("/v1/products", name=f"{sys.argv[2]}-{i}")
        api.create("/v1/entitlements/features", name="f", lookup_key=f"{sys.argv[2]}-{i}")
""")


def test_state_file_is_shared_by_separate_emulators(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first, second = Api(Emulator(state_file=state)), Api(Emulator(state_file=state))
    made = first.create("/v1/products", name="Shared")
    assert second.ok(second.get(f"/v1/products/{made['id']}"))["name"] == "Shared"
    second.ok(second.post(f"/v1/products/{made['id']}", {"name": "Renamed"}))
    assert first.ok(first.get(f"/v1/products/{made['id']}"))["name"] == "Renamed"
    assert first.ok(first.get("/v1/account"))["id"] == second.ok(second.get("/v1/account"))["id"]
    data = json.loads(state.read_text())
    assert data["version"] == 1 and data["platform"].startswith("acct_")
    # a later process starts from the file
    third = Api(Emulator(state_file=state))
    assert [p["name"] for p in third.ok(third.get("/v1/products"))["data"]] == ["Renamed"]


def test_idempotency_keys_survive_in_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = Api(Emulator(state_file=state)).post("/v1/products", {"name": "A"}, **{"Idempotency-Key": "x"})
    replay = Api(Emulator(state_file=state)).post("/v1/products", {"name": "A"}, **{"Idempotency-Key": "x"})
    assert replay.headers["idempotent-replayed"] == "true" and replay.json() == first.json()


@pytest.mark.slow
def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    state, n = tmp_path / "state.json", 40
    env_path = str(Path(__file__).parent)
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(state), name, str(n)],
                         env={"PYTHONPATH": env_path, "PATH": ""}, stderr=subprocess.PIPE)
        for name in ("left", "right")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
    api = Api(Emulator(state_file=state))
    names = []
    after = None
    while True:
        page = api.ok(api.get("/v1/products", {"limit": 100, **({"starting_after": after} if after else {})}))
        names += [p["name"] for p in page["data"]]
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    assert sorted(names) == sorted([f"left-{i}" for i in range(n)] + [f"right-{i}" for i in range(n)])
    data = json.loads(state.read_text())
    seqs = [r["seq"] for bucket in data["accounts"].values()
            for table in bucket["objects"].values() for r in table.values()]
    assert len(seqs) == len(set(seqs)) == 4 * n + 1  # + the seeded payment method configuration
    assert not list(tmp_path.glob(".*.tmp"))


def test_reset_and_state_endpoints(emu: Emulator) -> None:
    api = Api(emu)
    api.create("/v1/products", name="Gone soon")
    platform = api.ok(api.get("/v1/account"))["id"]
    state = api.http.get("/_emulator/state").json()
    bucket = state["accounts"][f"{platform}:test"]
    assert [r["object"]["name"] for r in bucket["objects"]["product"].values()] == ["Gone soon"]
    assert api.http.post("/_emulator/reset").json() == {"reset": True}
    assert api.ok(api.get("/v1/products"))["data"] == []
    assert api.ok(api.get("/v1/account"))["id"] == platform
    emu.reset()
    assert emu.state()["accounts"] == {}


def test_admin_endpoints_need_no_key_and_are_not_counted(emu: Emulator) -> None:
    anonymous = Api(emu, key=None)
    assert anonymous.http.get("/_emulator/requests").json() == {"counts": {}}
    assert anonymous.http.get("/_emulator/nothing").status_code == 404
    Api(emu, key=KEY).get("/v1/products")
    assert anonymous.http.get("/_emulator/requests").json() == {"counts": {"GET /v1/products": 1}}


def test_a_broken_state_file_is_a_500_not_a_hang_up(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    api = Api(Emulator(state_file=state))
    api.create("/v1/products", name="Before")
    state.write_text("{not json")
    response = api.get("/v1/products")
    assert response.status_code == 500 and response.headers["stripe-should-retry"] == "false"
    assert response.json()["error"]["type"] == "api_error"
    assert "JSONDecodeError" in response.json()["error"]["message"]


def test_state_file_and_the_folder_made_for_it_are_private(tmp_path: Path) -> None:
    """The state holds emulated whsec_ signing secrets: 0600, in a 0700 folder when the
    emulator makes it; an existing file written 0644 by an older version is narrowed too."""
    state = tmp_path / ".reconciler" / "state.json"
    api = Api(Emulator(state_file=state))
    api.create("/v1/webhook_endpoints", url="https://example.com/h",
               **{"enabled_events[0]": "invoice.paid"})
    assert "whsec_" in state.read_text()
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert stat.S_IMODE(state.parent.stat().st_mode) == 0o700
    state.chmod(0o644)
    api.create("/v1/products", name="Again")
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert sorted(p.name for p in state.parent.iterdir()) == ["state.json", "state.json.lock"]


def test_the_cli_makes_the_state_folder_private(tmp_path: Path) -> None:
    state = tmp_path / "nested" / ".reconciler" / "state.json"
    ran = subprocess.run([sys.executable, "-m", "reconciler", "--emulator", "--emulator-state",
                          str(state), "export", "-o", str(tmp_path / "out")],
                         capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    assert stat.S_IMODE(state.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(state.stat().st_mode) == 0o600


def _price_of_a_new_product(api: Api) -> dict[str, object]:
    product = api.create("/v1/products", name="P")["id"]
    return {"product": product, "currency": "usd", "unit_amount": 1}


def test_a_lookup_key_is_found_without_reading_every_price(
        emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """A price's unique lookup key is checked through an index: seeding an account of
    100,000 prices read them all for each price created with a key."""
    from reconciler.emulator.store import Bucket
    api = Api(emu)
    body = _price_of_a_new_product(api)
    api.create("/v1/prices", **body, lookup_key="a")
    monkeypatch.setattr(Bucket, "newest_first", lambda *a, **k: pytest.fail("a full scan"))
    error_of(api.post("/v1/prices", {**body, "lookup_key": "a"}), 400,
             "resource_already_exists", "lookup_key")
    moved = api.create("/v1/prices", **body, lookup_key="a", transfer_lookup_key="true")
    renamed = api.ok(api.post(f"/v1/prices/{moved['id']}", {"lookup_key": "b"}))
    assert renamed["lookup_key"] == "b"
    api.create("/v1/prices", **body, lookup_key="a")  # free again


def test_the_lookup_key_index_follows_reset_and_other_processes(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first, second = Api(Emulator(state_file=state)), Api(Emulator(state_file=state))
    body = _price_of_a_new_product(first)
    first.create("/v1/prices", **body, lookup_key="k")
    error_of(second.post("/v1/prices", {**body, "lookup_key": "k"}), 400,
             "resource_already_exists", "lookup_key")
    held = second.create("/v1/prices", **body, lookup_key="k", transfer_lookup_key="true")
    error_of(first.post("/v1/prices", {**body, "lookup_key": "k"}), 400,
             "resource_already_exists", "lookup_key")
    assert first.ok(first.get(f"/v1/prices/{held['id']}"))["lookup_key"] == "k"
    first.http.post("/_emulator/reset")
    body = _price_of_a_new_product(second)
    second.create("/v1/prices", **body, lookup_key="k")  # the old holder is gone
