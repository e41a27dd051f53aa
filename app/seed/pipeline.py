"""The `seed` operation: validate, then write it all in one transaction; skip what has not changed.

A manifest in the database (`seed_manifest`) records, per file of the last successful seed, the
sha256 of its content (annotation and article text), what it defines and refers to, and the
sha256 of each registry entry. A seed reads a file (registry or annotation) only when it is new
or changed, or when something it refers to changed: a registry entry, or a figure or event
another file defined and no longer does. The rest is declared to the validation
as known, so a reference to it still resolves and a second definition of its slugs is still
caught. When the incremental validation finds any problem, the whole corpus is validated again
to report exactly what a full seed reports. `full=True` reads every file.

Rows of what was read are synced with the database; articles, figures and events that a
removed (or rewritten) file defined and no file defines any more are deleted. Near-duplicates
are decided again only when an article's text came or went: from the texts for new or changed
articles, from the pairs the manifest keeps for the others. With many texts to compare (a first
load) they are compared in a child process while the rows are written: the articles keep their
stored links (a new one none) until the links decided are written, after every other row.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb, set_json_loads
from sqlalchemy import Connection, Engine, delete, select, text
from sqlalchemy.dialects.postgresql import JSONB, insert

from app import models
from app.db import transaction
from app.migrate import NotMigrated, schema_lag
from app.seed import beside
from app.seed.corpus import Corpus, FileAt, FileFacts, Validation, build_corpus
from app.seed.dedupe import CANDIDATE_BOUND, Duplicate, choose_duplicates, shingle_hashes, shingles, similar_pairs
from app.seed.files import (
    Discovered,
    Fingerprint,
    SeedError,
    SeedFile,
    discover,
    file_stat,
    fingerprint,
    manifest_key,
    resolved,
    seed_directory,
    text_display_paths,
)
from app.seed.load import (
    Progress,
    Removal,
    Summary,
    acquire_seed_lock,
    articles,
    events,
    reset,
    trade_figures,
    write_corpus,
)
from app.seed.source import collector_paused
from app.seed.sync import any_of, copy_rows
from app.seed.versions import record_version

log = logging.getLogger(__name__)
manifest = models.metadata.tables["seed_manifest"]
Pairs = dict[tuple[str, str], Decimal]
NOT_READ = frozenset({"shingle_hashes"})  # large, and only ever compared in the database
# What each file defines and refers to: 700,000 strings at size M, which cost more to read than the
# rest of the manifest; looked up in the database, for the files and slugs a seed needs, instead.
LISTS = ("defines", "refers")
# New texts whose near-duplicate candidates are looked up in the database instead of every stored
# text being read: at most 1 in FEW of the stored ones, and at most LOOKUPS_UP_TO of them. A lookup
# reads every stored article's hashes (0.2 s at 20,000 articles), reading every text costs about
# 70 lookups (14 s there), and both grow with the corpus: the bound is a count, not a share.
FEW = 20
LOOKUPS_UP_TO = 32


def read_manifest(conn: Connection, *, lists: bool = False) -> dict[str, dict[str, Any]]:
    """Return the manifest rows by path (with what each file defines and refers to only if `lists`)."""
    # a row per file, 20,000 at size M: read in one fetch by the driver, JSON decoded by orjson
    raw = conn.connection.driver_connection
    assert raw is not None
    statement = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(
            sql.Identifier(c.name)
            for c in manifest.columns
            if c.name not in NOT_READ and (lists or c.name not in LISTS)
        ),
        sql.Identifier(manifest.name),
    )
    with raw.cursor(row_factory=dict_row) as cur:
        set_json_loads(orjson.loads, cur)
        cur.execute(statement)
        return {r["path"]: r for r in cur.fetchall()}


@dataclasses.dataclass(frozen=True)
class NearDuplicates:
    """The near-duplicate links decided, and what the manifest keeps of them."""

    chosen: list[Duplicate]  # the near-duplicate links of every article
    relink: set[str]  # articles outside the corpus whose near-duplicate link may have changed
    similar: dict[str, dict[str, str]]  # slug -> {similar article's slug: score}
    sizes: dict[str, int]  # slug -> shingle count
    hashes: dict[str, list[int]]  # slug -> shingle hashes, of the texts read


@dataclasses.dataclass
class Plan:
    """What a seed reads, validates and writes."""

    corpus: Corpus
    old_manifest: dict[str, dict[str, Any]]  # as stored, by path
    removal: Removal
    # the near-duplicates decided (None: no text came or went, every link stands), computed beside
    # the writes when there are many texts to compare
    near: Callable[[], NearDuplicates] | None
    # the manifest once the seed commits, by path, from the near-duplicates
    rows: Callable[[NearDuplicates | None], dict[str, dict[str, Any]]]
    read: int
    skipped: int
    # slug -> (annotation, its resolved path, whether it and its text are no symlinks) of each
    # article left unread: the corpus may have moved
    unread: dict[str, tuple[Path, str, bool]] = dataclasses.field(default_factory=dict)
    close: Callable[[], None] = lambda: None  # stops a computation still running beside the writes
    beside: bool = False  # whether the near-duplicates are decided beside the writes

    def links(self) -> tuple[list[Duplicate], set[str]]:
        """Return every article's near-duplicate link and the unread articles whose link may have changed."""
        found = self.near() if self.near is not None else None
        return (found.chosen, found.relink) if found is not None else ([], set())

    def manifest_rows(self) -> dict[str, dict[str, Any]]:
        """Return the manifest once the seed commits, by path."""
        return self.rows(self.near() if self.near is not None else None)


