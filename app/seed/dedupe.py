"""Near-duplicate detection between articles (a rewrite of the same story)."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from itertools import combinations

SHINGLE = 2
THRESHOLD = Decimal("0.25")
METHOD = (
    f"overlap coefficient of lower-cased word {SHINGLE}-shingles, |A∩B| / min(|A|, |B|), "
    f"threshold {THRESHOLD}; the article with fewer shingles is marked as the duplicate"
)
_WORD = re.compile(r"\w+")


@dataclasses.dataclass(frozen=True)
class Duplicate:
    duplicate: str
    original: str
    score: Decimal
    method: str = METHOD


def shingles(text: str, size: int = SHINGLE) -> frozenset[tuple[str, ...]]:
    """Return the set of word n-grams of `text`, lower-cased."""
    words = _WORD.findall(text.lower())
    return frozenset(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


def overlap(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> Decimal:
    """Return |a∩b| / min(|a|, |b|), rounded to 4 places (0 when either is empty)."""
    if not a or not b:
        return Decimal(0)
    return (Decimal(len(a & b)) / Decimal(min(len(a), len(b)))).quantize(Decimal("0.0001"))


def find_duplicates(bodies: dict[str, str]) -> list[Duplicate]:
    """Return one link per article that is a near-duplicate, to its best-matching original."""
    sets = {slug: shingles(body) for slug, body in sorted(bodies.items())}
    best: dict[str, Duplicate] = {}
    for a, b in combinations(sets, 2):
        score = overlap(sets[a], sets[b])
        if score < THRESHOLD:
            continue
        dup, orig = (a, b) if (len(sets[a]), a) < (len(sets[b]), b) else (b, a)
        if dup not in best or score > best[dup].score:
            best[dup] = Duplicate(dup, orig, score)
    # an original is never itself marked a duplicate: keep links acyclic and one level deep
    originals = {d.original for d in best.values()}
    return [d for slug, d in sorted(best.items()) if slug not in originals]
