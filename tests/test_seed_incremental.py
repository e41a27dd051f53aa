"""An incremental seed: unchanged files are skipped, and the result is what a full load gives.

The synthetic corpus of size T (12 articles, two of them rewrites that the near-duplicate
detection links to their originals, figures and events referred to across articles) is seeded,
edited on disk, and seeded again; every result is compared with a from-scratch load of the same
files (rows with their ids replaced by natural keys), and with row versions (xmin) where nothing
may have been rewritten.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Connection, text

from app.config import SEEDS_DIR
from app.seed import files, pipeline
from app.seed.corpus import build_corpus
from app.seed.files import Fingerprint, SeedError
from app.seed.load import Summary
from app.seed.pipeline import seed
from app.seed.unchanged import SEED_LOCK_KEY
from bench.generate import synthesize, write_corpus_dir
from tests.conftest import engine_for
from tests.helpers import run_cli, snapshot
from tests.test_bench_smoke import canonical

REWRITE = "0000004_"  # guizhou-trade-0000003-rewrite: a near-duplicate, referring to its original's figures
ORIGINAL = "0000003_"  # guizhou-trade-0000003: defines figures the rewrite refers to
PLAIN = "0000011_"  # an article nothing refers to


@pytest.fixture(scope="module")
def corpus_t(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("t") / "corpus"
    write_corpus_dir(synthesize("T"), path)
    return path


@pytest.fixture
def corpus(corpus_t: Path, tmp_path: Path) -> Path:
    """A private copy of the T corpus, free to edit."""
    return Path(shutil.copytree(corpus_t, tmp_path / "corpus"))


def _files(corpus: Path, prefix: str) -> list[Path]:
    return sorted(corpus.glob(f"{prefix}*"))


def _seed(url: str, corpus: Path, *, full: bool = False) -> Summary:
    with engine_for(url) as engine:
        return seed(engine, [corpus], full=full)


def _manifest(conn: Connection) -> list[tuple[object, ...]]:
    return [tuple(r) for r in conn.execute(text("SELECT xmin::text, t::text FROM seed_manifest t ORDER BY path"))]


def _state(url: str) -> tuple[dict[str, list[tuple[object, ...]]], list[tuple[object, ...]]]:
    with engine_for(url) as engine, engine.connect() as conn:
        return snapshot(conn), _manifest(conn)


def _matches_a_full_load(url: str, corpus: Path, fresh_database: Callable[..., str]) -> None:
    scratch = fresh_database()
    _seed(scratch, corpus)
    assert canonical(url) == canonical(scratch)


def _edit_yaml(path: Path, edit: Callable[[dict[str, object]], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000), encoding="utf-8")


def test_a_second_seed_skips_every_unchanged_file_and_rewrites_nothing(
    corpus: Path, fresh_database: Callable[..., str]
) -> None:
    url = fresh_database()
    first = _seed(url, corpus)
    assert (first.read_files, first.skipped_files) == (15, 0)
    before = _state(url)
    again = _seed(url, corpus)
    assert again.skipped_files == 15  # every annotation and registry
    assert again.read_files == 0
    assert again.changed == 0
    assert _state(url) == before  # same rows, same xmin, the manifest too


def test_editing_one_annotation_updates_only_its_rows(corpus: Path, fresh_database: Callable[..., str]) -> None:
    url = fresh_database()
    _seed(url, corpus)
    before, _ = _state(url)
    [annotation] = [p for p in _files(corpus, PLAIN) if p.suffix == ".yaml"]
    slug = yaml.safe_load(annotation.read_text())["trade_figures"][0]["slug"]

    def note(data: dict[str, object]) -> None:
        data["trade_figures"][0]["note"] = "re-checked against the customs release"  # type: ignore[index]

    _edit_yaml(annotation, note)
    summary = _seed(url, corpus)
    assert (summary.read_files, summary.skipped_files) == (1, 14)
    assert summary.changed == 1 and summary.tables["trade_figures"].updated == 1
    after, _ = _state(url)
    changed = {t: set(after[t]) ^ set(before[t]) for t in after if set(after[t]) != set(before[t])}
    assert list(changed) == ["trade_figures"] and len(changed["trade_figures"]) == 2  # one row, old and new
    with engine_for(url) as engine, engine.connect() as conn:
        stored = conn.execute(text("SELECT note FROM trade_figures WHERE slug = :s"), {"s": slug}).scalar_one()
    assert stored == "re-checked against the customs release"
    _matches_a_full_load(url, corpus, fresh_database)


def test_a_load_leaves_statistics_and_a_small_change_analyses_nothing(
    corpus: Path, fresh_database: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.seed.load")
    url = fresh_database()
    _seed(url, corpus)
    analysed = [r.getMessage() for r in caplog.records if r.getMessage().startswith("analysed ")]
    assert len(analysed) == 2, analysed  # the tables written, then the tables the database derives from them
    assert "trade_figures" in analysed[0] and "evidence" in analysed[0]
    derived = ", ".join(
        [
            "article_counts",
            "article_places",
            "event_counts",
            "trade_figure_area_counts",
            "trade_figure_counts",
            "trade_series_covers",
            "trade_series_kept",
            "trade_series_totals",
        ]
    )
    assert analysed[1].startswith(f"analysed {derived}:")
    with engine_for(url) as engine, engine.connect() as conn:
        # the statistics committed with the rows: the planner's estimates are the rows' counts
        for table in (
            "trade_figures",
            "evidence",
            "articles",
            "trade_series_totals",
            "trade_series_kept",
            "trade_figure_counts",
            "article_counts",
            "event_counts",
        ):
            estimated = conn.execute(
                text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
            ).scalar_one()
            stored = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            assert estimated == stored > 0, table
            assert conn.execute(text("SELECT count(*) FROM pg_stats WHERE tablename = :t"), {"t": table}).scalar()
        # and the full-text and name indexes hold every row in their structure, none pending
        gin = text(
            "SELECT c.relname, gin_clean_pending_list(c.oid::regclass) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'gin'"
        )
        pending: dict[str, int] = dict(conn.execute(gin).all())
        assert "ix_articles_search" in pending and not any(pending.values()), pending
    assert any(r.getMessage().startswith("merged ") for r in caplog.records)
    caplog.clear()
    [annotation] = [p for p in _files(corpus, PLAIN) if p.suffix == ".yaml"]

    def note(data: dict[str, object]) -> None:
        data["trade_figures"][0]["note"] = "re-checked"  # type: ignore[index]

    _edit_yaml(annotation, note)
    assert _seed(url, corpus).changed == 1
    # one row of dozens: what autovacuum would not analyse either
    assert not [r for r in caplog.records if r.getMessage().startswith("analysed ")]


def test_removing_an_article_removes_its_rows(corpus: Path, fresh_database: Callable[..., str]) -> None:
    url = fresh_database()
    _seed(url, corpus)
    rewrite = yaml.safe_load(next(p for p in _files(corpus, REWRITE) if p.suffix == ".yaml").read_text())
    for path in _files(corpus, REWRITE):
        path.unlink()
    summary = _seed(url, corpus)
    assert summary.read_files == 0 and summary.skipped_files == 14
    assert summary.tables["articles"].deleted == 1
    assert summary.tables["evidence"].deleted > 0
    with engine_for(url) as engine, engine.connect() as conn:
        slug = rewrite["article"]["slug"]
        assert conn.execute(text("SELECT count(*) FROM articles WHERE slug = :s"), {"s": slug}).scalar_one() == 0
        assert (
            conn.execute(text("SELECT count(*) FROM seed_manifest WHERE article_slug = :s"), {"s": slug}).scalar() == 0
        )
    _matches_a_full_load(url, corpus, fresh_database)


@pytest.mark.parametrize("lookup", [False, True], ids=["every-text-read", "candidates-looked-up"])
def test_adding_an_article_back_links_its_near_duplicate(
    corpus: Path, tmp_path: Path, fresh_database: Callable[..., str], monkeypatch: pytest.MonkeyPatch, lookup: bool
) -> None:
    candidates: list[set[str]] = []
    if lookup:
        # the corpus is small: as if one new text were few beside the stored ones
        monkeypatch.setattr(pipeline, "FEW", 1)
        found = pipeline._candidates

        def recording(conn: Connection, texts: Mapping[str, tuple[list[int], int]]) -> set[str]:
            candidates.append(found(conn, texts))
            return candidates[-1]

        monkeypatch.setattr(pipeline, "_candidates", recording)
    url = fresh_database()
    aside = tmp_path / "aside"
    aside.mkdir()
    for path in _files(corpus, REWRITE):
        path.rename(aside / path.name)
    _seed(url, corpus)
    for path in aside.iterdir():
        path.rename(corpus / path.name)
    summary = _seed(url, corpus)
    assert summary.read_files == 1 and summary.tables["articles"].inserted == 1
    with engine_for(url) as engine, engine.connect() as conn:
        linked = conn.execute(
            text("SELECT count(*) FROM articles WHERE slug LIKE '%-rewrite' AND duplicate_of_id IS NOT NULL")
        ).scalar_one()
    assert linked == 2
    if lookup:
        # the stored articles sharing enough shingle hashes: the original, and not every article
        [looked_up] = candidates
        assert "guizhou-trade-0000003" in looked_up and len(looked_up) < 11, looked_up
    _matches_a_full_load(url, corpus, fresh_database)


def test_an_unread_article_gains_and_loses_its_link_as_a_longer_version_comes_and_goes(
    corpus: Path, fresh_database: Callable[..., str]
) -> None:
    url = fresh_database()
    _seed(url, corpus)
    [plain_text] = [p for p in _files(corpus, PLAIN) if p.suffix == ".txt"]
    plain = yaml.safe_load(plain_text.with_suffix(".yaml").read_text())["article"]["slug"]
    # the same story with a paragraph more: the longer one is the original, the plain one (not read
    # again: it did not change) becomes its near-duplicate, and stops being one when it goes
    body = plain_text.read_text(encoding="utf-8") + "\nA closing paragraph the first version did not carry.\n"
    longer = corpus / "0000099_longer.txt"
    longer.write_text(body, encoding="utf-8")
    meta = {"slug": "longer-version", "sha256": hashlib.sha256(body.encode()).hexdigest()}
    longer.with_suffix(".yaml").write_text(yaml.safe_dump({"article": meta}), encoding="utf-8")

    def link() -> str | None:
        with engine_for(url) as engine, engine.connect() as conn:
            found: str | None = conn.execute(
                text(
                    "SELECT o.slug FROM articles a LEFT JOIN articles o ON o.id = a.duplicate_of_id WHERE a.slug = :s"
                ),
                {"s": plain},
            ).scalar_one()
        return found

    summary = _seed(url, corpus)
    assert summary.read_files == 1 and summary.tables["articles"].inserted == 1
    assert summary.tables["articles"].updated == 1  # the plain article's link, though it was not read
    assert link() == "longer-version"
    _matches_a_full_load(url, corpus, fresh_database)
    longer.unlink()
    longer.with_suffix(".yaml").unlink()
    summary = _seed(url, corpus)
    assert summary.tables["articles"].deleted == 1 and summary.tables["articles"].updated == 1
    assert link() is None
    _matches_a_full_load(url, corpus, fresh_database)


def test_a_changed_registry_entry_is_picked_up(corpus: Path, fresh_database: Callable[..., str]) -> None:
    url = fresh_database()
    _seed(url, corpus)
    # a place some articles refer to, not all
    referrers: dict[str, int] = {}
    for facts in build_corpus([corpus]).facts.values():
        if facts.article is not None:
            for ref in facts.refers:
                referrers[ref] = referrers.get(ref, 0) + 1
    count, place_slug = min((n, ref.removeprefix("place:")) for ref, n in referrers.items() if ref.startswith("place:"))

    def rename(data: dict[str, object]) -> None:
        place = next(p for p in data["places"] if p["slug"] == place_slug)  # type: ignore[attr-defined]
        place["name"] = "Renamed Place"

    _edit_yaml(corpus / "places.yaml", rename)
    summary = _seed(url, corpus)
    assert summary.tables["places"].updated == 1
    assert summary.changed == 1
    # the articles that refer to it were validated again; the others, and the other registries,
    # were not read
    assert (summary.read_files, summary.skipped_files) == (1 + count, 14 - count)
    with engine_for(url) as engine, engine.connect() as conn:
        name = conn.execute(text("SELECT name FROM places WHERE slug = :s"), {"s": place_slug}).scalar_one()
    assert name == "Renamed Place"
    _matches_a_full_load(url, corpus, fresh_database)


def _fails_as_a_full_seed(url: str, corpus: Path) -> list[str]:
    """Return the issues an incremental seed of `corpus` is refused with: exactly a full seed's."""
    with pytest.raises(SeedError) as failed:
        _seed(url, corpus)
    with pytest.raises(SeedError) as full:
        build_corpus([corpus])
    issues = [str(i) for i in failed.value.issues]
    assert issues == [str(i) for i in full.value.issues]
    return issues


