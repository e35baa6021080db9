"""Catalogs several test modules plan, apply or drift (``from catalogs import ...``), written
once: a change to the price every suite sells is made here.

Each is YAML text, as a manifest file holds it: whole kinds (``PRO_CATALOG``,
``SPRING_CODE``), or entries to write under their kind (``PRO_MONTHLY`` under ``prices:``,
``CALLS_METER`` under ``meters:``). A variant appends its own fields after an entry
(``LOOKUP_KEY``, or its own, indented by four spaces) and its own kinds.
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

SPRING_CODE = """\
coupons:
  spring: {percent_off: 10, duration: once}
promotion_codes:
  spring-code:
    code: SPRING
    promotion: {type: coupon, coupon: spring}
"""
"""The coupon spring (10% off once) and the promotion code SPRING that redeems it."""

CALLS_METER = """\
  calls:
    display_name: API calls
    event_name: api_call
    default_aggregation: {formula: sum}
"""
"""The meter calls, the entry under ``meters:`` that a metered price reads."""

LOOKUP_KEY = "    lookup_key: pro_monthly\n"
"""The lookup key a variant gives ``PRO_MONTHLY`` (appended after it)."""
