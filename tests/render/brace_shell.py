"""Reading back the keys the Markdown plan names in shell brace notation.

bash itself expands them: the notation claims to be bash's, so a compressor that means
something bash does not read that way fails the tests that use this.
"""

from __future__ import annotations

import json
import re
import subprocess

HEADING = re.compile(r"(\w+) (\w+) \((\d+)(?: of (\d+))?\):")


def expand(items: list[str]) -> list[str]:
    """Every key ``items`` name, repeats kept (a key named twice is there twice)."""
    keys = [json.loads(item) for item in items if item.startswith('"')]
    plain = [item for item in items if not item.startswith('"')]
    if plain:
        out = subprocess.run(["bash", "-c", "printf '%s\\n' " + " ".join(plain)],
                             capture_output=True, text=True, check=True).stdout
        keys += out.splitlines()
    return keys


def split_items(text: str) -> list[str]:
    """``a-{b,c},"x, y", d`` -> the three items: commas outside braces and quotes separate."""
    items: list[str] = []
    depth = start = at = 0
    while at < len(text):
        if text[at] == '"':
            at = json.JSONDecoder().raw_decode(text, at)[1]
            continue
        depth += {"{": 1, "}": -1}.get(text[at], 0)
        if text[at] == "," and depth == 0:
            items.append(text[start:at].strip())
            start = at + 1
        at += 1
    return items + ([text[start:].strip()] if text[start:].strip() else [])


def named(markdown: str) -> dict[tuple[str, str], tuple[list[str], int, int]]:
    """(action, kind) -> (the keys named, the count the heading says are named, the total it
    says there are), from the plan's list of replacements and removals."""
    section = markdown.split("#### Replacements and removals\n", 1)[1]
    block = section.split("```text\n", 1)[1].split("\n```\n", 1)[0]
    texts: dict[tuple[str, str], list[str]] = {}
    counts: dict[tuple[str, str], tuple[int, int]] = {}
    group = ("", "")
    for line in block.split("\n"):
        if line.startswith("  "):
            texts[group].append(line[2:])
            continue
        heading = HEADING.fullmatch(line)
        assert heading, line
        group = (heading[1], heading[2])
        assert group not in texts, f"{group} listed twice"
        texts[group] = []
        counts[group] = (int(heading[3]), int(heading[4] or heading[3]))
    # a line may break after any comma, inside braces too: lines join without a space
    return {group: (expand(split_items("".join(lines))), *counts[group])
            for group, lines in texts.items()}