def test_a_registry_entry_that_goes_fails_where_it_is_used(corpus: Path, fresh_database: Callable[..., str]) -> None:
    url = fresh_database()
    _seed(url, corpus)
    before = _state(url)
    [annotation] = [p for p in _files(corpus, PLAIN) if p.suffix == ".yaml"]
    facts = build_corpus([corpus]).facts[annotation]
    publisher = min(r.removeprefix("organisation:") for r in facts.refers if r.startswith("organisation:"))

    def drop(data: dict[str, object]) -> None:
        data["organisations"] = [o for o in data["organisations"] if o["slug"] != publisher]  # type: ignore[attr-defined]

    _edit_yaml(corpus / "organisations.yaml", drop)
    issues = _fails_as_a_full_seed(url, corpus)
    assert any(f"unknown organisation {publisher!r}" in str(i) for i in issues)
    assert _state(url) == before


def test_a_place_that_goes_fails_in_the_unchanged_registry_that_uses_it(
    corpus: Path, fresh_database: Callable[..., str]
) -> None:
    country = "atlantis"  # a place only an organisation refers to: only organisations.yaml can fail

    def add_place(data: dict[str, object]) -> None:
        data["places"].append({"slug": country, "name": "Atlantis", "kind": "country"})  # type: ignore[attr-defined]

    def add_organisation(data: dict[str, object]) -> None:
        entry = {
            "slug": "atlantis-trade-office",
            "name": "Atlantis Trade Office",
            "kind": "government-body",
            "country": country,
        }
        data["organisations"].append(entry)  # type: ignore[attr-defined]

    _edit_yaml(corpus / "places.yaml", add_place)
    _edit_yaml(corpus / "organisations.yaml", add_organisation)
    url = fresh_database()
    _seed(url, corpus)
    before = _state(url)

    def drop(data: dict[str, object]) -> None:
        data["places"] = [p for p in data["places"] if p["slug"] != country]  # type: ignore[attr-defined]

    # organisations.yaml is not touched: it is read again because an entry it refers to went
    _edit_yaml(corpus / "places.yaml", drop)
    issues = _fails_as_a_full_seed(url, corpus)
    assert any("organisations.yaml:" in str(i) and f"unknown place {country!r}" in str(i) for i in issues)
    assert _state(url) == before


