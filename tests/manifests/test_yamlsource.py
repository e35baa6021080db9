"""YAML reading: positions, duplicate keys, bounded aliases."""

import gc

from reconciler.manifests.errors import Location
from reconciler.manifests.interpolate import Variables
from reconciler.manifests.yamlsource import parse


def read(text, **variables):
    return parse(text, "f.yaml", Variables(variables, {}).substitute)


def test_positions_of_values_and_keys():
    doc = read("products:\n  pro:\n    name: Pro\n    images: [a, b]\n")
    assert doc.issues == []
    assert doc.value == {"products": {"pro": {"name": "Pro", "images": ["a", "b"]}}}
    assert doc.positions[("products", "pro", "name")] == Location("f.yaml", 3, 11)
    assert doc.key_positions[("products", "pro", "name")] == Location("f.yaml", 3, 5)
    assert doc.positions[("products", "pro", "images", 1)] == Location("f.yaml", 4, 17)


def test_duplicate_keys_are_errors_at_the_second_key():
    doc = read("a: 1\nb: 2\na: 3\n")
    assert [str(i) for i in doc.issues] == ["f.yaml:3:1: duplicate key 'a' (first defined at line 1)"]


def test_keys_are_taken_literally():
    doc = read("metadata:\n  on: yes\n  1: x\n")
    assert doc.value == {"metadata": {"on": True, "1": "x"}}


def test_dates_stay_text():
    assert read("redeem_by: 2027-01-01\n").value == {"redeem_by": "2027-01-01"}


def test_anchors_aliases_and_merge_keys():
    doc = read("base: &b {currency: usd, unit_amount: 5}\n"
               "x:\n  <<: *b\n  unit_amount: 7\n"
               "y: *b\n")
    assert doc.issues == []
    assert doc.value["x"] == {"currency": "usd", "unit_amount": 7}
    assert doc.value["y"] == {"currency": "usd", "unit_amount": 5}


def test_billion_laughs_is_refused_not_expanded():
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i-1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    doc = read("\n".join(lines) + "\n")
    assert doc.value is None
    assert len(doc.issues) == 1
    assert "aliases expand to too large a document" in doc.issues[0].message


def test_recursive_alias_is_refused():
    doc = read("a: &x\n  - *x\n")
    assert doc.value is None
    assert "contains it" in doc.issues[0].message


def test_deep_nesting_is_refused():
    doc = read("[" * 200 + "]" * 200)
    assert doc.value is None and doc.issues


def test_syntax_error_has_a_location():
    doc = read("a: [1, 2\nb: 3\n")
    assert doc.issues and doc.issues[0].location.line >= 1
    assert doc.issues[0].message.startswith("invalid YAML")


def test_several_documents_are_refused():
    doc = read("a: 1\n---\nb: 2\n")
    assert "one YAML document" in doc.issues[0].message
    assert doc.issues[0].location.line == 3


def test_interpolation_types_plain_scalars_only():
    doc = read('a: ${N}\nb: "${N}"\nc: x-${N}\nd: $${N}\n', N="1500")
    assert doc.value == {"a": 1500, "b": "1500", "c": "x-1500", "d": "${N}"}


def test_missing_variable_is_an_error_at_its_value():
    doc = read("a:\n  b: ${MISSING}\n")
    assert [str(i) for i in doc.issues] == [
        "f.yaml:2:6: variable 'MISSING' is not set (pass --var MISSING=... or set it in the environment)"]


def test_default_values():
    assert read("a: ${MISSING:-7}\n").value == {"a": 7}
    assert read("a: ${SET:-7}\n", SET="x").value == {"a": "x"}


def test_the_garbage_collector_is_left_as_it_was():
    assert gc.isenabled()
    read("a: [1, 2\n")  # a syntax error: the pure-Python composer raises inside
    assert gc.isenabled()
    gc.disable()
    try:
        read("a: 1\n")
        assert not gc.isenabled()
    finally:
        gc.enable()