def seed(
    engine: Engine,
    paths: Iterable[Path],
    *,
    reset_first: bool = False,
    full: bool = False,
    on_wait: Callable[[], None] | None = None,
    progress: Progress | None = None,
    scanned: Sequence[SeedFile] | None = None,
) -> Summary:
    """Load the corpus under `paths`; return what changed. Raises SeedError (or NotMigrated) before any write.

    `progress(step, done, total)` reports reading files, then writing rows per table; `scanned`:
    the files under `paths` as `scan` found them, if it was run."""
    paths = list(paths)
    found = discover(paths, scanned)
    summary = Summary()
    waited = False

    def wait() -> None:
        nonlocal waited
        waited = True
        if on_wait is not None:
            on_wait()

    with collector_paused(), transaction(engine) as conn:
        acquire_seed_lock(conn, on_wait=wait)
        if waited:  # the files may have changed while another seed ran: looked at again
            found = discover(paths)
        # rows written into another version's schema would miss what this version keeps
        lag = schema_lag(conn)
        if lag is not None:
            raise NotMigrated(lag)
        if reset_first:
            summary.reset_rows = reset(conn)
        plan = _plan(conn, paths, found, full=full, progress=progress)
        try:
            summary.read_files, summary.skipped_files = plan.read, plan.skipped
            write_corpus(
                conn,
                plan.corpus,
                summary=summary,
                progress=progress,
                links=_waiting(plan, progress) if plan.beside else plan.links,
                links_pending=plan.beside,
                removal=plan.removal,
            )
            summary.counts(models.metadata.tables["articles"]).updated += relocate_sources(conn, plan.unread)
            if progress is not None:
                progress("manifest and commit", 0, 0)
            _write_manifest(conn, plan.manifest_rows(), plan.old_manifest)
        finally:
            plan.close()
        # last, in the same transaction: the new version is announced only if the seed commits
        record_version(conn, summary.changes(), reset=reset_first)
        # everything of this seed is written: it commits as this block ends
    if progress is not None:
        progress("manifest and commit", 0, 0)
    return summary


def _waiting(plan: Plan, progress: Progress | None) -> Callable[[], tuple[list[Duplicate], set[str]]]:
    """Return `plan.links`, reporting the wait for near-duplicates still being decided as a step."""

    def links() -> tuple[list[Duplicate], set[str]]:
        if progress is not None:
            progress("near-duplicates", 0, 0)
        found = plan.links()
        if progress is not None:
            progress("near-duplicates", len(found[0]), len(found[0]))
        return found

    return links


def _rekeyed(stored: Mapping[str, dict[str, Any]], base: Path) -> dict[str, dict[str, Any]]:
    """Return the manifest rows by key, absolute paths inside `base` (an older manifest's) made relative."""
    out: dict[str, dict[str, Any]] = {}
    for path, row in stored.items():
        if os.path.isabs(path):  # (a string test: a manifest holds a row per file)
            key = manifest_key(Path(path), base)
            out[key] = {**row, "path": key}
        else:
            out[path] = row
    return out


