"""A messy, "dashboard-made" Stripe account, built through the client with no ownership tags.

Over a hundred objects across every kind, the way a few years of clicking leave an account:
archived objects, prices of every shape (one-time, monthly, yearly, tiered graduated and
volume, several currencies, customer-chosen amounts, packages, metered), prices without lookup
keys, near-duplicates whose readable names collide, coupons of every duration, inactive
promotion codes, archived tax and shipping rates, disabled webhooks on old API versions,
archived features and a deactivated meter.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from reconciler.kinds import KINDS
from reconciler.stripe import StripeClient

YEAR = 365 * 24 * 3600


async def _create(client: StripeClient, kind: str, params: dict[str, Any]) -> dict[str, Any]:
    return await client.create(KINDS[kind].path, params)


async def _archive(client: StripeClient, kind: str, obj: dict[str, Any]) -> None:
    await client.update(KINDS[kind].path, obj["id"], {"active": False})


async def build_messy_account(client: StripeClient) -> Counter[str]:
    """Create the account; returns how many objects of each kind were made."""
    made: Counter[str] = Counter()

    async def create(kind: str, **params: Any) -> dict[str, Any]:
        made[kind] += 1
        return await _create(client, kind, params)

    # -- features (two archived) and meters (one deactivated) --------------------------------
    features = {}
    for lookup, name in [("sso", "Single sign-on"), ("api_access", "API access"),
                         ("audit_log", "Audit log"), ("priority_support", "Priority support"),
                         ("custom_domains", "Custom domains"), ("exports", "CSV exports"),
                         ("sandbox", "Sandbox"), ("webhooks", "Webhooks"),
                         ("legacy_reports", "Legacy reports"), ("beta_ai", "AI beta")]:
        extra = {"metadata": {"area": "platform"}} if lookup in ("sso", "audit_log") else {}
        features[lookup] = await create("features", lookup_key=lookup, name=name, **extra)
    meters = {}
    meters["api_calls"] = await create("meters", display_name="API calls", event_name="api_call",
                                       default_aggregation={"formula": "sum"})
    meters["seats"] = await create("meters", display_name="Active seats",
                                   event_name="active_seat",
                                   default_aggregation={"formula": "last"},
                                   value_settings={"event_payload_key": "seats"})
    meters["builds"] = await create("meters", display_name="Builds", event_name="build_run",
                                    default_aggregation={"formula": "count"},
                                    customer_mapping={"event_payload_key": "customer",
                                                      "type": "by_id"},
                                    event_time_window="hour")
    old = await create("meters", display_name="Old storage", event_name="storage_gb",
                       default_aggregation={"formula": "sum"})
    await client.request("POST", client.object_path(KINDS["meters"].path, old["id"],
                                                    "deactivate"))

    # -- products: custom and generated ids, duplicate names, archived ones ------------------
    products: dict[str, dict[str, Any]] = {}

    async def product(label: str, **params: Any) -> dict[str, Any]:
        products[label] = await create("products", **params)
        return products[label]

    await product("starter", id="starter", name="Starter",
                  description="For individuals getting started",
                  marketing_features=[{"name": "3 projects"}, {"name": "Community support"}])
    await product("pro", id="pro", name="Pro", unit_label="seat",
                  images=["https://cdn.example.com/pro.png"],
                  marketing_features=[{"name": "Unlimited projects"}, {"name": "SSO"},
                                      {"name": "Priority support"}],
                  statement_descriptor="EXAMPLE PRO", metadata={"tier": "2"})
    await product("enterprise", id="enterprise", name="Enterprise", unit_label="seat",
                  url="https://example.com/enterprise", tax_code="txcd_10103001")
    await product("api", name="API usage", description="Metered API calls")
    await product("builds", name="Build minutes", unit_label="minute")
    await product("storage", name="Storage add-on", metadata={"legacy": "true"})
    await product("tshirt", name="T-shirt", type="good", shippable=True,
                  package_dimensions={"height": 2.5, "length": 30, "weight": 200, "width": 20},
                  images=["https://cdn.example.com/tee-front.png",
                          "https://cdn.example.com/tee-back.png"])
    await product("mug", name="Mug", type="good", shippable=True)
    await product("pro-copy", name="Pro")  # a second "Pro", made by mistake
    await product("donation", name="Donation", description="Pay what you want")
    await product("credits", name="Credits pack", unit_label="credit")
    await product("consulting", name="Consulting hour", tax_code="txcd_20030000")
    await product("legacy-basic", id="legacy-basic", name="Basic (2019)")
    await product("legacy-team", name="Team (old)")
    await product("sunset", name="Sunset plan", description="No longer sold")
    await product("gift-card", name="Gift card", metadata={"channel": "retail"})
    await product("retired", name="Retired add-on")  # archived, its price left on sale

    attachments = {"pro": ["sso", "api_access", "exports", "legacy_reports"],
                   "enterprise": ["sso", "api_access", "audit_log", "priority_support",
                                  "custom_domains", "sandbox"],
                   "starter": ["exports"], "api": ["api_access", "webhooks"],
                   "legacy-basic": ["legacy_reports"]}
    for label, wanted in attachments.items():
        for lookup in wanted:
            made["product_features"] += 1
            await client.create(f"/v1/products/{products[label]['id']}/features",
                                {"entitlement_feature": features[lookup]["id"]})

    for lookup in ("legacy_reports", "beta_ai"):  # legacy_reports stays attached
        await _archive(client, "features", features[lookup])

    # -- prices ---------------------------------------------------------------------------------
    prices: dict[str, dict[str, Any]] = {}

    async def price(label: str, product_label: str, **params: Any) -> dict[str, Any]:
        prices[label] = await create("prices", product=products[product_label]["id"], **params)
        return prices[label]

    month, year = {"interval": "month"}, {"interval": "year"}
    await price("starter-m", "starter", currency="usd", unit_amount=900, recurring=month,
                lookup_key="starter_monthly", nickname="Starter monthly")
    await price("starter-y", "starter", currency="usd", unit_amount=9000, recurring=year,
                lookup_key="starter_yearly")
    await price("starter-m-eur", "starter", currency="eur", unit_amount=900, recurring=month)
    await price("pro-m", "pro", currency="usd", unit_amount=2900, recurring=month,
                lookup_key="pro_monthly", tax_behavior="exclusive",
                currency_options={"eur": {"unit_amount": 2700, "tax_behavior": "exclusive"},
                                  "gbp": {"unit_amount": 2400, "tax_behavior": "exclusive"},
                                  "jpy": {"unit_amount": 4200, "tax_behavior": "exclusive"}})
    await price("pro-y", "pro", currency="usd", unit_amount=29000, recurring=year,
                lookup_key="pro_yearly", tax_behavior="exclusive",
                currency_options={"eur": {"unit_amount": 27000}})
    await price("pro-q", "pro", currency="usd", unit_amount=8100,
                recurring={"interval": "month", "interval_count": 3}, nickname="Pro quarterly")
    await price("pro-m-old", "pro", currency="usd", unit_amount=2500, recurring=month,
                nickname="Pro monthly (2023)")
    await price("pro-m-older", "pro", currency="usd", unit_amount=1900, recurring=month,
                nickname="Pro monthly (2021)")
    await price("ent-graduated", "enterprise", currency="usd", recurring=month,
                billing_scheme="tiered", tiers_mode="graduated", lookup_key="ent_seats",
                tiers=[{"up_to": 10, "unit_amount": 5000},
                       {"up_to": 50, "unit_amount": 4000, "flat_amount": 1000},
                       {"up_to": "inf", "unit_amount": 3000}],
                currency_options={"eur": {"tiers": [{"up_to": 10, "unit_amount": 4500},
                                                    {"up_to": 50, "unit_amount": 3600,
                                                     "flat_amount": 900},
                                                    {"up_to": "inf", "unit_amount": 2700}]}})
    await price("ent-volume", "enterprise", currency="usd", recurring=year,
                billing_scheme="tiered", tiers_mode="volume",
                tiers=[{"up_to": 100, "unit_amount": 48000},
                       {"up_to": "inf", "unit_amount": 40000, "flat_amount_decimal": "500"}])
    await price("ent-wk", "enterprise", currency="usd", unit_amount=25000,
                recurring={"interval": "week"}, nickname="Enterprise pilot (weekly)")
    await price("api-metered", "api", currency="usd", unit_amount_decimal="0.25",
                recurring={"interval": "month", "usage_type": "metered",
                           "meter": meters["api_calls"]["id"]},
                lookup_key="api_calls")
    await price("api-tiered", "api", currency="usd", billing_scheme="tiered",
                tiers_mode="graduated",
                recurring={"interval": "month", "usage_type": "metered",
                           "meter": meters["api_calls"]["id"]},
                tiers=[{"up_to": 1000, "unit_amount": 0},
                       {"up_to": "inf", "unit_amount_decimal": "0.1"}])
    await price("seats-metered", "pro", currency="usd", unit_amount=500,
                recurring={"interval": "month", "usage_type": "metered",
                           "meter": meters["seats"]["id"]}, nickname="Seats (metered)")
    await price("builds", "builds", currency="usd", unit_amount=1,
                recurring={"interval": "month", "usage_type": "metered",
                           "meter": meters["builds"]["id"]})
    await price("builds-pack", "builds", currency="usd", unit_amount=1000,
                transform_quantity={"divide_by": 1000, "round": "up"},
                nickname="1000 build minutes")
    await price("storage-m", "storage", currency="usd", unit_amount=500, recurring=month,
                transform_quantity={"divide_by": 10, "round": "down"})
    await price("tshirt", "tshirt", currency="usd", unit_amount=2500, lookup_key="tshirt",
                currency_options={"eur": {"unit_amount": 2300}, "gbp": {"unit_amount": 2000}},
                tax_behavior="inclusive")
    await price("tshirt-eur", "tshirt", currency="eur", unit_amount=2300)
    await price("mug", "mug", currency="usd", unit_amount=1200)
    await price("mug-dup", "mug", currency="usd", unit_amount=1200, nickname="Mug (again)")
    await price("pro-copy", "pro-copy", currency="usd", unit_amount=2900, recurring=month)
    await price("donation", "donation", currency="usd",
                custom_unit_amount={"enabled": True, "minimum": 500, "maximum": 100000,
                                    "preset": 2500})
    await price("donation-eur", "donation", currency="eur",
                custom_unit_amount={"enabled": True},
                currency_options={"gbp": {"custom_unit_amount": {"enabled": True,
                                                                 "minimum": 300}}})
    await price("credits", "credits", currency="usd", unit_amount=100,
                lookup_key="Credits.Single", metadata={"sku": "CR-1"})
    await price("credits-10", "credits", currency="usd", unit_amount=900,
                transform_quantity={"divide_by": 10, "round": "up"}, lookup_key="credits_10")
    await price("consulting", "consulting", currency="usd", unit_amount=20000,
                tax_behavior="exclusive", nickname="Hourly")
    await price("consulting-gbp", "consulting", currency="gbp", unit_amount_decimal="15000.5")
    await price("legacy-basic-m", "legacy-basic", currency="usd", unit_amount=500,
                recurring=month, lookup_key="basic_monthly")
    await price("legacy-basic-y", "legacy-basic", currency="usd", unit_amount=5000,
                recurring=year)
    await price("legacy-team", "legacy-team", currency="usd", unit_amount=4900,
                recurring=month)
    await price("sunset", "sunset", currency="usd", unit_amount=100, recurring=month)
    await price("gift-25", "gift-card", currency="usd", unit_amount=2500, nickname="$25")
    await price("gift-25-again", "gift-card", currency="usd", unit_amount=2500,
                nickname="$25")  # an exact duplicate (a double click)
    await price("gift-50", "gift-card", currency="usd", unit_amount=5000, nickname="$50")
    await price("gift-100", "gift-card", currency="usd", unit_amount=10000, nickname="$100")
    await price("retired", "retired", currency="usd", unit_amount=300, recurring=month)
    await price("starter-daily", "starter", currency="usd", unit_amount=50,
                recurring={"interval": "day", "trial_period_days": 7})

    # defaults, then archive what the dashboard user retired
    for label, price_label in [("pro", "pro-m"), ("starter", "starter-m"),
                               ("tshirt", "tshirt"), ("legacy-basic", "legacy-basic-m")]:
        await client.update(KINDS["products"].path, products[label]["id"],
                            {"default_price": prices[price_label]["id"]})
    for label in ("pro-m-older", "legacy-basic-y", "legacy-team", "sunset", "ent-wk"):
        await _archive(client, "prices", prices[label])
    for label in ("legacy-team", "sunset", "retired"):
        await _archive(client, "products", products[label])

    # -- coupons of every duration, promotion codes -------------------------------------------
    redeem_by = int(time.time()) + YEAR
    coupons = {}
    coupons["welcome"] = await create("coupons", id="WELCOME10", percent_off=10,
                                      duration="once", name="Welcome 10%")
    coupons["forever"] = await create("coupons", id="partner-forever", percent_off=15.5,
                                      duration="forever", metadata={"owner": "partnerships"})
    coupons["repeat"] = await create("coupons", id="3-months-half", percent_off=50,
                                     duration="repeating", duration_in_months=3,
                                     max_redemptions=100)
    coupons["amount"] = await create("coupons", id="ten-off", amount_off=1000, currency="usd",
                                     duration="once", name="$10 off",
                                     currency_options={"eur": {"amount_off": 900},
                                                       "gbp": {"amount_off": 800}})
    coupons["amount-forever"] = await create("coupons", amount_off=500, currency="eur",
                                             duration="forever", name="EUR loyalty")
    coupons["pro-only"] = await create("coupons", id="pro-only-20", percent_off=20,
                                       duration="repeating", duration_in_months=12,
                                       applies_to={"products": [products["pro"]["id"],
                                                                products["enterprise"]["id"]]})
    coupons["limited"] = await create("coupons", id="black-friday", percent_off=30,
                                      duration="once", redeem_by=redeem_by, max_redemptions=500)
    coupons["random"] = await create("coupons", percent_off=5)  # generated id, no name
    coupons["amount-repeat"] = await create("coupons", id="2-off-6m", amount_off=200,
                                            currency="usd", duration="repeating",
                                            duration_in_months=6)

    async def promo(coupon: str, **params: Any) -> dict[str, Any]:
        return await create("promotion_codes",
                            promotion={"type": "coupon", "coupon": coupons[coupon]["id"]},
                            **params)

    await promo("welcome", code="WELCOME")
    await promo("welcome", code="HELLO", restrictions={"first_time_transaction": True})
    await promo("amount", code="TENOFF",
                restrictions={"minimum_amount": 5000, "minimum_amount_currency": "usd"},
                max_redemptions=50)
    await promo("limited", code="BF2026", expires_at=redeem_by - 3600)
    await promo("repeat", code="HALFOFF", metadata={"campaign": "spring"})
    old_code = await promo("forever", code="PARTNER")
    await client.update(KINDS["promotion_codes"].path, old_code["id"], {"active": False})
    await promo("forever", code="partner2")
    await promo("pro-only", active=False, code="PROTEAM")
    await promo("random")  # generated code

    # -- tax rates, shipping rates ------------------------------------------------------------
    async def tax(**params: Any) -> dict[str, Any]:
        return await create("tax_rates", **params)

    await tax(display_name="VAT", percentage=20, inclusive=True, country="GB",
              jurisdiction="GB", tax_type="vat", description="UK VAT")
    await tax(display_name="VAT", percentage=19, inclusive=True, country="DE", tax_type="vat")
    await tax(display_name="VAT", percentage=21, inclusive=False, country="NL")
    await tax(display_name="Sales tax", percentage=8.875, inclusive=False, country="US",
              state="NY", jurisdiction="US - NY", tax_type="sales_tax")
    await tax(display_name="Sales tax", percentage=7.25, inclusive=False, country="US",
              state="CA", tax_type="sales_tax", metadata={"source": "manual"})
    gst = await tax(display_name="GST", percentage=10, inclusive=False, country="AU")
    await tax(display_name="GST", percentage=10, inclusive=False, country="AU",
              description="replacement")  # a look-alike of the archived one
    await client.update(KINDS["tax_rates"].path, gst["id"], {"active": False})
    await tax(display_name="VAT", percentage=20, inclusive=False, country="FR",
              tax_type="vat")

    async def shipping(**params: Any) -> dict[str, Any]:
        return await create("shipping_rates", **params)

    await shipping(display_name="Standard", fixed_amount={"amount": 500, "currency": "usd"},
                   delivery_estimate={"minimum": {"unit": "business_day", "value": 3},
                                      "maximum": {"unit": "business_day", "value": 5}})
    await shipping(display_name="Express", tax_behavior="exclusive", tax_code="txcd_92010001",
                   fixed_amount={"amount": 1500, "currency": "usd",
                                 "currency_options": {
                                     "eur": {"amount": 1400, "tax_behavior": "exclusive"},
                                     "gbp": {"amount": 1200}}},
                   delivery_estimate={"minimum": {"unit": "day", "value": 1},
                                      "maximum": {"unit": "day", "value": 2}})
    await shipping(display_name="Free shipping", fixed_amount={"amount": 0, "currency": "usd"},
                   metadata={"min_order": "50"})
    overnight = await shipping(display_name="Overnight",
                               fixed_amount={"amount": 3000, "currency": "usd"},
                               delivery_estimate={"maximum": {"unit": "hour", "value": 24}})
    await client.update(KINDS["shipping_rates"].path, overnight["id"], {"active": False})
    await shipping(display_name="Standard", fixed_amount={"amount": 700, "currency": "eur"})

    # -- payment method configurations, webhook endpoints ---------------------------------------
    await create("payment_method_configurations", name="Checkout EU",
                 card={"display_preference": {"preference": "on"}},
                 sepa_debit={"display_preference": {"preference": "on"}},
                 ideal={"display_preference": {"preference": "on"}},
                 apple_pay={"display_preference": {"preference": "off"}})
    await create("payment_method_configurations", name="Wallets only",
                 card={"display_preference": {"preference": "off"}},
                 apple_pay={"display_preference": {"preference": "on"}},
                 google_pay={"display_preference": {"preference": "on"}})

    async def webhook(**params: Any) -> dict[str, Any]:
        return await create("webhook_endpoints", **params)

    await webhook(url="https://example.com/stripe/webhooks",
                  enabled_events=["invoice.paid", "customer.subscription.updated",
                                  "customer.subscription.deleted"],
                  api_version="2026-10-28.endive", description="billing service")
    await webhook(url="https://example.com/stripe/webhooks", enabled_events=["*"],
                  api_version="2024-06-20")  # the same URL on an older version
    await webhook(url="https://hooks.example.org:8443/legacy", enabled_events=["charge.succeeded"],
                  api_version="2019-02-19", metadata={"team": "legacy"})
    disabled = await webhook(url="https://old.example.net/hook",
                             enabled_events=["invoice.payment_failed"])
    await client.update(KINDS["webhook_endpoints"].path, disabled["id"], {"disabled": True})
    await webhook(url="http://localhost:4242/webhook",
                  enabled_events=["checkout.session.completed", "invoice.paid"],
                  api_version="2025-03-31.basil")
    return made
