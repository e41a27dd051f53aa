"""Which amount a change qualifies, by where it stands (docs/extraction.md, rule 2): just before
"to <amount>" ("rose 3.8% to $11.9 billion"), else just after its amount ("$14.3 billion, 9 per cent
more"); and whether a change has its own period (then it is a figure of its own)."""

from __future__ import annotations

import re

from app.draft import numbers
from app.draft.periods import Period

# The words between a change and the amount it leads to: "rose 3.8% to $11.9 billion",
# "grew 9.4 percent year on year to 78.2 billion yuan", "a 10% jump to a record"
_CHANGE_TO_AMOUNT = re.compile(
    r"^[\s,)–—-]*(?:[\w’'/-]+\s){0,8}?(?:to|at|reaching|surpassing|exceeding|topping|totall?ing|hitting|amounting to)\s"
    r"(?:[a-z-]+\s){0,4}$",  # "to an all-time high of"
    re.I,
)
# The words between an amount and a change that qualifies it: "$14.3 billion, 9 per cent more",
# "78.2 billion yuan in 2025, up 9.4%", "an increase of 10.1 percent", "(+5%)"
_AMOUNT_THEN_CHANGE = re.compile(
    r"^(?P<prefix>[^;]{0,60},\s)?[\s,(]*(?:(?:which|that)\s(?:is|was|were)\s|with\s)?"
    r"(?:(?:an?\s)?(?:year[- ]on[- ]year\s|annual\s)?"
    r"(?:increase|decrease|rise|drop|decline|jump|fall|growth|gain|surge|plunge)\s(?:of\s)?|"
    r"(?:up|down|surging|rising|growing|jumping|falling|dropping|declining|increasing|decreasing|climbing|soaring|"
    r"gaining|sliding)\s(?:by\s)?|(?:a\s)?(?:year[- ]on[- ]year\s)?)?"
    r"(?:(?:nearly|almost|about|around|some|approximately|roughly|more than|over|just over|less than|a)\s)*[+-]?$",
    re.I,
)
_AND_REACHED = re.compile(
    r"\s(?:and|,)\s(?:amounted to|reached|totall?ed|stood at|came to)\s(?=(?:[a-z]+\s){0,3}$)", re.I
)
# words that open another statement between an amount and a change
_CLAUSE_WORD = re.compile(
    r"\b(?:and|while|but|after|before|when|which|that|is|are|was|were|will|would|has|have|had|could|said|says)\b", re.I
)


def _without_periods(body: str, start: int, end: int, periods: list[Period]) -> str:
    """Return body[start:end] with the period phrases in it blanked out (they carry digits)."""
    chars = list(body[start:end])
    for p in periods:
        for i in range(max(p.at, start), min(p.at + len(p.label), end)):
            chars[i - start] = " "
    return re.sub(r"\s+", " ", "".join(chars))


def bind_changes(
    body: str,
    amounts: list[numbers.Money | numbers.Quantity],
    changes: list[numbers.Change],
    periods: list[Period],
) -> dict[int, int]:
    """Return change index -> amount index, by where a change stands: just before "to <amount>"
    ("rose 3.8% to $11.9 billion"), else just after its amount ("$14.3 billion, 9 per cent more",
    "78.2 billion yuan in 2025, up 9.4%"). A change that fits neither stays unbound."""
    bound: dict[int, int] = {}
    taken: set[int] = set()
    for i, change in enumerate(changes):
        nxt = next((j for j, a in enumerate(amounts) if a.start >= change.end), None)
        if nxt is None or nxt in taken:
            continue
        gap = _without_periods(body, change.end, amounts[nxt].start, periods)
        # "increased by 18.9% compared to the same period last year and amounted to $2.6 billion"
        gap = _AND_REACHED.sub(" to ", gap)
        if (
            len(gap) <= 60
            and not re.search(r"\d", gap)
            and not _CLAUSE_WORD.search(gap)
            and _CHANGE_TO_AMOUNT.match(gap)
        ):
            bound[i] = nxt
            taken.add(nxt)
    for i, change in enumerate(changes):
        if i in bound:
            continue
        prev = next((j for j in reversed(range(len(amounts))) if amount_end(amounts[j]) <= change.start), None)
        if prev is None or prev in taken:
            continue
        gap = _without_periods(body, amount_end(amounts[prev]), change.start, periods)
        m = _AMOUNT_THEN_CHANGE.match(gap) if len(gap) <= 80 and not re.search(r"\d", gap) else None
        if m and not _CLAUSE_WORD.search(m.group("prefix") or ""):
            bound[i] = prev
            taken.add(prev)
    return bound


def amount_end(amount: numbers.Money | numbers.Quantity) -> int:
    return amount.full_end if isinstance(amount, numbers.Money) else amount.end


def own_period(change: numbers.Change, amounts: list[numbers.Money | numbers.Quantity], periods: list[Period]) -> bool:
    """Return whether a period follows the change before any amount does."""
    nxt = min((a.start for a in amounts if a.start > change.end), default=10**9)
    return any(change.end <= p.at < nxt and p.at - change.end <= 40 for p in periods)