def _plan(
    conn: Connection,
    paths: Sequence[Path],
    found: Discovered,
    *,
    full: bool,
    progress: Progress | None,
) -> Plan:
    """Validate what has to be read; return what to write. Raises SeedError (the full corpus's errors)."""
    base = seed_directory(paths)
    registries, annotations = found.registries, found.annotations

    keys: dict[Path, str] = {}

    def _key(path: Path) -> str:  # resolving a path (symlinks followed) costs: once per file
        key = keys.get(path)
        if key is None:
            key = keys[path] = manifest_key(path, base, real=found.at.get(path))
        return key

    stored = read_manifest(conn)
    if any(os.path.isabs(path) for path in stored):
        # an older manifest's rows move to relative paths: they are written again, whole
        stored = read_manifest(conn, lists=True)
    old = _rekeyed(stored, base)
    dirs = {Path(_key(p)) for p in paths if p.is_dir()}
    prints: dict[Path, Fingerprint | None] = {}
    for i, p in enumerate([*registries, *annotations], 1 - len(registries)):
        registry = i <= 0
        row = None if full else old.get(_key(p))
        if row is not None and row["file_stat"] is not None and row["file_stat"] == file_stat(p, registry=registry):
            # not written since it was hashed: its hashes stand
            prints[p] = Fingerprint(row["sha256"], row["text_sha256"], row["file_stat"])
        else:
            prints[p] = fingerprint(p, registry=registry)
        if progress is not None and i > 0 and (i % 100 == 0 or i == len(annotations)):
            progress("hashing files", i, len(annotations))
    current = {_key(p) for p in [*registries, *annotations]}
    # a file of a seeded directory that is gone; files seeded one by one leave the others alone
    removed = [k for k in old if k not in current and Path(k).parent in dirs]

    def unchanged(p: Path) -> bool:
        row, fp = old.get(_key(p)), prints[p]
        return not full and row is not None and fp is not None and row["sha256"] == fp.sha256

    # a registry unchanged is not read either: what it defines is known from the manifest, and the
    # stored rows of its entries stand (a registry of 4,000 entries took 0.3 s to parse)
    clean = {p for p in [*registries, *annotations] if unchanged(p)}
    read_registries = [p for p in registries if p not in clean]
    first = [*read_registries, *[p for p in annotations if p not in clean]]
    total = len(first)
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress("reading files", done, total)

    validation = Validation()
    validation.read(first, on_file=step)
    facts = validation.corpus.facts
    # a row an older seed kept under a symlink's target outside the seeded directory: the file read
    # now that holds its article is the same file, seen where it lies (the row goes, not the article)
    read_slugs = {f.article for f in facts.values() if f.article}
    gone_keys = set(removed)
    removed += [
        k
        for k, row in old.items()
        if os.path.isabs(k) and k not in current and k not in gone_keys and row["article_slug"] in read_slugs
    ]

    # what changed that unchanged files may depend on: registry entries, and definitions gone
    old_entries: dict[str, str] = {}
    for k in [*[_key(p) for p in read_registries], *removed]:
        if k in old and old[k]["kind"] == "registry":
            old_entries |= old[k]["entries"]
    new_entries: dict[str, str] = {}
    for p in read_registries:
        new_entries |= facts[p].entries
    dirty = {k for k in old_entries.keys() | new_entries.keys() if old_entries.get(k) != new_entries.get(k)}
    previous = [k for k in [*removed, *(_key(p) for p in first)] if k in old]
    before = set().union(*_lists(conn, old, previous, "defines").values())
    now = set().union(*[f.defines for f in facts.values()])
    gone = before - now
    dirty |= gone
    # registries first, as a full seed reads them
    depending = _referring(conn, old, dirty) if dirty else set()
    second = [p for p in [*registries, *annotations] if p in clean and _key(p) in depending]
    if second:
        total += len(second)
        validation.read(second, on_file=step)
    clean -= set(second)
    # of what the unread files define, what the files read name (a reference, or a second
    # definition): declared as theirs, so references resolve and second definitions are caught
    unread = {_key(p): p for p in clean}
    named = set().union(*[f.refers | f.defines for f in validation.corpus.facts.values()]) if unread else set()
    defined = _defining(conn, old, named) if named else {}
    for k in sorted(defined.keys() & unread.keys(), key=lambda k: unread[k].parts):  # Path order
        validation.known(FileAt(unread[k]), defined[k])
    corpus = validation.corpus
    try:
        corpus = validation.finish(outer_links=_outer_links(conn, corpus) if clean else None)
    except SeedError:
        if not clean:
            raise
        build_corpus(paths)  # the errors a full seed reports, in its order
        raise
    if progress is not None:
        progress("reading files", total, total)

    read_articles = {p: facts[p] for p in annotations if p in facts}
    gone_paths = set(removed)
    rows = {k: row for k, row in old.items() if k not in gone_paths}  # files elsewhere stay as they are
    for p in registries:
        if p in clean:
            continue  # its manifest row stands
        fp = fingerprint(p, registry=True)
        assert fp is not None  # it was read
        f = facts[p]
        rows[_key(p)] = _row(_key(p), "registry", fp, f)
    near: Callable[[], NearDuplicates] | None = None
    stop: Callable[[], None] | None = None
    if read_articles or removed:
        near, stop = _near_duplicates(
            conn,
            corpus,
            old,
            {_key(p): f for p, f in read_articles.items()},
            {_key(p) for p in clean.difference(registries)},
            removed,
            full,
            progress=progress,
        )
    # else no article was read or removed: every link and score stands as the manifest has it

    def manifest_rows(found: NearDuplicates | None) -> dict[str, dict[str, Any]]:
        if found is None:
            return rows
        out = dict(rows)
        for p, f in read_articles.items():
            fp = prints[p]
            assert fp is not None
            out[_key(p)] = _row(_key(p), "article", fp, f, shingle_count=found.sizes.get(f.article or ""))
        for k, row in out.items():
            if row["kind"] == "article" and k in current:
                out[k] = {**row, "similar": found.similar.get(row["article_slug"], {})}
                if row["article_slug"] in found.hashes:
                    out[k]["shingle_hashes"] = found.hashes[row["article_slug"]]
        return out

    kinds = {"article": "articles", "trade_figure": "figures", "event": "events"}
    removal = Removal()
    for key in gone:
        kind, _, slug = key.partition(":")
        if kind in kinds:
            getattr(removal, kinds[kind]).add(slug)
    return Plan(
        corpus,
        stored,
        removal,
        near,
        manifest_rows,
        read=len(first) + len(second),
        skipped=len(clean),
        unread={
            old[_key(p)]["article_slug"]: (p, found.real.get(p) or str(resolved(p)), p in found.plain)
            for p in annotations
            if p in clean and old[_key(p)].get("article_slug")
        },
        close=stop or (lambda: None),
        beside=stop is not None,
    )