def test_a_new_file_defining_what_an_unread_file_defines_fails_as_a_full_seed(
    corpus: Path, fresh_database: Callable[..., str]
) -> None:
    url = fresh_database()
    _seed(url, corpus)
    before = _state(url)
    # a copy of an unchanged article under another article slug: its figures' and events' slugs
    # are those the unread original defines
    [annotation] = [p for p in _files(corpus, PLAIN) if p.suffix == ".yaml"]
    copy = corpus / "0000098_copy.yaml"
    shutil.copy(annotation.with_suffix(".txt"), copy.with_suffix(".txt"))
    data = yaml.safe_load(annotation.read_text(encoding="utf-8"))
    data["article"]["slug"] = "a-copy-of-it"
    copy.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    issues = _fails_as_a_full_seed(url, corpus)
    figure = data["trade_figures"][0]["slug"]
    assert any(f"duplicate trade_figure slug {figure!r}" in str(i) for i in issues)
    assert _state(url) == before


def test_a_failed_incremental_seed_leaves_everything_as_it_was(
    corpus: Path, fresh_database: Callable[..., str]
) -> None:
    url = fresh_database()
    _seed(url, corpus)
    # the original goes: the rewrite (unchanged) refers to its figures, so it fails
    for path in _files(corpus, ORIGINAL):
        path.unlink()
    # and another article changes, validly: nothing of it may be written either
    [annotation] = [p for p in _files(corpus, PLAIN) if p.suffix == ".yaml"]
    _edit_yaml(annotation, lambda data: data["trade_figures"][0].update(note="edited"))  # type: ignore[index]
    before = _state(url)
    issues = _fails_as_a_full_seed(url, corpus)
    assert any("unknown trade figure" in str(i) and REWRITE in str(i) for i in issues)
    assert _state(url) == before  # rows and manifest alike


