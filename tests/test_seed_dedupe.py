"""The near-duplicate join finds exactly the pairs that scoring every pair finds."""

from __future__ import annotations

import itertools
import random

import pytest

from app.seed.dedupe import THRESHOLD, overlap, shingle_hashes, shingles, similar_pairs
from app.seed.pipeline import HASH_SLACK


@pytest.mark.parametrize("seed", range(40))
def test_similar_pairs_are_those_of_scoring_every_pair(seed: int) -> None:
    rng = random.Random(seed)
    vocab: list[tuple[str, ...]] = [(f"w{i}", f"v{i % 7}") for i in range(rng.randint(5, 80))]
    if seed % 4 == 3:  # shingles of one, two and three words in one corpus
        vocab = [sh[: 1 + i % 3] + (("x",) if i % 3 == 2 else ()) for i, sh in enumerate(vocab)]
    sets = {f"a{j:02}": frozenset(rng.sample(vocab, rng.randint(0, len(vocab)))) for j in range(rng.randint(2, 30))}
    every = {
        (a, b): value
        for a, b in itertools.combinations(sorted(sets), 2)
        if (value := overlap(sets[a], sets[b])) >= THRESHOLD
    }
    assert similar_pairs(sets) == every
    among = set(rng.sample(sorted(sets), rng.randint(1, len(sets))))
    assert similar_pairs(sets, among) == {pair: v for pair, v in every.items() if among.intersection(pair)}


@pytest.mark.parametrize("seed", range(20))
def test_shared_hashes_never_count_fewer_than_shared_shingles(seed: int) -> None:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(rng.randint(3, 400))]
    a, b = (" ".join(rng.choices(words, k=rng.randint(0, 600))) for _ in range(2))
    sa, sb = shingles(a), shingles(b)
    ha, hb = shingle_hashes(sa), shingle_hashes(sb)
    assert ha == sorted(set(ha)) and all(-(2**31) <= h < 2**31 for h in ha)  # Postgres int4, as intarray wants
    assert len(set(ha) & set(hb)) + HASH_SLACK >= len(sa & sb)
    assert len(ha) <= len(sa)
    assert shingle_hashes(shingles("red apple")) != shingle_hashes(shingles("apple red"))  # order counts


def test_shingle_hashes_keep_their_values() -> None:
    # stored in the manifest of every database seeded so far: a new seed compares its texts' hashes
    # with them, so the function may change its code, never its values
    assert shingle_hashes(shingles("Red apple, green Apple! red apple")) == [
        -1771734737,
        -1510863327,
        194954609,
        895825631,
    ]
    assert shingle_hashes(shingles("Trade between China and Russia grew", 3))[:4] == [
        -1153141362,
        -1134329951,
        583121071,
        1238141176,
    ]
    # shingles of several lengths (never made by `shingles`, hashed all the same)
    assert shingle_hashes(frozenset({("a", "b"), ("c",)})) == sorted(
        shingle_hashes(frozenset({("a", "b")})) + shingle_hashes(frozenset({("c",)}))
    )
    assert shingle_hashes(frozenset()) == []