def relocate_sources(conn: Connection, unread: Mapping[str, tuple[Path, str, bool]]) -> int:
    """Set each unread article's source file to where its text is now; return how many moved.

    A corpus seeded again from another place (or working directory) has the same content, so its
    files are not read; what the articles say of where they come from is still brought up to date."""
    if not unread:
        return 0
    stored = conn.execute(
        text("SELECT slug, source_file FROM articles WHERE slug = ANY(:slugs)"), {"slugs": list(unread)}
    )
    shown: dict[str, str] = {str(slug): str(source) for slug, source in stored}
    now = text_display_paths((slug, *unread[slug], source) for slug, source in shown.items())
    sources = {slug: path for slug, path in now.items() if path != shown[slug]}
    if not sources:
        return 0
    moved = conn.execute(
        text(
            "UPDATE articles a SET source_file = v.file FROM unnest(CAST(:slugs AS text[]), CAST(:files AS text[]))"
            " AS v (slug, file) WHERE a.slug = v.slug AND a.source_file IS DISTINCT FROM v.file"
        ),
        {"slugs": list(sources), "files": list(sources.values())},
    )
    return moved.rowcount


def _row(key: str, kind: str, fp: Fingerprint, facts: FileFacts, *, shingle_count: int | None = None) -> dict[str, Any]:
    return {
        "path": key,
        "kind": kind,
        "sha256": fp.sha256,
        "text_sha256": fp.text_sha256,
        "file_stat": fp.stat,
        "article_slug": facts.article,
        "defines": sorted(facts.defines),
        "refers": sorted(facts.refers),
        "entries": facts.entries,
        "shingles": shingle_count,
        "similar": {},
    }