def test_full_reads_everything_and_matches_a_load_from_scratch(
    corpus: Path, fresh_database: Callable[..., str]
) -> None:
    url = fresh_database()
    _seed(url, corpus)
    with engine_for(url) as engine, engine.begin() as conn:
        # a hand edit an incremental seed cannot see (the file is unchanged); --full repairs it
        conn.execute(
            text("UPDATE trade_figures SET note = 'edited by hand' WHERE id = (SELECT min(id) FROM trade_figures)")
        )
    assert _seed(url, corpus).changed == 0
    summary = _seed(url, corpus, full=True)
    assert (summary.read_files, summary.skipped_files) == (15, 0)
    assert summary.tables["trade_figures"].updated == 1 and summary.changed == 1
    _matches_a_full_load(url, corpus, fresh_database)


def test_full_with_nothing_changed_rewrites_no_row_and_restores_missing_hashes(
    corpus: Path, fresh_database: Callable[..., str]
) -> None:
    url = fresh_database()
    _seed(url, corpus)
    before = _state(url)
    summary = _seed(url, corpus, full=True)
    assert (summary.read_files, summary.changed) == (15, 0)
    assert _state(url) == before  # not a manifest row written again (their row versions)
    hashes = "SELECT path, shingle_hashes FROM seed_manifest WHERE kind = 'article' ORDER BY path"
    with engine_for(url) as engine, engine.begin() as conn:
        stored = conn.execute(text(hashes)).all()
        assert all(h for _, h in stored)
        conn.execute(text("UPDATE seed_manifest SET shingle_hashes = NULL WHERE path = :p"), {"p": stored[0][0]})
    _seed(url, corpus, full=True)
    with engine_for(url) as engine, engine.connect() as conn:
        assert conn.execute(text(hashes)).all() == stored


