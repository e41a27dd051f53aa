"""Near-duplicate detection between articles (a rewrite of the same story)."""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import zlib
from collections import Counter
from collections.abc import Collection, Mapping
from decimal import Decimal

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
    return frozenset(zip(*(words[i:] for i in range(size)), strict=False))


def shingle_hashes(s: frozenset[tuple[str, ...]]) -> list[int]:
    """Return the 32-bit hashes of the shingles of `s`, sorted, each once (as Postgres int4 values).

    Stored per article, they let the database find the articles a new text may be a near-duplicate
    of without the seed reading every text: equal shingles hash alike, so counting shared hashes
    never undercounts shared shingles (bar two shared shingles of one pair hashing alike, which
    the candidate search allows for), and each candidate is then scored exactly on its text."""
    words: dict[str, int] = {}
    out = set()
    for shingle in s:
        h = 0
        for word in shingle:
            w = words.get(word)
            if w is None:
                w = words[word] = zlib.crc32(word.encode())
            h = (h * 0x9E3779B1 + w) & 0xFFFFFFFF  # order matters: (a, b) and (b, a) differ
        out.add(h - (1 << 32) if h >= 1 << 31 else h)
    return sorted(out)


def overlap(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> Decimal:
    """Return |a∩b| / min(|a|, |b|), rounded to 4 places (0 when either is empty)."""
    if not a or not b:
        return Decimal(0)
    return (Decimal(len(a & b)) / Decimal(min(len(a), len(b)))).quantize(Decimal("0.0001"))


def find_duplicates(bodies: dict[str, str]) -> list[Duplicate]:
    """Return one link per article that is a near-duplicate, to its best-matching original."""
    sets = {slug: shingles(body) for slug, body in bodies.items()}
    return choose_duplicates(similar_pairs(sets), {slug: len(s) for slug, s in sets.items()})


# A pair can reach THRESHOLD once rounded to 4 places from a little below it: candidates are
# looked for with this (lower) bound, and each is then scored exactly with `overlap`.
CANDIDATE_BOUND = THRESHOLD - Decimal("0.00005")


def similar_pairs(
    sets: Mapping[str, frozenset[tuple[str, ...]]], among: Collection[str] | None = None
) -> dict[tuple[str, str], Decimal]:
    """Return the score of every pair (a < b) at or above THRESHOLD; with `among`, only pairs touching it.

    Exact, without scoring every pair. For A (the smaller of a pair, so the one that sets the bar
    a = ceil(t|A|)) split A's shingles into its `c = a - max(1, a // 5)` most common ones
    (corpus-wide) and the rest: |A∩B| <= |B ∩ rest| + c, so B can reach the bar only when it
    shares at least a - c of A's rarer shingles. Those are counted through the index of shingles;
    leaving out the c most common ones leaves out the longest postings, whose walk grows with the
    square of the corpus (a // 2 of them walked four times as many at 4,000 articles). Only the
    articles that pass are scored."""
    if among is not None and len(among) * 20 <= len(sets):
        # a few changed articles: scoring them against every other costs less than indexing
        found: dict[tuple[str, str], Decimal] = {}
        for slug in among:
            for other in sets:
                pair = (slug, other) if slug < other else (other, slug)
                if other != slug and pair not in found and (value := overlap(sets[slug], sets[other])) >= THRESHOLD:
                    found[pair] = value
        return found
    # shingles as small ints from here on: a tuple's hash is not cached, an int's is itself
    number: dict[tuple[str, ...], int] = {}
    encoded = {slug: [number.setdefault(sh, len(number)) for sh in s] for slug, s in sets.items()}
    postings: list[list[str]] = [[] for _ in range(len(number))]
    for slug, tokens in encoded.items():
        for token in tokens:
            postings[token].append(slug)
    frequency = [len(p) for p in postings]
    size = {slug: (len(s), slug) for slug, s in sets.items()}
    touching = None if among is None else set(among)
    found = {}
    for slug, tokens in encoded.items():
        if not tokens:
            continue
        bar = max(1, math.ceil(CANDIDATE_BOUND * len(tokens)))
        common = bar - max(1, bar // 5)
        rarer = sorted(tokens, key=frequency.__getitem__)[: len(tokens) - common]
        shared = Counter(itertools.chain.from_iterable(map(postings.__getitem__, rarer)))
        mine = size[slug]
        need = bar - common
        for other in [other for other, count in shared.items() if count >= need]:
            if size[other] <= mine:
                continue
            if touching is not None and slug not in touching and other not in touching:
                continue
            pair = (slug, other) if slug < other else (other, slug)
            if (value := overlap(sets[slug], sets[other])) >= THRESHOLD:
                found[pair] = value
    return found


def choose_duplicates(pairs: Mapping[tuple[str, str], Decimal], sizes: Mapping[str, int]) -> list[Duplicate]:
    """Return the near-duplicate links `find_duplicates` defines, from the scored pairs and set sizes."""
    best: dict[str, Duplicate] = {}
    for (a, b), score in sorted(pairs.items()):
        if score < THRESHOLD:
            continue
        dup, orig = (a, b) if (sizes[a], a) < (sizes[b], b) else (b, a)
        if dup not in best or score > best[dup].score:
            best[dup] = Duplicate(dup, orig, score)
    # an original is never itself marked a duplicate: keep links acyclic and one level deep
    originals = {d.original for d in best.values()}
    return [d for slug, d in sorted(best.items()) if slug not in originals]
