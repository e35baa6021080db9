"""The manifest reference says what the planner does when an entry leaves the manifests and
when a field forces replacement: the expectations come from the kinds through the planner's
own matcher and steps, not from the generator's wording tables; how an entry finds its
object is checked against the matcher the same way."""

from __future__ import annotations

import re

import pytest

from reconciler.kinds import MANIFEST_KINDS, Kind, Removal, Replacement
from reconciler.manifests import Entry
from reconciler.manifests.errors import Location
from reconciler.manifests.reference_doc import render
from reconciler.ownership import tags
from reconciler.plan import steps
from reconciler.plan.match import match_kind, matched_by
from reconciler.plan.model import Step


def _line(kind: Kind, label: str) -> str:
    section = render().split(f"## `{kind.name}`\n", 1)[1].split("\n## ", 1)[0]
    (line,) = re.findall(rf"^- {label}: (.*)$", section, re.MULTILINE)
    return line


def _verb(step: Step) -> str:
    """What a removal step does to the object, in the reference's words."""
    if step.method == "DELETE":
        return "deleted"
    if step.path.endswith("/deactivate"):
        return "deactivated"
    assert step.params == {"active": False}, step
    return "archived"


def _orphans(kind: Kind) -> list[dict]:
    """What the matcher hands the planner's prune for an object this stack tagged for an
    entry that no longer exists."""
    gone = {"id": "obj_gone", "object": kind.stripe_object, "active": True,
            "metadata": tags("default", "gone")}
    return match_kind(kind, {}, [gone], "default", adopt=False).orphans


@pytest.mark.parametrize("kind", MANIFEST_KINDS.values(), ids=list(MANIFEST_KINDS))
def test_removal_wording_matches_the_planner(kind):
    line = _line(kind, "Removed from the manifests")
    if not _orphans(kind):
        assert line.startswith("never pruned"), line
        return
    assert line.endswith("(only with `--prune`)"), line
    removals = ([Removal.DELETE, Removal.ARCHIVE] if kind.removal is Removal.DELETE_OR_ARCHIVE
                else [kind.removal])
    for removal in removals:
        assert _verb(steps.remove(kind, "obj_gone", removal)) in line, line


@pytest.mark.parametrize("kind", MANIFEST_KINDS.values(), ids=list(MANIFEST_KINDS))
def test_replacement_wording_matches_the_planner(kind):
    line = _line(kind, "Changing a field that forces replacement")
    planned = steps.replace(kind, "obj_old", {}, [])
    creates = [s for s in planned if s.produces]
    (old,) = [s for s in planned if not s.produces]
    removed = _verb(old)
    if kind.replacement is Replacement.REFUSE:
        if kind.force_replaces:  # what --force plans: the old object goes first
            assert planned[0] is old
            assert line.startswith(f"refused; with `--force`, the old object is {removed}, "
                                   "then a new one created"), line
        else:
            assert line.startswith("refused, also with `--force`"), line
    elif planned[0] is old:
        assert line.startswith(f"the old object is {removed}, then a new one created"), line
    else:
        assert creates and planned[-1] is old
        assert line.startswith(f"a new object is created, then the old one {removed}"), line


def test_meters_and_payment_method_configurations_are_never_pruned():
    """What docs/concepts.md says: they carry no metadata, so no tag names their stack."""
    assert not _orphans(MANIFEST_KINDS["meters"])
    assert not _orphans(MANIFEST_KINDS["payment_method_configurations"])
    assert "never pruned" in _line(MANIFEST_KINDS["meters"], "Removed from the manifests")


def _matches(kind: Kind, spec: dict, obj: dict) -> bool:
    entry = Entry(kind.name, "k", spec, Location("memory.yaml", 1, 1))
    return bool(match_kind(kind, {"k": entry}, [obj], "default", adopt=True).live)


@pytest.mark.parametrize("kind", MANIFEST_KINDS.values(), ids=list(MANIFEST_KINDS))
def test_identity_wording_matches_the_matcher(kind):
    line = _line(kind, "Identity")
    tagged = {"id": "obj_1", "active": True, "metadata": tags("default", "k")}
    assert (matched_by(kind, "k", {}, "default", tagged) == "tag") == line.startswith(
        "ownership tags in metadata"), line
    untagged = {"id": "obj_2", "active": True}
    if line.endswith("ownership tags in metadata only"):
        assert not _matches(kind, {}, untagged)
        return
    if "the Stripe id, which is the manifest key" in line:
        assert matched_by(kind, "k", {}, "default", {"id": "k"}) == "natural key"
        assert matched_by(kind, "k", {"id": "x"}, "default", {"id": "x"}) == "natural key"
        return
    (field,) = re.findall(r"its `(\w+)`", line)
    held = {**untagged, field: "Spring"}
    stated = "SPRING" if "case-insensitive" in line else "Spring"
    assert matched_by(kind, "k", {field: stated}, "default", held) == "natural key"
    assert matched_by(kind, "k", {field: "spring"}, "default", held) == (
        "natural key" if "case-insensitive" in line else None)
    if "without one, the account's default" in line:
        assert _matches(kind, {}, {**untagged, "is_default": True})
    assert _matches(kind, {}, untagged) is False
