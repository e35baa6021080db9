"""Markdown plan for pull-request comments and job summaries.

Summary and warnings first, details folded in ``<details>``. GitHub refuses a comment over
65,535 characters, and the workflow puts a marker before ours, so a plan that does not fit
drops its details and lists what it can. Replacements and removals come first, being what a
reviewer must not miss: as table rows with their ids while those fit, else every one named
compactly by action and kind (see ``braces``), else as many as fit and exactly how many are
not named. Creates, updates and adoptions fill the table with the room left.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence

from reconciler.plan import Action, Change, Plan

from .braces import compress, quote, wrap
from .values import (
    detail_lines,
    digest_line,
    header,
    headline,
    legend,
    step_notes,
    summary_cell,
    summary_line,
    symbol,
)

LIMIT = 65_535
# What .github/workflows/reconciler.yml writes before the plan. The environment is not in the
# plan; it names an overlay directory, and file names are at most 255 characters.
MARKER = "<!-- reconciler-plan-{stack}-{env} -->\n"
LONGEST_ENV = "e" * 255
# Named first when not all fit: a deletion cannot be undone, an archive can.
SEVERITY = (Action.DELETE, Action.REPLACE, Action.ARCHIVE)
Group = tuple[str, str]  # (action, kind) of replacements and removals
NOTE = ["", ("_Details omitted: the plan is too large for one comment. The full plan is the "
             "`plan.json` artifact of this workflow run; `reconciler plan --format text` "
             "prints it._")]


def size(text: str) -> int:
    """Length in UTF-16 units, as JavaScript counts (a character outside the BMP counts
    twice): never less than GitHub counts, whichever way it does."""
    return len(text.encode("utf-16-le")) // 2


def room(stack: str) -> int:
    """What the plan may use of a comment: the rest is the workflow's marker."""
    return LIMIT - size(MARKER.format(stack=stack, env=LONGEST_ENV))


def _table(shown: Sequence[Change], left: Sequence[Change]) -> list[str]:
    if not shown and not left:
        return []
    lines = ["| | change | object | live id | summary |", "|---|---|---|---|---|"]
    lines += [f"| `{symbol(c)}` | {c.action.value} | `{c.address}` | {c.live_id or ''} | "
              f"{_cell(summary_cell(c))} |" for c in shown]
    if left:
        counts = Counter(c.action.value for c in left)
        what = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
        lines.append(f"| | … | {len(left)} more changes not shown ({what}) | | |")
    return lines


def _cell(text: str) -> str:
    """Text in a table cell: a pipe would end the cell."""
    return text.replace("|", "\\|")


def _details(plan: Plan) -> list[str]:
    lines = ["<details><summary>Details</summary>", "", "```diff"]
    for change in plan.pending:
        lines.append(headline(change))
        lines += [f"    {line}" for line in detail_lines(change)]
        lines += [f"    > {note}" for note in step_notes(change)]
    return lines + ["", legend({symbol(c) for c in plan.pending}), "```", "", "</details>"]


def _listing(destructive: Sequence[Change], named: int, braced: Collection[Group],
             others: bool) -> list[str]:
    """The first ``named`` replacements and removals, by action and kind, in a code block
    (where keys read as they are, whatever an ownership tag set by hand holds): the groups in
    ``braced`` in brace notation, the others key by key, as a reader searches for them."""
    if not destructive:
        return []
    left = len(destructive) - named
    lines = ["#### Replacements and removals", ""]
    if left:
        lines += [(f"**{left} of {len(destructive)} replacements and removals are not named "
                   "here**, too many for one comment; the full plan names them (see the end)."),
                  ""]
    if braced:
        lines += [("Braces are shell brace notation: `a-{b,c}` is `a-b` and `a-c`, `{08..10}` "
                   "is `08`, `09` and `10`."), ""]
    lines.append("```text")
    chosen = set(map(id, destructive[:named]))
    for group, changes in _groups(destructive).items():
        keys = [c.key for c in changes if id(c) in chosen]
        items = compress(keys) if group in braced else [quote(k) for k in sorted(keys)]
        count = f"{len(keys)}" if len(keys) == len(changes) else f"{len(keys)} of {len(changes)}"
        lines += [f"{group[0]} {group[1]} ({count}):"] + [f"  {line}" for line in wrap(items)]
    lines.append("```")
    return lines + (["", "#### Other changes", ""] if others else [])


def _groups(destructive: Sequence[Change]) -> dict[Group, list[Change]]:
    groups: dict[Group, list[Change]] = {}
    for change in destructive:
        groups.setdefault((change.action.value, change.kind), []).append(change)
    return groups


def _saving(changes: list[Change]) -> int:
    keys = [c.key for c in changes]
    return len(", ".join(map(quote, keys))) - len(", ".join(compress(keys)))


def _fill(head: list[str], block: list[str], first: Sequence[Change],
          others: Sequence[Change], budget: int) -> str | None:
    """``block``, then a table of ``first`` and as many of ``others`` as fit ``budget``;
    None if not even the table of ``first`` does."""
    def page(rows: int) -> str:
        shown = [*first, *others[:rows]]
        return "\n".join(head + block + _table(shown, others[rows:]) + NOTE) + "\n"

    if size(page(0)) > budget:
        return None
    low, high = 0, len(others)
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if size(page(middle)) <= budget else (low, middle - 1)
    return page(low)


def _summarised(plan: Plan, head: list[str], budget: int) -> str:
    destructive = sorted((c for c in plan.pending if c.action.destructive),
                         key=lambda c: (SEVERITY.index(c.action), c.kind))
    others = [c for c in plan.pending if not c.action.destructive]

    def naming(count: int, braced: Collection[Group]) -> str | None:
        return _fill(head, _listing(destructive, count, braced, bool(others)), [], others,
                     budget)

    if (text := _fill(head, [], destructive, others, budget)) is not None:
        return text
    groups = _groups(destructive)
    by_saving = sorted(groups, key=lambda g: _saving(groups[g]), reverse=True)
    for braced in range(len(by_saving) + 1):  # brace the groups that shrink most, in turn
        if (text := naming(len(destructive), by_saving[:braced])) is not None:
            return text
    # the most that fit: adding a key can shorten the notation, so "most" is approximate,
    # but the count of those not named is always exact
    best, low, high = naming(0, groups), 0, len(destructive) - 1
    while low < high:
        middle = (low + high + 1) // 2
        text = naming(middle, groups)
        low, high = (middle, high) if text is not None else (low, middle - 1)
        best = text or best
    # only warnings too long for any comment leave nothing that fits; they are all shown
    return best or "\n".join(head + _listing(destructive, 0, (), False) + NOTE) + "\n"


def render(plan: Plan, *, color: bool = False, verbose: bool = False) -> str:
    head = [f"### reconciler plan: {summary_line(plan).removeprefix('Plan: ')}", "",
            header(plan).replace(plan.account_id, f"`{plan.account_id}`"), "",
            digest_line(plan).replace(plan.reviewed_digest, f"`{plan.reviewed_digest}`"), ""]
    if plan.livemode:
        head += ["> [!CAUTION]", "> **LIVE MODE**: these changes affect real customers.", ""]
    if not plan.has_changes:
        return "\n".join(head + ["No changes. The live account matches the manifests."]) + "\n"
    if plan.warnings:
        head += ["> [!WARNING]"] + [f"> - {w}" for w in plan.warnings] + [""]
    budget = room(plan.stack)
    full = "\n".join(head + _table(plan.pending, ()) + [""] + _details(plan)) + "\n"
    return full if size(full) <= budget else _summarised(plan, head, budget)
