"""Global options reach the Stripe client: ``--rate-limit`` and its environment variable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli import context, main
from reconciler.stripe import StripeError
from reconciler.stripe.client import DEFAULT_MAX_CONCURRENCY

KEY = "sk_test_" + "0" * 24
SAAS = str(Path(__file__).parents[2] / "examples" / "saas")


class _Stop(StripeError):
    pass


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record the client's keyword arguments, then stop the command before any request."""
    calls: list[dict[str, Any]] = []

    def fake_client(api_key: str, **kwargs: Any) -> None:
        calls.append(kwargs)
        raise _Stop("stopped by the test")

    monkeypatch.setattr(context, "StripeClient", fake_client)
    return calls


@pytest.mark.parametrize(("args", "env", "expected"), [
    (["--rate-limit", "7"], {}, 7.0),
    ([], {"RECONCILER_RATE_LIMIT": "3.5"}, 3.5),
    ([], {}, None),  # None: the client picks 23/s or 92/s by key mode
])
def test_rate_limit_reaches_the_client(built: list[dict[str, Any]], args: list[str],
                                       env: dict[str, str], expected: float | None) -> None:
    result = CliRunner().invoke(main, [*args, "--api-key", KEY, "plan", SAAS],
                                env={"RECONCILER_RATE_LIMIT": None, **env})
    assert result.exit_code == 1, result.output
    assert built == [{"stripe_account": None, "rate_limit": expected, "endpoint_rate_limit": None,
                      "request_timeout": 30.0, "max_response_bytes": 16 * 1024 * 1024,
                      "max_concurrency": DEFAULT_MAX_CONCURRENCY}]  # apply: at least its --parallelism


def test_rate_limit_after_the_subcommand(built: list[dict[str, Any]]) -> None:
    CliRunner().invoke(main, ["--api-key", KEY, "plan", SAAS, "--rate-limit", "9"])
    assert built[0]["rate_limit"] == 9.0


@pytest.mark.parametrize("value", ["0", "-1", "fast", "nan", "inf", "1e-9"])
def test_bad_rate_limit_is_a_usage_error(built: list[dict[str, Any]], value: str) -> None:
    result = CliRunner().invoke(main, ["--rate-limit", value, "--api-key", KEY, "plan",
                                       SAAS])
    assert result.exit_code == 1
    assert "--rate-limit" in result.output
    assert isinstance(result.exception, SystemExit)  # a usage error, not a crash
    assert built == []


@pytest.mark.parametrize("command", ["plan", "drift", "apply", "import"])
@pytest.mark.parametrize(("key", "shown"), [("pk_test_" + "a" * 24, "pk_test_..."),
                                            ("pk_live_" + "b" * 24, "pk_live_...")])
def test_publishable_key_is_refused_before_any_request(built: list[dict[str, Any]], command: str,
                                                       key: str, shown: str) -> None:
    result = CliRunner().invoke(main, [command, SAAS], env={"STRIPE_API_KEY": key})
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert built == []  # no client, so no request
    assert (f"the API key is a publishable key ({shown}), which can only be used in a browser "
            "or app; reconciler needs a secret key (sk_...) or a restricted key (rk_...)"
            ) in " ".join(result.output.split())
    assert key not in result.output


@pytest.mark.parametrize(("args", "env", "timeout", "size"), [
    (["--request-timeout", "2.5", "--max-response-bytes", "5MB"], {}, 2.5, 5_000_000),
    ([], {"RECONCILER_REQUEST_TIMEOUT": "7", "RECONCILER_MAX_RESPONSE_BYTES": "64KiB"}, 7.0,
     65536),
    (["--max-response-bytes", "1000"], {}, 30.0, 1000),
])
def test_response_limits_reach_the_client(built: list[dict[str, Any]], args: list[str],
                                          env: dict[str, str], timeout: float,
                                          size: int) -> None:
    CliRunner().invoke(main, ["--api-key", KEY, "plan", SAAS, *args], env=env)
    assert (built[0]["request_timeout"], built[0]["max_response_bytes"]) == (timeout, size)


@pytest.mark.parametrize(("option", "value"), [
    ("--request-timeout", "0"), ("--request-timeout", "inf"), ("--max-response-bytes", "0"),
    ("--max-response-bytes", "5 parsecs"), ("--max-response-bytes", "-5MB"),
])
def test_bad_response_limits_are_usage_errors(built: list[dict[str, Any]], option: str,
                                              value: str) -> None:
    result = CliRunner().invoke(main, ["--api-key", KEY, "plan", SAAS, option, value])
    assert result.exit_code == 1 and option in result.output and built == []