def _lists(conn: Connection, old: Mapping[str, dict[str, Any]], keys: Sequence[str], name: str) -> dict[str, list[str]]:
    """Return the manifest's `name` list ("defines" or "refers") of each file of `keys`."""
    have = {k: old[k][name] for k in keys if name in old[k]}
    wanted = [k for k in keys if k not in have]  # a manifest read without them: keys are its paths
    if wanted:
        found = conn.execute(select(manifest.c.path, manifest.c[name]).where(any_of(manifest.c.path, wanted)))
        have |= {path: list(values) for path, values in found}
    return have


def _referring(conn: Connection, old: Mapping[str, dict[str, Any]], keys: set[str]) -> set[str]:
    """Return the files of the manifest that refer to any of `keys` ("kind:slug")."""
    if all("refers" in row for row in old.values()):
        return {k for k, row in old.items() if keys.intersection(row["refers"])}
    statement = select(manifest.c.path).where(manifest.c.refers.overlap(sorted(keys)))
    return set(conn.execute(statement).scalars())


def _defining(conn: Connection, old: Mapping[str, dict[str, Any]], keys: set[str]) -> dict[str, list[str]]:
    """Return, per file of the manifest, which of `keys` ("kind:slug") it defines (files defining none left out)."""
    out: dict[str, list[str]] = {}
    if all("defines" in row for row in old.values()):
        for k, row in old.items():
            if mine := [d for d in row["defines"] if d in keys]:
                out[k] = mine
        return out
    statement = text(
        "SELECT m.path, d FROM seed_manifest AS m CROSS JOIN LATERAL unnest(m.defines) AS d"
        " WHERE m.defines && CAST(:keys AS text[]) AND d = ANY(CAST(:keys AS text[])) ORDER BY m.path, d"
    )
    for path, key in conn.execute(statement, {"keys": sorted(keys)}):
        out.setdefault(path, []).append(key)
    return out


def _outer_links(conn: Connection, corpus: Corpus) -> dict[str, dict[str, str | None]]:
    """Return the stored part_of and parent links, for cycles through files that were not read."""
    out: dict[str, dict[str, str | None]] = {}
    for name, table, column, needed in (
        ("trade figure", trade_figures, "part_of_id", any(f.part_of for f in corpus.figures.values())),
        ("event", events, "parent_id", any(e.parent for e in corpus.events.values())),
    ):
        if not needed:
            continue
        parent = table.alias("parent")
        found = conn.execute(select(table.c.slug, parent.c.slug).join(parent, parent.c.id == table.c[column]))
        out[name] = dict(found.all())
    return out