def test_the_cli_says_how_many_files_it_skipped(corpus: Path, fresh_database: Callable[..., str]) -> None:
    url = fresh_database()
    first = run_cli("seed", str(corpus), database_url=url)
    assert first.returncode == 0, first.stderr
    assert "15 read, 0 skipped" in first.stdout
    # not a terminal: one line per step, with its count
    assert "seed: reading files: 15 in" in first.stdout and "seed: evidence:" in first.stdout
    again = run_cli("seed", str(corpus), database_url=url)
    assert again.returncode == 0, again.stderr
    assert "0 read, 15 skipped as unchanged" in again.stdout and "nothing changed" in again.stdout
    # a registry's bytes changed (a comment), not one of its entries: that registry is read
    # again, and nothing that refers to it
    with (corpus / "places.yaml").open("a", encoding="utf-8") as f:
        f.write("# reviewed\n")
    touched = run_cli("seed", str(corpus), database_url=url)
    assert touched.returncode == 0, touched.stderr
    assert "1 read, 14 skipped as unchanged" in touched.stdout and "nothing changed" in touched.stdout
    full = run_cli("seed", "--full", str(corpus), database_url=url)
    assert "15 read, 0 skipped" in full.stdout and "nothing changed" in full.stdout


def test_a_moved_corpus_is_not_read_again(corpus: Path, tmp_path: Path, fresh_database: Callable[..., str]) -> None:
    url = fresh_database()
    _seed(url, corpus)
    (tmp_path / "elsewhere").mkdir()
    moved = Path(shutil.move(corpus, tmp_path / "elsewhere" / "checkout"))
    again = _seed(url, moved)
    # nothing read again; only where each article's text is now is written
    articles = len(list(moved.glob("*.txt")))
    assert (again.read_files, again.skipped_files) == (0, 15)
    assert again.tables["articles"].updated == again.changed == articles
    with engine_for(url) as engine, engine.connect() as conn:
        paths = set(conn.execute(text("SELECT path FROM seed_manifest")).scalars())
        sources = set(conn.execute(text("SELECT source_file FROM articles")).scalars())
    assert paths == {p.name for p in moved.glob("*.yaml")}  # relative to the seeded directory
    assert sources == {files.display_path(p) for p in moved.glob("*.txt")}
    # the same again: nothing to do, decided before the pipeline is loaded
    done = _probe_seed(url, str(moved))
    assert "nothing changed" in done.stdout and "loaded: []" in done.stdout, done.stdout
    # and what goes from the moved directory goes from the database
    for path in _files(moved, PLAIN):
        path.unlink()
    removed = _seed(url, moved)
    assert removed.tables["articles"].deleted == 1
    assert removed.skipped_files == 14
    _matches_a_full_load(url, moved, fresh_database)


