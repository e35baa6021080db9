"""Chaos: seeded runs of random catalogs applied under ~20% mixed faults (issue 9, hardening).

The parametrised generalisation of ``tests/apply/test_apply_faults.py`` (one fixed catalog,
examples/saas, a handful of seeds): here every run draws its own catalogs and its own fault
seed, and reuses that test's machinery (``converge_under_faults``: plan and apply until an
apply completes, checking that each failed apply failed cleanly; ``check_totals``).

Each run, against an in-process emulator that answers 500 to 10% of requests, commits and then
drops the connection of 20% of writes, and answers 429 when its token bucket runs dry (a
simulated clock, so the 429s follow the request count, not the machine's speed), about 20%
of all requests in all:

- ``every kind``: a random catalog over every kind (the planner property tests' strategy) is
  created, then one random field of it changed (update or replacement; a replacement the kind
  refuses is a clean refusal);
- ``a then b``: catalog A, then catalog B with ``--prune`` over small pools of keys (the
  applier property tests' strategy): entries are created, updated, replaced and pruned.

The apply uses one retry or none (drawn), so failed applies and re-runs are the norm. After
each stage: re-run until converged (at most 60 rounds), then, faults off, the final plan is
empty (zero lost changes), every entry has exactly one object in use and no identity (ownership
tag, lookup key, code, event name) has two (zero duplicates), and nothing was stored that no
catalog asked for.

Short mode: 5 + 5 runs (a few seconds); long mode (``--long``): 50 + 50.
"""

from __future__ import annotations

import itertools
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import (
    assert_exactly_once,
    assert_no_duplicates,
    census,
    expected_census,
    objects,
    pending,
    plan_of,
)
from figures_plugin import record
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from support import runs
from test_apply_faults import NO_RETRY, ONE_RETRY, check_totals, converge_under_faults
from test_apply_property import catalogs as pool_catalogs
from test_plan_properties import catalogs as every_kind_catalogs
from test_plan_properties import load as load_doc
from test_plan_properties import mutated, mutations

from reconciler.emulator import Emulator, Faults
from reconciler.plan import PlanError

# 500s on 10% of requests, commit-then-drop on 20% of writes, and 429s on up to 10% of
# requests once the token bucket's burst (2.5 requests) is spent: the emulator reads its clock
# twice per request and the simulated clock moves 0.18 s per reading, so 0.9 tokens refill per
# request. About 20% of all requests meet a fault (the figures record the exact share).
FAULTS = {"fail_rate": 0.10, "drop_rate": 0.20, "rate_limit": 2.5, "retry_after": 0.005}
CLOCK_STEP = 0.18
ROUNDS = 60


