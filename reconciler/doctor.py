"""What a key may do, against what each command needs for a catalog (``reconciler doctor``).

Reads are checked with one ``limit=1`` list per kind. Writes are checked without changing
anything: an update of an id that cannot exist (``POST /v1/prices/reconciler_doctor_probe``,
no parameters) is answered 403 when the key may not write the kind and 404 when it may.
That Stripe checks the permission before looking the object up is an assumption (the
emulator does; answering 404 first would tell a key without access which ids exist).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from reconciler.account import needed_kinds
from reconciler.kinds import CONTROL_KIND, KINDS, MANIFEST_KINDS
from reconciler.manifests import Manifest
from reconciler.permissions import ACCOUNT, LEVELS, RESOURCES, permission_name
from reconciler.reference import API_VERSION
from reconciler.stripe import NotFoundError, PermissionDeniedError, StripeClient

JOBS = ("plan", "drift", "apply")  # what --for takes; export is listed, never required
_PROBE_ID = "reconciler_doctor_probe"


@dataclass(frozen=True)
class Row:
    resource: str
    needs: dict[str, str]  # command -> read/write
    have: str  # none, read, write; "read" for a write never probed stays read
    optional: bool = False  # the run goes on without it (the account)

    def missing(self, job: str) -> str | None:
        need = self.needs.get(job)
        if need is None or self.optional or LEVELS.index(need) <= _rank(self.have):
            return None
        return need


@dataclass
class Diagnosis:
    key_type: str  # secret or restricted
    mode: str
    account: str | None
    rows: list[Row] = field(default_factory=list)
    api_version: str = API_VERSION
    options: RunOptions = field(default_factory=lambda: RunOptions())

    def missing(self, job: str) -> list[tuple[str, str]]:
        """(resource, level) the job lacks."""
        return [(row.resource, need) for row in self.rows if (need := row.missing(job))]

    def can_run(self, job: str | None) -> bool:
        return not any(self.missing(j) for j in ([job] if job else JOBS))

    def recipe(self, job: str) -> str:
        """The restricted key for ``job``: every permission it needs, nothing more."""
        parts = [f"{row.resource}:{row.needs[job]}" for row in self.rows
                 if job in row.needs and not row.optional]
        return ",".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": {"type": self.key_type, "mode": self.mode}, "account": self.account,
            "api_version": self.api_version,
            "resources": [{"resource": r.resource, "need": r.needs, "have": r.have,
                           "optional": r.optional,
                           "missing": {j: m for j in (*JOBS, "export") if (m := r.missing(j))}}
                          for r in self.rows],
            "recipes": {job: self.recipe(job) for job in (*JOBS, "export")},
            "can_run": {job: self.can_run(job) for job in JOBS},
            "options": {"prune": self.options.prune,
                        "include_unmanaged": self.options.include_unmanaged},
        }


def _rank(have: str) -> int:
    return {"none": -1, "read": 0, "write": 1}[have]


@dataclass(frozen=True)
class RunOptions:
    """The options of the checked runs that widen what they read, as the runs take them:
    ``plan``/``apply --prune`` and ``drift --include-unmanaged`` read every kind
    (:func:`needed_kinds`), so a key checked without them may lack a read the run makes."""

    prune: bool = False
    include_unmanaged: bool = False

    def reads_everything(self, job: str) -> bool:
        return self.include_unmanaged if job == "drift" else self.prune

    def describe(self) -> str:
        """Which runs were checked, for the report: a diagnosis without these options does
        not hold for a run that takes them."""
        wide = (["plan and apply with --prune"] if self.prune else []) + (
            ["drift with --include-unmanaged"] if self.include_unmanaged else [])
        return "; ".join(wide) or "runs without --prune or --include-unmanaged"


def needs(manifest: Manifest, options: RunOptions = RunOptions()) -> dict[str, dict[str, str]]:
    """Resource -> command -> level: what plan, drift, apply and export need.

    Write is needed on the kinds the manifests define. A prune may also remove objects of
    kinds they no longer define; which ones depends on the account, so that is not checked
    here (the plan lists those removals; Stripe refuses one the key may not make, and apply
    stops there naming the permission)."""
    found: dict[str, dict[str, str]] = {name: {"export": "read"} for name in MANIFEST_KINDS}
    for job in JOBS:
        for name in needed_kinds(manifest, options.reads_everything(job)):
            found[name][job] = "read"
    for name, entries in manifest.entries.items():
        if entries:
            found[name]["apply"] = "write"
    # apply's lock and ownership records are products of its own (apply/lock.py, records.py)
    found[CONTROL_KIND]["apply"] = "write"
    found[ACCOUNT] = {job: "read" for job in (*JOBS, "export")}
    return found


async def _allowed(request: Any) -> bool:
    try:
        await request
    except PermissionDeniedError:
        return False
    except NotFoundError:  # the write probe's id: the permission was granted
        return True
    return True


async def diagnose(manifest: Manifest, client: StripeClient,
                   options: RunOptions = RunOptions()) -> Diagnosis:
    """The key, its account, and for each resource what the commands, run with ``options``,
    need and the key has."""
    wanted = needs(manifest, options)
    kinds = list(MANIFEST_KINDS)
    writes = [k for k in kinds if wanted[k].get("apply") == "write"]
    account = asyncio.ensure_future(client.readable_account())
    reads = await asyncio.gather(*(_allowed(client.request(
        "GET", KINDS[k].path, {"limit": 1})) for k in kinds))
    written = await asyncio.gather(*(_allowed(client.request(
        "POST", f"{KINDS[k].path}/{_PROBE_ID}", {})) for k in writes))
    read_account = await account
    readable = dict(zip(kinds, reads, strict=True))
    writable = dict(zip(writes, written, strict=True))
    rows = [Row(k, wanted[k], "write" if writable.get(k) else "read" if readable[k] else "none")
            for k in kinds]
    has_account = not isinstance(read_account, PermissionDeniedError)
    rows.append(Row(ACCOUNT, wanted[ACCOUNT], "read" if has_account else "none", optional=True))
    key = client.masked_key
    return Diagnosis(
        key_type="restricted" if key.startswith("rk_") else "secret",
        mode="live" if client.key_livemode else "test",
        account=read_account.id if not isinstance(read_account, PermissionDeniedError) else None,
        rows=rows, options=options)


def permission_label(resource: str, level: str) -> str:
    """``Write on Prices (rak_plan_write)``."""
    item = RESOURCES[resource]
    return f"{level.capitalize()} on {item.label} ({permission_name(item, level == 'write')})"
