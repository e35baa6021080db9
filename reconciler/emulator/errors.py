"""Stripe's error answers, raised as exceptions anywhere in the emulator.

Every failure a client can see is a :class:`StripeError`; the application turns it into
Stripe's body ``{"error": {type, code, param, message, doc_url, request_log_url}}`` and
status. Codes are taken from the reference ``error_codes`` list, or left ``None`` where Stripe
itself answers without a code (bad enum or boolean values, unrecognized URLs, rule violations
that have no dedicated code).
"""

from __future__ import annotations

from typing import Any

from reconciler import reference


class StripeError(Exception):
    """An error response: ``status`` and the fields of Stripe's ``error`` object."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        replayable: bool = True,
    ) -> None:
        super().__init__(message)
        if code is not None and code not in reference.error_codes():
            raise ValueError(f"{code!r} is not one of Stripe's error codes")
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}
        # Stripe saves an idempotent result only once the endpoint started executing; errors
        # found while reading the parameters are not saved.
        self.replayable = replayable

    def body(self, request_id: str, livemode: bool = False) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param is not None:
            error["param"] = self.param
        mode = "" if livemode else "test/"
        error["request_log_url"] = f"https://dashboard.stripe.com/{mode}logs/{request_id}"
        return {"error": error}


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    """A parameter problem: Stripe's usual 400 ``invalid_request_error``."""
    return StripeError(message, param=param, code=code, replayable=False)


def unknown_parameter(param: str, hint: str = "") -> StripeError:
    message = f"Received unknown parameter: {param}"
    return invalid(f"{message}. {hint}" if hint else message, param, "parameter_unknown")


def missing_parameter(param: str, detail: str = "") -> StripeError:
    return invalid(detail or f"Missing required param: {param}.", param, "parameter_missing")


def no_such(object_name: str, object_id: str, param: str = "id", status: int = 404) -> StripeError:
    """An id that names nothing in this account (404 on the URL, 400 when it is a parameter)."""
    label = object_name.rsplit(".", 1)[-1].replace("_", " ")
    return StripeError(
        f"No such {label}: '{object_id}'", status=status, code="resource_missing", param=param
    )


def conflict(message: str, param: str) -> StripeError:
    """The value is already taken by another object (lookup keys, codes, custom ids)."""
    return StripeError(message, code="resource_already_exists", param=param)


def rule(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    """A Stripe business rule refused the request; it ran, so its answer is replayable."""
    return StripeError(message, param=param, code=code)


def unrecognized_url(method: str, path: str) -> StripeError:
    return StripeError(
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/.",
        status=404,
        replayable=False,
    )