def _chaos_settings(short: int, long: int) -> settings:
    # derandomized: the same runs every time; no shrinking (which request meets which fault
    # varies with concurrency, so a failing run is reported as drawn, with its seed)
    return settings(max_examples=runs(short, long), deadline=None, database=None,
                    derandomize=True, phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def _emulator(seed: int) -> Emulator:
    ticks = itertools.count()
    return Emulator(faults=Faults(seed=seed, **FAULTS), clock=lambda: next(ticks) * CLOCK_STEP)


def _duplicates(emu: Emulator) -> int:
    active = census(emu, active_only=True)
    return sum(n - 1 for counts in active.values() for n in counts.values() if n > 1)


def _fault_figures(emu: Emulator) -> dict[str, int]:
    seen = Counter(r.fault for r in emu.request_log())
    return {"requests": sum(seen.values()), "faults_500": seen["server_error"],
            "faults_429": seen["rate_limit"], "drops": seen["drop"],
            "faulted": sum(seen.values()) - seen["none"]}


def _stage(emu: Emulator, manifest: Any, retry: Any, *, fresh: bool) -> tuple[set[str], int]:
    """Converge ``manifest`` under the faults; returns (replaced addresses, failed applies).
    A plan the kind descriptions refuse (PlanError) writes nothing."""
    before = objects(emu)
    try:
        return converge_under_faults(emu, manifest, retry, fresh=fresh, rounds=ROUNDS)
    except PlanError:
        emu.set_faults(Faults())
        assert objects(emu) == before
        raise


def _finish(emu: Emulator, manifests: list[Any], replaced: set[str], failed: int) -> None:
    """Faults off: nothing lost, nothing twice; record the run's figures."""
    figures = _fault_figures(emu)
    emu.set_faults(Faults())
    final = manifests[-1]
    duplicates = _duplicates(emu)
    record("chaos", runs=1, failed_applies=failed, duplicates=duplicates, **figures)
    again = plan_of(emu, final, prune=True)
    assert not again.has_changes, pending(again)
    assert census(emu, active_only=True) == expected_census(final)
    assert duplicates == 0
    assert_no_duplicates(emu)
    check_totals(emu, manifests, replaced | _natural_addresses(manifests, replaced))


def _natural_addresses(manifests: list[Any], replaced: set[str]) -> set[str]:
    """The census names kinds without metadata by their natural key (a meter by its event
    name): a replaced meter's two objects (the old one deactivated) are counted under it."""
    out = set()
    for address in replaced:
        kind, key = address.split(".", 1)
        for manifest in manifests:
            entry = manifest.get(kind, key)
            if kind == "meters" and entry is not None:
                out.add(f"meters.{entry.spec['event_name']}")
            elif kind == "payment_method_configurations" and entry is not None:
                out.add(f"{kind}.{entry.spec.get('name')}")
    return out


@pytest.mark.slow
@_chaos_settings(5, 50)
@given(doc=every_kind_catalogs(), data=st.data(), seed=st.integers(0, 2**31),
       one_retry=st.booleans())
def test_chaos_every_kind_catalog_then_one_change(doc: dict, data: st.DataObject, seed: int,
                                                  one_retry: bool) -> None:
    retry = ONE_RETRY if one_retry else NO_RETRY
    change = data.draw(mutations(doc), label="change")
    with tempfile.TemporaryDirectory() as tmp:
        first = load_doc(doc, Path(tmp), "first")
        second = load_doc(mutated(doc, change), Path(tmp), "second")
    emu = _emulator(seed)
    _, failed_a = _stage(emu, first, retry, fresh=True)
    emu.set_faults(Faults())
    assert not plan_of(emu, first, prune=True).has_changes
    assert_exactly_once(emu, first)
    emu.set_faults(Faults(seed=seed + 1, **FAULTS))
    try:
        replaced, failed_b = _stage(emu, second, retry, fresh=False)
    except PlanError:
        record("chaos", refused_changes=1)
        _finish(emu, [first], set(), failed_a)
        return
    _finish(emu, [first, second], replaced, failed_a + failed_b)


@pytest.mark.slow  # 1-2 s, as the other chaos test
@_chaos_settings(5, 50)
@given(a=pool_catalogs(), b=pool_catalogs(), seed=st.integers(0, 2**31),
       one_retry=st.booleans())
def test_chaos_catalog_a_then_b_with_prune(a: dict, b: dict, seed: int,
                                           one_retry: bool) -> None:
    retry = ONE_RETRY if one_retry else NO_RETRY
    with tempfile.TemporaryDirectory() as tmp:
        first, second = (load_doc(doc or {"products": {}}, Path(tmp), name)
                         for name, doc in (("a", a), ("b", b)))
    emu = _emulator(seed)
    _, failed_a = _stage(emu, first, retry, fresh=True)
    emu.set_faults(Faults(seed=seed + 1, **FAULTS))
    try:
        replaced, failed_b = _stage(emu, second, retry, fresh=False)
    except PlanError:  # a default price Stripe cannot archive, or a prune keeping nothing
        record("chaos", refused_changes=1)
        _finish(emu, [first], set(), failed_a)
        return
    _finish(emu, [first, second], replaced, failed_a + failed_b)


# -- regressions the chaos runs found ------------------------------------------------------------

def test_found_pruned_product_whose_prices_were_archived_earlier(tmp_path: Path) -> None:
    """A first (interrupted) apply archived a product's prices; the next plan saw no current
    price and planned a DELETE of the product, which Stripe refuses: no run converged.
    Without faults: the prices are pruned in one apply and the product in the next."""
    from apply_helpers import apply_plan, failures

    emu = Emulator()
    price = {"product": "p2", "currency": "usd", "unit_amount": 500}
    steps = [{"products": {"p2": {"name": "P2"}}, "prices": {"p2-a": price}},
             {"products": {"p2": {"name": "P2"}}},
             {"features": {"f1": {"name": "F1", "lookup_key": "lk_f1"}}}]
    for i, doc in enumerate(steps):
        manifest = load_doc(doc, tmp_path, f"step{i}")
        everything = i == 2  # the last step prunes all the stack had: that takes --force
        result = apply_plan(emu, plan_of(emu, manifest, prune=True, force=everything))
        assert result.ok, failures(result)
        assert not plan_of(emu, manifest, prune=True, force=everything).has_changes
    (product,) = objects(emu)["product"]
    assert product["active"] is False  # archived, as Stripe allows for a product with prices
