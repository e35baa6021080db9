"""Plan refusals as data: each problem is its message, with a code and the address it is
about, so the JSON plan and CI can tell a conflict from a guard (docs/troubleshooting.md
lists the codes).

A :class:`Problem` is a ``str`` (its message and hint, as the text output prints them), so
code that reads problems as text keeps working; ``code``, ``address``, ``message`` and
``hint`` (the fix, when there is one) are what a program reads. The text joins a hint that is
a clause with "; " and one that is a sentence (it starts with a capital) with ". ".
"""

from __future__ import annotations

from typing import Any, Self

CODES = {
    "ambiguous-adoption": "several unmanaged objects have exactly the stated fields",
    "ambiguous-match": "a natural key matches several live objects",
    "unmanaged-holder": "the natural key is held by an object reconciler does not manage",
    "owned-elsewhere": "the natural key is held by an object another entry or stack owns",
    "foreign-record": "an object without metadata is another stack's",
    "unknown-owner": "an object without metadata that no stack recorded would change",
    "adopt-differs": "an object to adopt differs in a field that cannot change in place",
    "prevent-destroy": "a change would remove or replace a protected object",
    "replacement-refused": "the kind cannot replace the object",
    "namesake": "a permanent natural key changed; the old object keeps the label",
    "default-price": "a price to archive is a product's default price",
    "bulk-guard": "the plan would remove more than the allowed share of a kind",
    "keeps-nothing": "the plan would remove everything the stack has",
}
"""Every code, with what it means."""


class Problem(str):
    """One reason a plan cannot be made as asked."""

    code: str
    address: str | None
    message: str
    hint: str | None

    def __new__(cls, code: str, message: str, address: str | None = None,
                hint: str | None = None) -> Self:
        assert code in CODES, code
        joint = ". " if hint and hint[0].isupper() else "; "
        problem = super().__new__(cls, f"{message}{joint}{hint}" if hint else message)
        problem.code = code
        problem.address = address
        problem.message = message
        problem.hint = hint
        return problem

    @classmethod
    def about(cls, code: str, address: str, message: str, hint: str | None = None) -> Self:
        """A problem of one entry: its message starts with the address, as every entry's
        problem does in text."""
        return cls(code, f"{address}: {message}", address, hint)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "address": self.address, "message": self.message,
                "hint": self.hint}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(data["code"], data["message"], data.get("address"), data.get("hint"))