def _near_duplicates(
    conn: Connection,
    corpus: Corpus,
    old: Mapping[str, dict[str, Any]],
    read: Mapping[str, FileFacts],
    clean: set[str],
    removed: Sequence[str],
    full: bool,
    *,
    progress: Progress | None,
) -> tuple[Callable[[], NearDuplicates], Callable[[], None] | None]:
    """Return a function returning every article's near-duplicate link, the unread articles whose
    link may have changed, each article's similar articles (slug -> score) and shingle counts,
    scoring only texts that came or changed; and, when they are decided in a child process beside
    the writes, a function stopping it.

    What is read from the database is read here; the comparison of the texts is `_decide`."""
    sizes: dict[str, int] = {}
    pairs: Pairs = {}
    clean_slugs = {old[k]["article_slug"] for k in clean}
    for k in clean:
        sizes[old[k]["article_slug"]] = old[k]["shingles"]
    rewritten = [
        f.article
        for k, f in read.items()
        if f.article is not None
        and (
            (was := old.get(k)) is None
            or was["text_sha256"] != corpus.articles[f.article].sha256
            or was["article_slug"] != f.article
        )
    ]
    changed_texts = [f.article for f in read.values() if f.article is not None] if full else rewritten
    # the shingle hashes the manifest lacks: of new texts, and (--full) of stored rows without them;
    # a text unchanged hashes as its stored hashes
    unhashed = set(rewritten) | (_without_hashes(conn) & set(changed_texts) if full else set())
    # pairs between articles whose text did not change stand as the manifest keeps them
    changed = set(changed_texts)
    unchanged_slugs = clean_slugs | {f.article for f in read.values() if f.article and f.article not in changed}
    for k in [*clean, *read]:
        row: dict[str, Any] | None = old.get(k)
        if row is None or row["article_slug"] not in unchanged_slugs:
            continue
        a = row["article_slug"]
        if a not in sizes and row["shingles"] is not None:
            sizes[a] = row["shingles"]
        for b, score in row["similar"].items():
            if b in unchanged_slugs:
                pairs[(a, b) if a < b else (b, a)] = Decimal(score)
    texts_gone = bool(removed) or any(
        (was := old.get(k)) is not None and was["article_slug"] != f.article for k, f in read.items()
    )
    bodies = {slug: corpus.articles[slug].body for slug in changed_texts}
    stored: dict[str, str] = {}
    rehash: set[str] = set()
    others = unchanged_slugs - changed
    if bodies and others:
        if len(changed_texts) <= LOOKUPS_UP_TO and len(changed_texts) * FEW <= len(others):
            # a few new texts: only the stored articles that could reach the threshold are read
            sets = {slug: shingles(body) for slug, body in bodies.items()}
            others &= _candidates(conn, {slug: (shingle_hashes(s), len(s)) for slug, s in sets.items()})
        if others:
            found = conn.execute(select(articles.c.slug, articles.c.body).where(any_of(articles.c.slug, others)))
            stored = dict(found.all())
            # texts read whose hashes are not stored (a manifest older than them): stored now
            rehash = _without_hashes(conn) & stored.keys()
    scope = {*clean, *read, *removed}  # the files of this seed as the last one left them
    work = functools.partial(
        _decide,
        pairs,
        sizes,
        bodies,
        stored,
        rehash | unhashed,
        [old[k] for k in scope if k in old],
        clean_slugs,
        relinking=bool(changed_texts) or texts_gone,
    )
    if len(bodies) + len(stored) >= BESIDE_FROM and beside.available():
        running = beside.Beside(work, name="near-duplicate detection")
        return running.result, running.close
    if progress is not None:
        progress("near-duplicates", 0, len(read))
    decided = work()
    if progress is not None:
        progress("near-duplicates", len(read), len(read))
    return lambda: decided, None


# Texts to compare from which near-duplicates are decided in a child process while the rows are
# written (the database works on one CPU, the comparison on the other): 33 s of 160 at 20,000 articles
BESIDE_FROM = 1_000


def _decide(
    pairs: Pairs,
    sizes: Mapping[str, int],
    changed: Mapping[str, str],
    stored: Mapping[str, str],
    rehash: set[str],
    scope: Sequence[dict[str, Any]],
    clean: set[str],
    *,
    relinking: bool,
) -> NearDuplicates:
    """Return the near-duplicates of the texts `changed` and `stored` (slug -> text) added to the
    `pairs` and `sizes` that stand, with the shingle hashes of the texts `rehash` names."""
    pairs = dict(pairs)
    sizes = dict(sizes)
    hashes: dict[str, list[int]] = {}
    if changed:
        sets = {slug: shingles(body) for slug, body in changed.items()}
        loaded = {slug: shingles(body) for slug, body in stored.items()}
        sets |= loaded
        hashes = {slug: shingle_hashes(sets[slug]) for slug in rehash if slug in sets}
        sizes |= {slug: len(s) for slug, s in sets.items()}
        pairs |= similar_pairs(sets, list(changed) if loaded else None)
    similar: dict[str, dict[str, str]] = {}
    for (a, b), score in pairs.items():
        similar.setdefault(a, {})[b] = str(score)
        similar.setdefault(b, {})[a] = str(score)
    chosen = choose_duplicates(pairs, sizes)
    relink = _relinked(scope, chosen, clean) if relinking else set()
    return NearDuplicates(chosen, relink, similar, sizes, hashes)


def _relinked(old: Sequence[dict[str, Any]], chosen: Sequence[Duplicate], clean: set[str]) -> set[str]:
    """Return the unread articles whose near-duplicate link differs from the one the pairs of the
    manifest's rows `old` give (those of the files the new links were chosen among)."""
    pairs: Pairs = {}
    sizes: dict[str, int] = {}
    for row in old:
        a = row["article_slug"]
        if row["kind"] != "article" or a is None:
            continue
        if row["shingles"] is None:
            return set(clean)  # a manifest without the sizes: every link is compared with the stored one
        sizes[a] = row["shingles"]
        for b, score in row["similar"].items():
            pairs[(a, b) if a < b else (b, a)] = Decimal(score)
    # pairs among these files only, as the new links were chosen
    pairs = {(a, b): score for (a, b), score in pairs.items() if a in sizes and b in sizes}
    # the links stored are the ones these pairs chose when they were written, in the same transaction
    was = {d.duplicate: d for d in choose_duplicates(pairs, sizes)}
    now = {d.duplicate: d for d in chosen}
    return {slug for slug in clean if was.get(slug) != now.get(slug)}


