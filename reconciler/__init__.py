"""reconciler: Stripe configuration as code.

YAML manifests describe a Stripe account's catalog; the library plans and applies the
difference against the live account. The CLI (:mod:`reconciler.cli`) is a thin shell over
this package.
"""

__version__ = "0.1.0"
