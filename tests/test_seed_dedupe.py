"""The near-duplicate join finds exactly the pairs that scoring every pair finds."""

from __future__ import annotations

import itertools
import random

import pytest

from app.seed.dedupe import THRESHOLD, overlap, similar_pairs


@pytest.mark.parametrize("seed", range(40))
def test_similar_pairs_are_those_of_scoring_every_pair(seed: int) -> None:
    rng = random.Random(seed)
    vocab = [(f"w{i}", f"v{i % 7}") for i in range(rng.randint(5, 80))]
    sets = {f"a{j:02}": frozenset(rng.sample(vocab, rng.randint(0, len(vocab)))) for j in range(rng.randint(2, 30))}
    every = {
        (a, b): value
        for a, b in itertools.combinations(sorted(sets), 2)
        if (value := overlap(sets[a], sets[b])) >= THRESHOLD
    }
    assert similar_pairs(sets) == every
    among = set(rng.sample(sorted(sets), rng.randint(1, len(sets))))
    assert similar_pairs(sets, among) == {pair: v for pair, v in every.items() if among.intersection(pair)}