def test_a_text_that_becomes_a_symlink_is_shown_where_it_leads(
    corpus: Path, tmp_path: Path, fresh_database: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the same content through a symlink: nothing read again, and each article's source file is
    # what a full seed stores (the text resolved), on the pipeline and on the no-op path alike
    monkeypatch.chdir(tmp_path)  # paths are shown relative to the working directory
    url = fresh_database()
    _seed(url, corpus)
    text_file = sorted(corpus.glob("*.txt"))[0]
    shared = tmp_path / "shared" / text_file.name
    shared.parent.mkdir()
    shutil.copy(text_file, shared)
    text_file.unlink()
    text_file.symlink_to(shared)
    again = _seed(url, corpus)
    assert (again.read_files, again.tables["articles"].updated) == (0, 1)
    with engine_for(url) as engine, engine.connect() as conn:
        sources = set(conn.execute(text("SELECT source_file FROM articles")).scalars())
    assert f"shared/{text_file.name}" in sources
    assert _seed(url, corpus).changed == 0 and _seed(url, corpus, full=True).changed == 0


def test_files_changed_while_a_seed_waits_for_another_are_looked_at_again(
    corpus: Path, tmp_path: Path, fresh_database: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the files are listed before the seed's lock is taken; a seed that waited for another one
    # sees them as they are once it has the lock (here: a text turned into a symlink meanwhile)
    monkeypatch.chdir(tmp_path)
    url = fresh_database()
    _seed(url, corpus)
    text_file = sorted(corpus.glob("*.txt"))[0]
    shared = tmp_path / "shared" / text_file.name
    listed = files.scan([corpus])
    with engine_for(url) as engine, engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEED_LOCK_KEY})

        def meanwhile() -> None:
            shared.parent.mkdir()
            shutil.copy(text_file, shared)
            text_file.unlink()
            text_file.symlink_to(shared)
            holder.commit()  # the other seed ends

        with engine_for(url) as seeding:
            again = seed(seeding, [corpus], scanned=listed, on_wait=meanwhile)
    assert again.tables["articles"].updated == 1
    with engine_for(url) as engine, engine.connect() as conn:
        sources = set(conn.execute(text("SELECT source_file FROM articles")).scalars())
    assert f"shared/{text_file.name}" in sources
    _matches_a_full_load(url, corpus, fresh_database)


def test_an_annotation_linked_from_outside_goes_when_its_link_goes(
    corpus: Path, tmp_path: Path, fresh_database: Callable[..., str]
) -> None:
    # the manifest keeps a symlink under its own name in the seeded directory, not its target's
    # path: removing the link removes its article, as removing a file does
    annotation = next(corpus.glob(f"{PLAIN}*.yaml"))
    outside = tmp_path / "outside" / annotation.name
    outside.parent.mkdir()
    shutil.move(annotation, outside)
    annotation.symlink_to(outside)
    url = fresh_database()
    _seed(url, corpus)
    with engine_for(url) as engine, engine.connect() as conn:
        paths = set(conn.execute(text("SELECT path FROM seed_manifest")).scalars())
    assert annotation.name in paths and not any(os.path.isabs(p) for p in paths)
    for path in _files(corpus, PLAIN):
        path.unlink()
    removed = _seed(url, corpus)
    assert removed.tables["articles"].deleted == 1
    _matches_a_full_load(url, corpus, fresh_database)


