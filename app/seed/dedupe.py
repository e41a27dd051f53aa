"""Near-duplicate detection between articles (a rewrite of the same story)."""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import zlib
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any

import numpy as np

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


class _Crc32(dict[str, int]):
    """Word -> its CRC-32, computed on first lookup (in C for every word already seen)."""

    def __missing__(self, word: str) -> int:
        if len(self) >= 1 << 20:  # (a bound on the words kept: a corpus's vocabulary fits)
            self.clear()
        value = self[word] = zlib.crc32(word.encode())
        return value


_CRC32 = _Crc32()  # shared by every call: most words of a text were seen in earlier texts


def shingle_hashes(s: frozenset[tuple[str, ...]]) -> list[int]:
    """Return the 32-bit hashes of the shingles of `s`, sorted, each once (as Postgres int4 values).

    Stored per article, they let the database find the articles a new text may be a near-duplicate
    of without the seed reading every text: equal shingles hash alike, so counting shared hashes
    never undercounts shared shingles (bar two shared shingles of one pair hashing alike, which
    the candidate search allows for), and each candidate is then scored exactly on its text.
    A shingle (w1, …, wn) hashes as h = h * 0x9E3779B1 + crc32(w) mod 2**32 over its words in
    order ((a, b) and (b, a) differ), computed in arrays: unsigned 64-bit products wrap, and
    the low 32 bits of a wrapped product are those of the exact one."""
    if not s:
        return []
    crc = _CRC32
    widths = set(map(len, s))
    if len(widths) == 1:
        words = np.fromiter(map(crc.__getitem__, itertools.chain.from_iterable(s)), np.uint64)
        h = np.zeros(len(s), np.uint64)
        for column in words.reshape(len(s), widths.pop()).T:
            h = (h * np.uint64(0x9E3779B1) + column) & np.uint64(0xFFFFFFFF)
    else:  # shingles of several lengths: each on its own
        h = np.zeros(len(s), np.uint64)
        for n, shingle in enumerate(s):
            value = 0
            for word in shingle:
                value = (value * 0x9E3779B1 + crc[word]) & 0xFFFFFFFF
            h[n] = value
    signed = h.astype(np.int64)
    signed[signed >= 1 << 31] -= 1 << 32  # as int4
    return list(np.unique(signed).tolist())


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
    a = ceil(t|A|)) split A's shingles into its `c = a - max(1, a // NEED_DIVISOR)` most common
    ones (corpus-wide) and the rest: |A∩B| <= |B ∩ rest| + c, so B can reach the bar only when it
    shares at least a - c of A's rarer shingles. Those are counted through the index of shingles
    (arrays: each article's shingles numbered, the postings of its rarer ones gathered and counted
    per article in C, not in Python per posting); leaving out the c most common ones leaves out
    the longest postings, whose walk grows with the square of the corpus. Only the articles that
    pass are scored."""
    if among is not None and len(among) * 20 <= len(sets):
        # a few changed articles: scoring them against every other costs less than indexing
        found: dict[tuple[str, str], Decimal] = {}
        for slug in among:
            for other in sets:
                pair = (slug, other) if slug < other else (other, slug)
                if other != slug and pair not in found and (value := overlap(sets[slug], sets[other])) >= THRESHOLD:
                    found[pair] = value
        return found
    return _indexed_pairs(sets, None if among is None else set(among))


# An article is scored when it shares at least max(1, bar // NEED_DIVISOR) of a smaller one's
# rarer shingles: a larger divisor leaves more of the common shingles out (fewer postings walked,
# cheap in arrays) and lets more candidates through (a set intersection each).
NEED_DIVISOR = 5


class _Numbering(dict[str, int]):
    """Word -> its number, a new word numbered on first lookup (in C for every known word)."""

    def __missing__(self, word: str) -> int:
        number = self[word] = len(self)
        return number


def _token_ids(sets: Mapping[str, frozenset[tuple[str, ...]]]) -> tuple[list[Any], Any]:
    """Return each set's shingles as an array of dense ids (in the order of `sets`), and each id's frequency.

    Words are numbered (their hashes are cached in the strings), each shingle is packed into one
    int64 from its words' numbers, and the packed values are numbered by sorting them: no
    dictionary of millions of tuples, and no Python code per shingle."""
    widths = {n for s in sets.values() for n in set(map(len, s))}
    packed = []
    if len(widths) == 1 and (width := widths.pop()) * 31 <= 63:
        words = _Numbering()
        for s in sets.values():
            numbers = np.fromiter(map(words.__getitem__, itertools.chain.from_iterable(s)), np.int64)
            keys = np.zeros(len(s), np.int64)
            for column in numbers.reshape(len(s), width).T:
                keys = (keys << 31) | column
            packed.append(keys)
        if len(words) >= 1 << 31:
            raise ValueError(f"too many distinct words to number: {len(words):,}")
    else:  # shingles of several lengths, or long ones: each numbered as a whole
        number: dict[tuple[str, ...], int] = {}
        packed = [np.fromiter((number.setdefault(sh, len(number)) for sh in s), np.int64) for s in sets.values()]
    if not packed:
        return [], np.zeros(0, np.int64)
    _, ids, frequency = np.unique(np.concatenate(packed), return_inverse=True, return_counts=True)
    ends = np.cumsum([len(k) for k in packed])
    return np.split(ids.astype(np.int32), ends[:-1]), frequency


def _indexed_pairs(
    sets: Mapping[str, frozenset[tuple[str, ...]]], touching: set[str] | None
) -> dict[tuple[str, str], Decimal]:
    """Return `similar_pairs` through an inverted index of shingles held in arrays (see there)."""
    found: dict[tuple[str, str], Decimal] = {}
    if len(sets) < 2:
        return found
    # each article's rank: the order of (shingle count, slug); a pair is looked for from its smaller
    slugs = sorted(sets, key=lambda slug: (len(sets[slug]), slug))
    tokens, frequency = _token_ids({slug: sets[slug] for slug in slugs})
    # the postings: for each shingle id, the ranks of the articles holding it (CSR arrays)
    holder = np.repeat(np.arange(len(slugs), dtype=np.int32), [len(t) for t in tokens])
    flat = np.concatenate(tokens)
    order = np.argsort(flat, kind="stable")
    postings = holder[order]
    starts = np.concatenate(([0], np.cumsum(frequency)[:-1]))
    for r, slug in enumerate(slugs):
        own = tokens[r]
        if not len(own):
            continue
        bar = max(1, math.ceil(CANDIDATE_BOUND * len(own)))
        common = bar - max(1, bar // NEED_DIVISOR)
        rarer = own[np.argsort(frequency[own], kind="stable")[: len(own) - common]]
        # the postings of the rarer shingles, gathered: one range of `postings` per shingle
        lengths = frequency[rarer]
        offsets = np.repeat(starts[rarer] - np.cumsum(lengths) + lengths, lengths)
        shared = np.bincount(postings[offsets + np.arange(len(offsets))], minlength=len(slugs))
        shared[: r + 1] = 0  # only the larger articles (by rank): each pair from its smaller
        for other_rank in np.flatnonzero(shared >= bar - common).tolist():
            other = slugs[other_rank]
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
