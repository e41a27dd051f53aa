"""Seed files parsed in worker processes give the same corpus, and the same issues in the same order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.seed import source
from app.seed.corpus import build_corpus
from app.seed.files import SeedError
from tests.test_seed_rejects import CASES, CORPUS, _apply

pytestmark = pytest.mark.skipif(source._workers() < 1, reason="needs fork and two CPUs")


def _outcome(corpus: Path) -> Any:
    try:
        built = build_corpus([corpus])
    except SeedError as exc:
        return [str(issue) for issue in exc.issues]
    return built.places, built.articles, built.figures, built.events, built.evidence, built.duplicates


def _both(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    monkeypatch.setattr(source, "PARALLEL_FROM", 10**9)
    alone = _outcome(corpus)
    monkeypatch.setattr(source, "PARALLEL_FROM", 1)
    monkeypatch.setattr(source, "_CHUNK", 1)  # every file handed over on its own: any misordering shows
    return alone, _outcome(corpus)


def test_a_valid_corpus_parsed_in_workers_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    alone, parallel = _both(CORPUS / "valid", monkeypatch)
    assert not isinstance(alone, list)
    assert parallel == alone


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_issues_found_in_workers_are_the_same_in_the_same_order(
    case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone, parallel = _both(_apply(case, tmp_path), monkeypatch)
    assert isinstance(alone, list) and alone
    assert parallel == alone