# Shared hashes may undercount shared shingles only when two shingles of one pair hash alike:
# a candidate may fall this many short of the bar (two such collisions in one pair: ~1e-13).
HASH_SLACK = 1


def _candidates(conn: Connection, texts: Mapping[str, tuple[list[int], int]]) -> set[str]:
    """Return the stored articles that may be near-duplicates of any of `texts` (slug -> its shingle
    hashes and count): those sharing enough hashes for the threshold, and any without stored hashes."""
    statement = text(
        "SELECT article_slug FROM seed_manifest WHERE kind = 'article' AND (shingle_hashes IS NULL"
        " OR icount(shingle_hashes & CAST(:hashes AS int4[])) + :slack >= ceil(:bound * least(:size, shingles)))"
    )
    out: set[str] = set()
    for own, size in texts.values():
        found = conn.execute(statement, {"hashes": own, "size": size, "bound": CANDIDATE_BOUND, "slack": HASH_SLACK})
        out.update(found.scalars())
    return out


def _without_hashes(conn: Connection) -> set[str]:
    """Return the stored articles whose shingle hashes the manifest lacks."""
    statement = select(manifest.c.article_slug).where(manifest.c.kind == "article", manifest.c.shingle_hashes.is_(None))
    return set(conn.execute(statement).scalars())


def _write_manifest(conn: Connection, rows: Mapping[str, dict[str, Any]], stored: Mapping[str, dict[str, Any]]) -> None:
    """Make the manifest (`stored` before) hold `rows`: write the rows that differ, delete the others."""
    changed = [row for path, row in rows.items() if _differs(stored.get(path), row)]
    columns = [c.name for c in manifest.columns if c.name not in NOT_READ]

    def whole(row: Mapping[str, Any]) -> bool:
        return all(name in row for name in LISTS)

    # new rows (every row of a first load) arrive in one COPY, their shingle hashes with them
    new = [row for row in changed if row["path"] not in stored and whole(row)]
    changed = [row for row in changed if row["path"] in stored or not whole(row)]
    if new:
        json = {c.name for c in manifest.columns if isinstance(c.type, JSONB)}
        copied = [{name: Jsonb(row[name]) if name in json else row[name] for name in columns} for row in new]
        for out, row in zip(copied, new, strict=True):
            # an int4[] in COPY's text form, made in C: the driver would dump each int in Python
            hashes = row.get("shingle_hashes")
            out["shingle_hashes"] = None if hashes is None else "{" + ",".join(map(str, hashes)) + "}"
        copy_rows(conn, manifest, copied, None)
    # a row read without its lists (LISTS) is compared and written without them: they follow from
    # the file's content, whose sha256 is compared
    for partial in (False, True):  # rows read whole (or new), then rows read without their lists
        group = [row for row in changed if whole(row) != partial]
        if not group:
            continue
        names = [name for name in columns if not (partial and name in LISTS)]
        statement = insert(manifest)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[manifest.c.path],
                set_={name: statement.excluded[name] for name in names if name != "path"},
            ),
            [{name: row[name] for name in names} for row in group],
        )
    # the shingle hashes of the texts read (the stored ones stand for the others), by the driver:
    # hundreds of ints per row, which it sends as one binary array each
    hashed = [(row["shingle_hashes"], row["path"]) for row in changed if "shingle_hashes" in row]
    if hashed:
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur:
            cur.executemany("UPDATE seed_manifest SET shingle_hashes = %b::int4[] WHERE path = %s", hashed)
    gone = [path for path in stored if path not in rows]
    if gone:
        conn.execute(delete(manifest).where(any_of(manifest.c.path, gone)))


def _differs(stored: Mapping[str, Any] | None, row: Mapping[str, Any]) -> bool:
    """Return whether `row` is to be written over the manifest's `stored` one."""
    if stored is None:
        return True
    return any(
        name not in stored or stored[name] != value
        for name, value in row.items()
        if name in stored or name not in LISTS
    )
