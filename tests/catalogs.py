"""Catalogs several test modules plan, apply or drift (``from catalogs import ...``), written
once: a change to the price every suite sells is made here.

Each is YAML text, as a manifest file holds it. ``PRO_MONTHLY`` is the entry under
``prices:``; a variant appends its own fields after it (``lookup_key: pro_monthly``,
indented by four spaces) and its own kinds.
"""

PRO_MONTHLY = """\
  pro-monthly:
    product: pro
    currency: usd
    unit_amount: 1500
    recurring: {interval: month}
"""
"""Pro at 15.00 USD a month."""

PRO_CATALOG = "products:\n  pro: {name: Pro}\nprices:\n" + PRO_MONTHLY
"""The smallest catalog with a reference: the product pro and its monthly price."""
