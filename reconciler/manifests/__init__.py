"""Manifests: loading YAML files into the desired state, and validating it offline."""

from .errors import Issue, Location, ManifestError, summarise
from .interpolate import Variables, parse_var_options
from .loader import load
from .model import Entry, Manifest
from .textfile import DEFAULT_MAX_FILE_BYTES
from .validate import validate


def load_valid(paths, *, env=None, variables=None, max_file_bytes=DEFAULT_MAX_FILE_BYTES
               ) -> Manifest:
    """Load and validate; raises :class:`ManifestError` with every issue if anything is wrong."""
    manifest, issues = load(paths, env=env, variables=variables, max_file_bytes=max_file_bytes)
    issues = issues + validate(manifest)
    if issues:
        raise ManifestError(issues)
    return manifest


__all__ = ["DEFAULT_MAX_FILE_BYTES", "Entry", "Issue", "Location", "Manifest", "ManifestError", "Variables", "load",
           "load_valid", "parse_var_options", "summarise", "validate"]