def test_a_row_kept_under_a_links_target_is_superseded_by_the_file(
    corpus: Path, tmp_path: Path, fresh_database: Callable[..., str]
) -> None:
    # an older seed kept a symlink leading outside the directory under its target's absolute path;
    # once the file is read where it lies, that row goes (its article stays) and the next seed
    # with nothing changed is the quick one again
    url = fresh_database()
    _seed(url, corpus)
    annotation = next(corpus.glob(f"{PLAIN}*.yaml"))
    target = tmp_path / "outside" / annotation.name
    with engine_for(url) as engine, engine.begin() as conn:
        conn.execute(
            text("UPDATE seed_manifest SET path = :target WHERE path = :name"),
            {"target": str(target), "name": annotation.name},
        )
    os.utime(annotation)  # read again: its status is not the one recorded
    again = _seed(url, corpus)
    assert again.tables["articles"].deleted == 0
    with engine_for(url) as engine, engine.connect() as conn:
        paths = set(conn.execute(text("SELECT path FROM seed_manifest")).scalars())
    assert annotation.name in paths and str(target) not in paths
    _matches_a_full_load(url, corpus, fresh_database)
    done = _probe_seed(url, str(corpus))
    assert "nothing changed" in done.stdout and "loaded: []" in done.stdout, done.stdout


def test_a_manifest_of_absolute_paths_is_taken_over(corpus: Path, fresh_database: Callable[..., str]) -> None:
    url = fresh_database()
    _seed(url, corpus)
    with engine_for(url) as engine, engine.begin() as conn:
        conn.execute(text("UPDATE seed_manifest SET path = :dir || '/' || path"), {"dir": str(corpus.resolve())})
    again = _seed(url, corpus)
    assert (again.read_files, again.skipped_files, again.changed) == (0, 15, 0)
    with engine_for(url) as engine, engine.connect() as conn:
        paths = set(conn.execute(text("SELECT path FROM seed_manifest")).scalars())
    assert paths == {p.name for p in corpus.glob("*.yaml")}


NOT_NEEDED_FOR_NOTHING = ("sqlalchemy", "yaml", "app.models", "app.seed.pipeline", "uvicorn", "strawberry")
_PROBE = f"""
import sys
from app.cli import main
sys.argv = ["tradegraph", "seed", *sys.argv[1:]]
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
print("loaded:", [m for m in {NOT_NEEDED_FOR_NOTHING!r} if m in sys.modules])
sys.exit(code)
"""


