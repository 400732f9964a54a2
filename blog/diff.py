"""A readable diff of two texts, line by line and word by word within a line,
for the revisions screen (templates/admin/blog/revision_diff.html)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

# Unchanged lines shown around each change; the rest are folded into a gap.
CONTEXT_LINES = 2
# Two lines less alike than this read better as one removed and one added
# than as a word-by-word change.
ALIKE = 0.5
# Pairing lines costs a comparison per pair: past this many pairs, a block
# of replaced lines is shown as removed then added.
MAX_PAIRINGS = 400
WORDS = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class Part:
    """A run of text in a changed line: "same", "removed" or "added"."""

    kind: str
    text: str


@dataclass
class Line:
    """One line of the diff.

    `kind` is "same", "removed", "added", "changed" (the line's words are
    in `parts`) or "gap" (`folded` unchanged lines not shown).
    """

    kind: str
    text: str = ""
    parts: list[Part] = field(default_factory=list)
    folded: int = 0


@dataclass
class FieldDiff:
    """How one field (title, body, excerpt) differs."""

    label: str
    lines: list[Line]
    removed: int
    added: int
    # False when the texts are equal; True with no lines when only line
    # endings or blank lines at the end differ.
    changed: bool


def words(old: str, new: str) -> list[Part]:
    """The words of a changed line: kept, removed and added runs in order."""
    a, b = WORDS.findall(old), WORDS.findall(new)
    parts: list[Part] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            parts.append(Part("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            parts.append(Part("removed", "".join(a[i1:i2])))
        if j2 > j1:
            parts.append(Part("added", "".join(b[j1:j2])))
    return parts


def alike(a: str, b: str) -> bool:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return matcher.real_quick_ratio() >= ALIKE and matcher.ratio() >= ALIKE


def replaced(old: list[str], new: list[str]) -> list[Line]:
    """Lines replaced by others: each old line paired, in order, with the
    next new line alike enough (a change of words); the others removed or
    added. A large rewrite is shown as removed then added lines."""
    if len(old) * len(new) > MAX_PAIRINGS:
        return [Line("removed", a) for a in old] + [Line("added", b) for b in new]
    lines: list[Line] = []
    next_new = 0
    for a in old:
        match = next((k for k in range(next_new, len(new)) if alike(a, new[k])), None)
        if match is None:
            lines.append(Line("removed", a))
            continue
        lines.extend(Line("added", b) for b in new[next_new:match])
        lines.append(Line("changed", parts=words(a, new[match])))
        next_new = match + 1
    lines.extend(Line("added", b) for b in new[next_new:])
    return lines


def diff_lines(old: str, new: str) -> list[Line]:
    """`old` to `new` as lines: the changes with CONTEXT_LINES unchanged
    lines around each, and gaps where unchanged lines are left out."""
    a, b = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    lines: list[Line] = []
    shown_to = 0  # the index in `a` up to which lines are accounted for
    for group in matcher.get_grouped_opcodes(CONTEXT_LINES):
        first = group[0][1]
        if first > shown_to:
            lines.append(Line("gap", folded=first - shown_to))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines.extend(Line("same", text) for text in a[i1:i2])
            elif tag == "delete":
                lines.extend(Line("removed", text) for text in a[i1:i2])
            elif tag == "insert":
                lines.extend(Line("added", text) for text in b[j1:j2])
            else:
                lines.extend(replaced(a[i1:i2], b[j1:j2]))
        shown_to = group[-1][2]
    if lines and shown_to < len(a):
        lines.append(Line("gap", folded=len(a) - shown_to))
    return lines


def diff_field(label: str, old: str, new: str) -> FieldDiff:
    lines = diff_lines(old, new) if old != new else []
    return FieldDiff(
        label=label,
        lines=lines,
        removed=sum(line.kind in {"removed", "changed"} for line in lines),
        added=sum(line.kind in {"added", "changed"} for line in lines),
        changed=old != new,
    )
