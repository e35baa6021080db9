"""Plan refusals as data: each problem is its message, with a code and the address it is
about, so the JSON plan and CI can tell a conflict from a guard (docs/troubleshooting.md
lists the codes).

A :class:`Problem` is a ``str`` (its message, as the text output prints it), so code that
reads problems as text keeps working; ``code`` and ``address`` are what a program reads.
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

    def __new__(cls, code: str, message: str, address: str | None = None) -> Self:
        assert code in CODES, code
        problem = super().__new__(cls, message)
        problem.code = code
        problem.address = address
        return problem

    @classmethod
    def about(cls, code: str, address: str, message: str) -> Self:
        """A problem of one entry: its message starts with the address, as every entry's
        problem does in text."""
        return cls(code, f"{address}: {message}", address)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "address": self.address, "message": str(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(data["code"], data["message"], data.get("address"))