def _probe_seed(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `tradegraph seed ARGS` in a process that says which heavy modules it imported."""
    return subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_seed_with_nothing_to_do_decides_before_loading_the_pipeline(
    corpus: Path, fresh_database: Callable[..., str]
) -> None:
    url = fresh_database()
    _seed(url, corpus)
    before = _state(url)
    done = _probe_seed(url, str(corpus))
    assert done.returncode == 0, done.stderr
    assert "0 read, 15 skipped as unchanged" in done.stdout and "nothing changed" in done.stdout
    assert "loaded: []" in done.stdout, done.stdout
    # not a row rewritten (the manifest may note the files' status, once they are old enough to trust)
    assert _state(url)[0] == before[0]


@pytest.mark.parametrize("change", ["annotation", "text", "removed", "added", "registry-entry"])
def test_any_change_on_disk_takes_the_full_seed(corpus: Path, fresh_database: Callable[..., str], change: str) -> None:
    url = fresh_database()
    _seed(url, corpus)
    [annotation] = [p for p in _files(corpus, PLAIN) if p.suffix == ".yaml"]
    if change == "annotation":
        _edit_yaml(annotation, lambda data: data["trade_figures"][0].update(note="edited"))  # type: ignore[index]
    elif change == "text":
        with annotation.with_suffix(".txt").open("a", encoding="utf-8") as f:
            f.write("\nA sentence added at the end.\n")
    elif change == "removed":
        for path in _files(corpus, PLAIN):
            path.unlink()
    elif change == "added":
        for path in _files(corpus, PLAIN):
            shutil.copy(path, path.with_name("9" + path.name[1:]))
    else:
        _edit_yaml(
            corpus / "organisations.yaml",
            lambda data: data["organisations"][0].update(name="Renamed Organisation"),  # type: ignore[index]
        )
    done = _probe_seed(url, str(corpus))
    assert "loaded: ['sqlalchemy'" in done.stdout, done.stdout + done.stderr
    refusals = {
        "added": "defined",  # a copy defines the same slugs again
        "text": "has changed since it was annotated",  # the annotation's sha256 no longer matches
    }
    if change in refusals:  # refused by the full validation, which was run
        assert done.returncode == 2 and "nothing was written" in done.stderr, done.stdout + done.stderr
        assert refusals[change] in done.stderr, done.stderr
        return
    assert done.returncode == 0, done.stderr
    assert "row changes" in done.stdout, done.stdout
    _matches_a_full_load(url, corpus, fresh_database)


def _hashed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every file the seed hashes from now on."""
    seen: list[Path] = []
    real = files.fingerprint

    def counting(path: Path, *, registry: bool) -> Fingerprint | None:
        seen.append(path)
        return real(path, registry=registry)

    monkeypatch.setattr(pipeline, "fingerprint", counting)
    return seen


def test_a_file_not_written_since_it_was_hashed_is_not_hashed_again(
    corpus: Path, fresh_database: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "SETTLED_NS", 0)  # the copies are seconds old: trust them at once
    url = fresh_database()
    _seed(url, corpus)
    hashed = _hashed(monkeypatch)
    assert _seed(url, corpus).changed == 0
    assert all(p.name in files.REGISTRY_FILES for p in hashed), hashed  # read every time anyway
    [annotation] = [p for p in _files(corpus, PLAIN) if p.suffix == ".yaml"]
    os.utime(annotation)  # touched: written, as far as its status can tell
    hashed.clear()
    again = _seed(url, corpus)
    assert again.changed == 0 and [p for p in hashed if p.name not in files.REGISTRY_FILES] == [annotation]


def test_a_rewrite_that_keeps_size_and_mtime_is_still_seen(
    corpus: Path, fresh_database: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "SETTLED_NS", 0)
    url = fresh_database()
    _seed(url, corpus)
    [annotation] = [p for p in _files(corpus, PLAIN) if p.suffix == ".yaml"]
    before = annotation.stat()
    data = annotation.read_bytes()
    at = data.index(b"    date: ") + len(b"    date: 2023-07-")  # the day of publication, rewritten in place
    edited = data[:at] + (b"14" if data[at : at + 2] == b"15" else b"15") + data[at + 2 :]
    assert edited != data and len(edited) == len(data)
    annotation.write_bytes(edited)
    os.utime(annotation, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `cp -p` or an archive leaves it
    assert annotation.stat().st_mtime_ns == before.st_mtime_ns
    assert _seed(url, corpus).changed > 0  # the ctime moved: hashed, and the change seen
    _matches_a_full_load(url, corpus, fresh_database)


def test_a_file_written_moments_before_the_seed_is_hashed_again_next_time(
    corpus: Path, fresh_database: Callable[..., str]
) -> None:
    url = fresh_database()
    [annotation] = [p for p in _files(corpus, PLAIN) if p.suffix == ".yaml"]
    annotation.write_bytes(annotation.read_bytes())  # written just now
    _seed(url, corpus)
    with engine_for(url) as engine, engine.connect() as conn:
        status = conn.execute(
            text("SELECT file_stat FROM seed_manifest WHERE path = :p"), {"p": annotation.name}
        ).scalar_one()
    assert status is None  # its timestamps may not show a write in the same tick: not trusted


def test_the_projects_seeds_seeded_again_from_another_directory_change_no_row(
    fresh_database: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = fresh_database()
    monkeypatch.chdir(SEEDS_DIR.parent)
    _seed(url, SEEDS_DIR)
    before = _state(url)[0]
    # an operator in the directory above the checkout: the same files, still shown from the project
    monkeypatch.chdir(SEEDS_DIR.parent.parent)
    again = _seed(url, SEEDS_DIR)
    assert again.changed == 0
    assert _state(url)[0] == before
    with engine_for(url) as engine, engine.connect() as conn:
        sources = set(conn.execute(text("SELECT source_file FROM articles")).scalars())
    assert sources == {f"seeds/{p.name}" for p in SEEDS_DIR.glob("*.txt")}
