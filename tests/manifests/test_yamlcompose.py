"""Which composer reads a file: libyaml when it reads it as PyYAML does, PyYAML otherwise."""

from __future__ import annotations

import pytest
import yaml

from reconciler.manifests import yamlcompose
from reconciler.manifests.errors import Location
from reconciler.manifests.interpolate import Variables
from reconciler.manifests.yamlcompose import compose, libyaml_agrees, shape
from reconciler.manifests.yamlsource import parse

needs_libyaml = pytest.mark.skipif(yamlcompose.FAST_LOADER is None,
                                   reason="PyYAML was built without libyaml")
MANIFEST = "products:\n  pro:\n    name: Pro\n    images: [a, b]\n"


def read(text: str):
    return parse(text, "f.yaml", Variables({}, {}).substitute)


@pytest.fixture
def libyaml_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    class Spy(yaml.CSafeLoader):  # type: ignore[name-defined, misc]
        def __init__(self, stream: str) -> None:
            calls.append(stream)
            super().__init__(stream)

    monkeypatch.setattr(yamlcompose, "FAST_LOADER", Spy)
    return calls


@needs_libyaml
def test_a_plain_manifest_is_composed_by_libyaml(libyaml_calls: list[str]) -> None:
    assert libyaml_agrees(MANIFEST)
    doc = read(MANIFEST)
    assert libyaml_calls == [MANIFEST]
    assert doc.positions[("products", "pro", "images", 1)] == Location("f.yaml", 4, 17)


@needs_libyaml
def test_a_flagged_file_is_not_given_to_libyaml(libyaml_calls: list[str]) -> None:
    read("a: 1\t\n")
    assert libyaml_calls == []


@needs_libyaml
def test_what_libyaml_refuses_pyyaml_reports(libyaml_calls: list[str]) -> None:
    doc = read("a: [1, 2\nb: 3\n")
    assert libyaml_calls  # tried first
    assert [str(i) for i in doc.issues] == [(
        "f.yaml:2:2: invalid YAML: while parsing a flow sequence expected ',' or ']', "
        "but got ':'")]


@needs_libyaml
def test_deeper_than_the_limit_is_composed_again_by_pyyaml(libyaml_calls: list[str]) -> None:
    doc = read("a: " + "[" * 600 + "]" * 600 + "\n")  # libyaml composes it, PyYAML gives up
    assert libyaml_calls
    assert [str(i) for i in doc.issues] == ["f.yaml:1:1: invalid YAML: nested too deeply"]


def test_without_libyaml_pyyaml_composes_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlcompose, "FAST_LOADER", None)
    doc = read(MANIFEST + "products: {}\n")
    assert doc.value == {"products": {"pro": {"name": "Pro", "images": ["a", "b"]}}}
    assert [str(i) for i in doc.issues] == [
        "f.yaml:5:1: duplicate key 'products' (first defined at line 1)"]
    assert doc.positions[("products", "pro", "images", 1)] == Location("f.yaml", 4, 17)
    assert "contains it" in read("a: &x\n  - *x\n").issues[0].message


def test_shape_counts_distinct_nodes_and_their_depth_as_written() -> None:
    # the anchored list is written at depth 2 and aliased at depth 5: it counts once, there
    ((root, count),) = compose("a: &x [[1]]\nb: [[[*x]]]\n")
    assert count == 9  # the mapping, a, [[1]], [1], 1, b, and three lists
    assert shape(root) == (9, 4)
