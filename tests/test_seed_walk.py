"""Incremental seeds along random walks of edits: each result is what a load from scratch gives.

From the synthetic corpus of size T, a seeded random walk edits the files as an operator would
(articles removed, brought back under another name, texts lengthened or given another article's
text as well, figures' amounts and places changed, registry names changed, files rewritten as
they were) and seeds after each step. Each step's incremental seed must end as a load of the same
files from scratch ends: the same rows (ids replaced by natural keys), the same derived tables (the
series' rollup, the counts), or the same refusal with the database left as it was.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text
from typer.testing import CliRunner

from app.cli import cli
from app.config import SEEDS_DIR
from app.seed import pipeline
from app.seed.files import SeedError
from app.seed.pipeline import seed
from bench.generate import synthesize, write_corpus_dir
from tests.conftest import engine_for
from tests.test_article_pages import assert_pairs_hold
from tests.test_bench_smoke import canonical
from tests.test_event_pages import assert_starts_hold
from tests.test_figure_counts import assert_counts_hold
from tests.test_series_totals import _table_and_rebuild

STEPS = 7


@pytest.fixture(scope="module")
def corpus_t(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("walk") / "corpus"
    write_corpus_dir(synthesize("T"), path)
    return path


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _dump(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000), encoding="utf-8")


class Walk:
    """Edits of one corpus directory, drawn from a seeded random number generator."""

    def __init__(self, corpus: Path, stash: Path, draw: random.Random) -> None:
        self.corpus, self.stash, self.draw = corpus, stash, draw

    def _texts(self, where: Path) -> list[Path]:
        return sorted(where.glob("*.txt"))

    def _set_text(self, txt: Path, body: str) -> None:
        txt.write_text(body, encoding="utf-8")
        annotation = _load(txt.with_suffix(".yaml"))
        annotation["article"]["sha256"] = hashlib.sha256(body.encode()).hexdigest()
        _dump(txt.with_suffix(".yaml"), annotation)

    def remove(self) -> str:
        txt = self.draw.choice(self._texts(self.corpus))
        for path in (txt, txt.with_suffix(".yaml")):
            path.rename(self.stash / path.name)
        return f"remove {txt.stem}"

    def bring_back(self) -> str:
        stashed = self._texts(self.stash)
        if not stashed:
            return self.remove()
        txt = self.draw.choice(stashed)
        stem = f"9{self.draw.randrange(1000):03d}_{txt.stem}"  # under another name than it had
        for path in (txt, txt.with_suffix(".yaml")):
            path.rename(self.corpus / (stem + path.suffix))
        return f"bring back {txt.stem} as {stem}"

    def lengthen(self) -> str:
        txt, other = self.draw.choice(self._texts(self.corpus)), self.draw.choice(self._texts(self.corpus))
        words = other.read_text(encoding="utf-8").split()
        start = self.draw.randrange(max(len(words) - 40, 1))
        self._set_text(txt, txt.read_text(encoding="utf-8") + "\n" + " ".join(words[start : start + 40]) + ".\n")
        return f"lengthen {txt.stem}"

    def absorb(self) -> str:
        # another article's whole text after its own: a longer version of that one, a near-duplicate
        txt, other = self.draw.sample(self._texts(self.corpus), 2)
        self._set_text(txt, txt.read_text(encoding="utf-8") + "\n" + other.read_text(encoding="utf-8"))
        return f"{txt.stem} takes in {other.stem}"

    def refigure(self) -> str:
        annotations = [p.with_suffix(".yaml") for p in self._texts(self.corpus)]
        for path in self.draw.sample(annotations, len(annotations)):
            data = _load(path)
            if data.get("trade_figures"):
                figure = self.draw.choice(data["trade_figures"])
                if "amount" in figure and self.draw.random() < 0.6:
                    figure["amount"]["amount"] = str(self.draw.randrange(1, 10**9))
                    what = "amount"
                else:  # the partner another place the corpus knows, or none
                    figure["partner"] = self.draw.choice(["china", "russia", "mongolia", None])
                    what = "partner"
                _dump(path, data)
                return f"{path.stem}: {figure['slug']}'s {what}"
        return self.remove()

    def rename_entry(self) -> str:
        name = self.draw.choice(["places.yaml", "organisations.yaml"])
        data = _load(self.corpus / name)
        entries = next(iter(data.values()))
        entry = self.draw.choice(entries)
        entry["name"] = f"{entry['name']} {self.draw.randrange(100)}"
        _dump(self.corpus / name, data)
        return f"rename {entry['slug']} in {name}"

    def rewrite_as_is(self) -> str:
        path = self.draw.choice(sorted(self.corpus.iterdir()))
        path.write_bytes(path.read_bytes())
        return f"rewrite {path.name} as it was"

    def step(self) -> str:
        edit = self.draw.choice(
            [
                self.remove,
                self.bring_back,
                self.lengthen,
                self.absorb,
                self.refigure,
                self.rename_entry,
                self.rewrite_as_is,
            ]
        )
        return edit()


def _seed(url: str, corpus: Path, *, beside: bool = False) -> list[str] | dict[str, Any]:
    """Return what a seed of `corpus` into `url` changed, table by table, or the issues it was refused with.

    `beside`: the near-duplicates are decided in a child process while the rows are written, however few."""
    with engine_for(url) as engine, pytest.MonkeyPatch.context() as patch:
        if beside:
            patch.setattr(pipeline, "BESIDE_FROM", 1)
        try:
            summary = seed(engine, [corpus])
        except SeedError as exc:
            return [str(issue) for issue in exc.issues]
    return {name: dataclasses.astuple(counts) for name, counts in summary.tables.items()}


def _derived_hold(url: str) -> None:
    with engine_for(url) as engine, engine.connect() as conn:
        kept, rebuilt = _table_and_rebuild(conn)
        assert kept == rebuilt
        assert_counts_hold(conn)
        assert_pairs_hold(conn)
        assert_starts_hold(conn)
        assert conn.execute(text("SELECT count(*) FROM trade_series_dirty")).scalar_one() == 0


@pytest.mark.parametrize(
    ("walk", "beside"), [(1, False), (2, False), (3, True), (4, True)], ids=["1", "2", "3-beside", "4-beside"]
)
def test_each_incremental_seed_of_a_walk_ends_as_a_load_from_scratch(
    corpus_t: Path, tmp_path: Path, fresh_database: Callable[..., str], walk: int, beside: bool
) -> None:
    # beside: the walk's seeds decide near-duplicates beside the writes, and a second database
    # seeded along the same walk without that must count the same changes
    corpus = Path(shutil.copytree(corpus_t, tmp_path / "corpus"))
    stash = tmp_path / "stash"
    stash.mkdir()
    edits = Walk(corpus, stash, random.Random(20261205 + walk))
    url, inline = fresh_database(), fresh_database()
    first = _seed(url, corpus, beside=beside)
    assert isinstance(first, dict)
    if beside:
        assert _seed(inline, corpus) == first
    done: list[str] = []
    seeded = 0
    for step in range(STEPS):
        kept = tmp_path / f"before-{step}"
        shutil.copytree(corpus, kept / "corpus")
        shutil.copytree(stash, kept / "stash")
        done.append(edits.step())
        before = canonical(url)
        scratch = fresh_database()
        loaded = _seed(scratch, corpus)
        refused = loaded if isinstance(loaded, list) else None
        changes = _seed(url, corpus, beside=beside)
        assert changes == refused if refused is not None else isinstance(changes, dict), done
        if beside:
            assert _seed(inline, corpus) == changes, done
        if refused is None:
            seeded += 1
            assert canonical(url) == canonical(scratch), done
            _derived_hold(url)
        else:
            assert canonical(url) == before, done  # nothing of a refused seed is written
            # the operator puts the files back as they were, and the walk goes on from there
            for name in ("corpus", "stash"):
                shutil.rmtree(tmp_path / name)
                shutil.copytree(kept / name, tmp_path / name)
            done[-1] += " (refused, undone)"
    assert seeded >= STEPS // 2, done


def test_an_articles_text_stands_for_its_annotation_with_the_registries_beside_it() -> None:
    article = sorted(SEEDS_DIR.glob("*.txt"))[-1]
    by_text = CliRunner().invoke(cli, ["seed", "--check", str(article)])
    by_annotation = CliRunner().invoke(cli, ["seed", "--check", str(article.with_suffix(".yaml"))])
    assert (by_text.exit_code, by_text.output) == (by_annotation.exit_code, by_annotation.output)
    assert "unknown place" not in by_text.output, by_text.output
