"""Manifests: loading YAML files into the desired state, and validating it offline."""

from .errors import Issue, Location, ManifestError
from .interpolate import Variables, parse_var_options
from .loader import load
from .model import Entry, Manifest
from .validate import validate


def load_valid(paths, *, env=None, variables=None) -> Manifest:
    """Load and validate; raises :class:`ManifestError` with every issue if anything is wrong."""
    manifest, issues = load(paths, env=env, variables=variables)
    issues = issues + validate(manifest)
    if issues:
        raise ManifestError(issues)
    return manifest


__all__ = ["Entry", "Issue", "Location", "Manifest", "ManifestError", "Variables", "load",
           "load_valid", "parse_var_options", "validate"]
