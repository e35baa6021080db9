import pytest

from reconciler.manifests.errors import Location
from reconciler.manifests.interpolate import Variables, parse_var_options

HERE = Location("f", 1, 1)


def test_var_options_win_over_the_environment():
    v = Variables({"A": "cli"}, {"A": "env", "B": "env"})
    assert v.substitute("${A}/${B}", HERE) == ("cli/env", None)


def test_invalid_reference():
    result, error = Variables({}, {}).substitute("${1BAD}", HERE)
    assert error == "invalid variable reference '${1BAD}'"


def test_parse_var_options():
    assert parse_var_options(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    for bad in ["A", "=1", "1A=2", "A:-x=1"]:
        with pytest.raises(ValueError):
            parse_var_options([bad])
