"""Validating a seed corpus: every file parsed, every quote found, every reference resolved.

`build_corpus` reads the files and returns a `Corpus` that is ready to write, or raises
`SeedError` listing every problem. It never touches the database, so a bad corpus can
never leave anything half-written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from app.seed import format as fmt
from app.seed.checks import check_conversions, check_currency, check_period, check_place_codes
from app.seed.dedupe import Duplicate, find_duplicates
from app.seed.files import REGISTRY_FILES, SeedError, SeedIssue, collect, discover, display_path
from app.seed.source import Loc, SourceFile, collector_paused, format_loc, read_article_text, read_sources

SubjectKind = Literal["trade_figure", "event", "organisation", "place", "person"]


@dataclasses.dataclass(frozen=True)
class Span:
    """An exact passage: `body[start:end] == quote`."""

    article: str
    quote: str
    start: int
    end: int


@dataclasses.dataclass(frozen=True)
class EvidenceItem:
    span: Span
    subject_kind: SubjectKind
    subject: str


@dataclasses.dataclass(frozen=True)
class ArticleItem:
    meta: fmt.ArticleMeta
    source_file: str
    body: str
    sha256: str

    @property
    def word_count(self) -> int:
        return len(self.body.split())


@dataclasses.dataclass
class FileFacts:
    """What one seed file defines and refers to, as "kind:slug" (what the seed's manifest keeps)."""

    defines: set[str] = dataclasses.field(default_factory=set)
    refers: set[str] = dataclasses.field(default_factory=set)
    entries: dict[str, str] = dataclasses.field(default_factory=dict)  # registry: "kind:slug" -> sha256
    article: str | None = None  # an annotation: the slug of its article


@dataclasses.dataclass
class Corpus:
    places: dict[str, fmt.Place] = dataclasses.field(default_factory=dict)
    organisations: dict[str, fmt.Organisation] = dataclasses.field(default_factory=dict)
    people: dict[str, fmt.Person] = dataclasses.field(default_factory=dict)
    articles: dict[str, ArticleItem] = dataclasses.field(default_factory=dict)
    figures: dict[str, fmt.TradeFigure] = dataclasses.field(default_factory=dict)
    figure_article: dict[str, str] = dataclasses.field(default_factory=dict)
    stated_conversions: dict[str, tuple[fmt.StatedConversion, Span]] = dataclasses.field(default_factory=dict)
    events: dict[str, fmt.Event] = dataclasses.field(default_factory=dict)
    evidence: list[EvidenceItem] = dataclasses.field(default_factory=list)
    duplicates: list[Duplicate] = dataclasses.field(default_factory=list)
    facts: dict[Path, FileFacts] = dataclasses.field(default_factory=dict)  # by the file as discovered

    def written_evidence(self) -> list[EvidenceItem]:
        """Return the evidence a seed writes: every quote given, and each stated conversion's quote."""
        items = list(self.evidence)
        known = set(items)
        for slug, (_, span) in self.stated_conversions.items():
            extra = EvidenceItem(span, "trade_figure", slug)
            if extra not in known:
                items.append(extra)
                known.add(extra)
        return items

    def row_count(self) -> int:
        """Return roughly how many rows writing this corpus touches (for progress display)."""
        return (
            len(self.places)
            + len(self.organisations)
            + len(self.people)
            + len(self.articles)
            + len(self.figures)
            + len(self.events)
            + len(self.evidence)
        )


# --- discovery -------------------------------------------------------------------------------


# --- building ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _At:
    """Where a slug is defined: `file:line` once shown."""

    src: SourceFile
    loc: Loc

    def __str__(self) -> str:
        return f"{self.src.name}:{self.src.line_of(self.loc)}"


@dataclasses.dataclass(frozen=True)
class FileAt:
    """A file, named as messages name it once shown (resolving its path only then)."""

    path: Path

    def __str__(self) -> str:
        return display_path(self.path)


class _Builder:
    def __init__(self) -> None:
        self.corpus = Corpus()
        self.issues: list[SeedIssue] = []
        # where each slug was defined, for duplicate and reference messages
        # "kind:slug" (as a manifest keeps it) -> where it is defined
        self.defined_at: dict[str, str | _At | FileAt] = {}
        self.references: list[tuple[SourceFile, Loc, str, str]] = []  # (file, loc, kind, slug)
        self.unread: set[str] = set()  # "kind:slug" declared by files refused for their own problems
        self.place_src: dict[str, tuple[SourceFile, Loc]] = {}
        self.seen_evidence: set[EvidenceItem] = set()  # the list keeps order; this keeps lookups cheap
        # (article, subject kind, subject) -> the spans of its evidence there, with where each is given
        self.spans_of: dict[tuple[str, str, str], list[tuple[int, int, Loc]]] = {}
        self.facts = FileFacts()  # of the file being read

    def define(self, kind: str, slug: str, src: SourceFile, loc: Loc) -> bool:
        key = f"{kind}:{slug}"
        self.facts.defines.add(key)
        if key in self.defined_at:
            issue = src.issue(loc, f"duplicate {kind} slug {slug!r}")
            self.issues.append(
                dataclasses.replace(issue, reason=f"{issue.reason} (first defined at {self.defined_at[key]})")
            )
            return False
        self.defined_at[key] = _At(src, loc)  # its line is looked up only for a message
        return True

    def refer(self, src: SourceFile, loc: Loc, kind: str, slug: str | None) -> None:
        if slug is not None:
            self.references.append((src, loc, kind, slug))
            self.facts.refers.add(f"{kind}:{slug}")

    # registries

    def add_registry(self, path: Path, src: SourceFile) -> None:
        kind = REGISTRY_FILES[path.name]
        # an entry refused for its own problem: references to it are not reported as unknown too
        self.unread.update(_declared(path.name, src.data))
        if kind == "places":
            places, issues = src.parse_list("places", fmt.Place)
            for i, place in places:
                loc: Loc = ("places", i)
                self.facts.entries[f"place:{place.slug}"] = _entry_hash(place)
                if self.define("place", place.slug, src, (*loc, "slug")):
                    self.corpus.places[place.slug] = place
                    self.place_src[place.slug] = (src, loc)
                self.refer(src, (*loc, "parent"), "place", place.parent)
                self.issues += check_place_codes(src, loc, place)
        elif kind == "organisations":
            orgs, issues = src.parse_list("organisations", fmt.Organisation)
            for i, org in orgs:
                loc = ("organisations", i)
                self.facts.entries[f"organisation:{org.slug}"] = _entry_hash(org)
                if self.define("organisation", org.slug, src, (*loc, "slug")):
                    self.corpus.organisations[org.slug] = org
                self.refer(src, (*loc, "country"), "place", org.country)
                self.refer(src, (*loc, "parent"), "organisation", org.parent)
        else:
            people, issues = src.parse_list("people", fmt.Person)
            for i, person in people:
                loc = ("people", i)
                self.facts.entries[f"person:{person.slug}"] = _entry_hash(person)
                if self.define("person", person.slug, src, (*loc, "slug")):
                    self.corpus.people[person.slug] = person
                self.refer(src, (*loc, "organisation"), "organisation", person.organisation)
                self.refer(src, (*loc, "country"), "place", person.country)
        self.issues += issues

    # articles

    def add_article(self, path: Path, src: SourceFile) -> None:
        doc = src.parse(fmt.ArticleFile)
        txt = path.with_suffix(".txt")
        txt_name = display_path(txt)
        raw_text = read_article_text(txt, txt_name)
        body = raw_text
        sha = hashlib.sha256(raw_text.encode()).hexdigest()  # the bytes read_article_text decoded
        meta = doc.article
        if sha != meta.sha256:
            self.issues.append(
                src.issue(
                    ("article", "sha256"),
                    f"{txt_name} has changed since it was annotated "
                    f"(its sha256 is {sha}, the annotation was made for {meta.sha256}); "
                    "re-check every quote and offset, then update sha256",
                )
            )
        self.facts.article = meta.slug
        if not self.define("article", meta.slug, src, ("article", "slug")):
            return
        self.corpus.articles[meta.slug] = ArticleItem(meta, txt_name, body, sha)
        self.refer(src, ("article", "publisher"), "organisation", meta.publisher)
        if meta.title is not None and meta.title not in body:
            self.issues.append(src.issue(("article", "title"), "title is not found verbatim in the text"))

        spans = _Spans(src, meta.slug, body, self.issues)
        for i, mention in enumerate(doc.mentions):
            kind, slug = _mention_subject(mention)
            self.refer(src, ("mentions", i, kind), kind, slug)
            self._evidence(spans, ("mentions", i), mention.evidence, kind, slug)

        for i, entry in enumerate(doc.trade_figures):
            loc = ("trade_figures", i)
            if isinstance(entry, fmt.FigureRef):
                self.refer(src, (*loc, "ref"), "trade_figure", entry.ref)
                self._evidence(spans, loc, entry.evidence, "trade_figure", entry.ref)
                continue
            fig = entry
            if self.define("trade_figure", fig.slug, src, (*loc, "slug")):
                self.corpus.figures[fig.slug] = fig
                self.corpus.figure_article[fig.slug] = meta.slug
            refs: tuple[tuple[str, str, str | None], ...] = (
                ("reporter", "place", fig.reporter),
                ("partner", "place", fig.partner),
                ("part_of", "trade_figure", fig.part_of),
                ("source", "organisation", fig.source),
            )
            for field, ref_kind, ref in refs:
                self.refer(src, (*loc, field), ref_kind, ref)
            if fig.partner is not None and fig.partner == fig.reporter:
                self.issues.append(src.issue((*loc, "partner"), "partner is the reporter itself"))
            self.issues += check_period(src, (*loc, "period"), fig.period)
            currencies = check_currency(src, loc, fig)
            # conversions as the seed will compute them, once their currencies are known ones
            self.issues += currencies or check_conversions(src, loc, fig, meta.published)
            if fig.stated_conversion is not None:
                stated = fig.stated_conversion
                span = spans.resolve((*loc, "stated_conversion"), fmt.Quote(quote=stated.quote, start=stated.start))
                if span is not None:
                    self.corpus.stated_conversions[fig.slug] = (fig.stated_conversion, span)
            self._evidence(spans, loc, fig.evidence, "trade_figure", fig.slug)

        for i, event_entry in enumerate(doc.events):
            loc = ("events", i)
            if isinstance(event_entry, fmt.EventRef):
                self.refer(src, (*loc, "ref"), "event", event_entry.ref)
                self._evidence(spans, loc, event_entry.evidence, "event", event_entry.ref)
                continue
            event = event_entry
            if self.define("event", event.slug, src, (*loc, "slug")):
                self.corpus.events[event.slug] = event
            for j, place in enumerate(event.places):
                self.refer(src, (*loc, "places", j), "place", place)
            for j, part in enumerate(event.participants):
                self.refer(src, (*loc, "participants", j, "organisation"), "organisation", part.organisation)
                self.refer(src, (*loc, "participants", j, "person"), "person", part.person)
            self.refer(src, (*loc, "parent"), "event", event.parent)
            self._evidence(spans, loc, event.evidence, "event", event.slug)

    def _evidence(self, spans: _Spans, loc: Loc, quotes: Sequence[fmt.Quote], kind: SubjectKind, slug: str) -> None:
        for j, quote in enumerate(quotes):
            span = spans.resolve((*loc, "evidence", j), quote)
            if span is not None:
                item = EvidenceItem(span, kind, slug)
                if item in self.seen_evidence:
                    self.issues.append(spans.src.issue((*loc, "evidence", j), "the same evidence is listed twice"))
                    continue
                # words cited twice for one subject (`China` and `hina-Ru`) would count it twice
                given = self.spans_of.setdefault((span.article, kind, slug), [])
                overlapped = next((w for s, e, w in given if s < span.end and span.start < e), None)
                if overlapped is not None:
                    reason = f"overlaps the evidence of the same {kind.replace('_', ' ')} at {format_loc(overlapped)}"
                    self.issues.append(spans.src.issue((*loc, "evidence", j), reason))
                    continue
                given.append((span.start, span.end, (*loc, "evidence", j)))
                self.corpus.evidence.append(item)
                self.seen_evidence.add(item)

    # cross-file checks

    def resolve_references(self) -> None:
        for src, loc, kind, slug in self.references:
            if f"{kind}:{slug}" not in self.defined_at and f"{kind}:{slug}" not in self.unread:
                self.issues.append(src.issue(loc, f"unknown {kind.replace('_', ' ')} {slug!r}"))

    def check_unique_identifiers(self, src_of: dict[str, tuple[SourceFile, Loc]]) -> None:
        seen: dict[tuple[str, object], str] = {}
        for slug, place in self.corpus.places.items():
            for field, value in (("code", place.code), ("geonames_id", place.geonames_id)):
                if value is None:
                    continue
                if (field, value) in seen:
                    src, loc = src_of[slug]
                    self.issues.append(
                        src.issue(
                            (*loc, field),
                            f"{field} {value!r} is already used by place {seen[field, value]!r}",
                        )
                    )
                else:
                    seen[field, value] = slug

    def check_cycles(self, outer: Mapping[str, Mapping[str, str | None]] | None = None) -> None:
        c = self.corpus
        outer = outer or {}
        parents: dict[str, dict[str, str | None]] = {
            "place": {s: p.parent for s, p in c.places.items()},
            "organisation": {s: o.parent for s, o in c.organisations.items()},
            "event": {**outer.get("event", {}), **{s: e.parent for s, e in c.events.items()}},
            "trade figure": {**outer.get("trade figure", {}), **{s: f.part_of for s, f in c.figures.items()}},
        }
        for kind, links in parents.items():
            mine = c.events if kind == "event" else c.figures if kind == "trade figure" else links
            for slug in mine:
                seen = [slug]
                nxt = links.get(slug)
                while nxt is not None and nxt in links:
                    if nxt in seen:
                        where = str(self.defined_at.get(f"{kind.replace(' ', '_')}:{slug}", ""))
                        self.issues.append(
                            SeedIssue(
                                where,
                                None,
                                "",
                                f"{kind} {slug!r} is its own ancestor: {' -> '.join([*seen, nxt])}",
                            )
                        )
                        break
                    seen.append(nxt)
                    nxt = links.get(nxt)


def _mention_subject(mention: fmt.Mention) -> tuple[SubjectKind, str]:
    if mention.organisation is not None:
        return "organisation", mention.organisation
    if mention.place is not None:
        return "place", mention.place
    assert mention.person is not None
    return "person", mention.person


class _Spans:
    """Finds quotes in one article's text and records issues for those that do not fit."""

    def __init__(self, src: SourceFile, article: str, body: str, issues: list[SeedIssue]) -> None:
        self.src = src
        self.article = article
        self.body = body
        self.issues = issues

    def resolve(self, loc: Loc, quote: fmt.Quote) -> Span | None:
        text = quote.quote
        found = list(_occurrences(self.body, text))
        if quote.start is not None:
            end = quote.start + len(text)
            if self.body[quote.start : end] == text:
                return Span(self.article, text, quote.start, end)
            actual = self.body[quote.start : end]
            hint = f"; it occurs at {_offsets(found)}" if found else "; it does not occur in the text at all"
            self.issues.append(
                self.src.issue(
                    (*loc, "start"), f"at offset {quote.start} the text reads {actual!r}, not the quote{hint}"
                )
            )
            return None
        if not found:
            self.issues.append(self.src.issue((*loc,), f"quote not found in the article text: {_short(text)!r}"))
            return None
        if len(found) > 1:
            self.issues.append(
                self.src.issue(
                    (*loc,),
                    f"quote occurs {len(found)} times (at {_offsets(found)}); give `start` to pick one",
                )
            )
            return None
        return Span(self.article, text, found[0], found[0] + len(text))


def _occurrences(body: str, text: str) -> Iterator[int]:
    start = body.find(text)
    while start != -1:
        yield start
        start = body.find(text, start + 1)


def _offsets(found: Sequence[int]) -> str:
    shown = ", ".join(map(str, found[:5]))
    return shown + (", ..." if len(found) > 5 else "")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_REGISTRY_KINDS = {"places": "place", "organisations": "organisation", "people": "person"}


def _declared(name: str, data: Any) -> set[str]:
    """Return the "kind:slug"s a file's raw data declares, as far as its shape can be read."""
    if not isinstance(data, dict):
        return set()

    def slugs(items: Any, kind: str) -> set[str]:
        if not isinstance(items, list):
            return set()
        return {f"{kind}:{i['slug']}" for i in items if isinstance(i, dict) and isinstance(i.get("slug"), str)}

    if name in REGISTRY_FILES:
        key = REGISTRY_FILES[name]
        return slugs(data.get(key), _REGISTRY_KINDS[key])
    article = data.get("article")
    out = slugs([article], "article") if isinstance(article, dict) else set()
    return out | slugs(data.get("trade_figures"), "trade_figure") | slugs(data.get("events"), "event")


MAX_DECLARED_BYTES = 64 * 1024 * 1024
_SLUG_LINE = re.compile(r"^[ \t-]*(?:ref|slug):[ \t]*[\[{\"']*([a-z0-9]+(?:-[a-z0-9]+)*)\b", re.M)


def _declared_in_text(path: Path) -> set[str]:
    """Return "kind:slug"s a file that could not be read as YAML seems to declare, from its slug lines."""
    # only a regular file of a seed's size: a named pipe or a device would never end (or never open)
    try:
        if not path.is_file() or path.stat().st_size > MAX_DECLARED_BYTES:
            return set()
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    slugs = set(_SLUG_LINE.findall(text))
    if path.name in REGISTRY_FILES:
        kinds: tuple[str, ...] = (_REGISTRY_KINDS[REGISTRY_FILES[path.name]],)
    else:
        kinds = ("article", "trade_figure", "event")  # which of them each slug is, the text alone does not say
    return {f"{kind}:{slug}" for slug in slugs for kind in kinds}


def _entry_hash(entry: fmt.Strict) -> str:
    return hashlib.sha256(entry.model_dump_json().encode("utf-8")).hexdigest()


class Validation:
    """A corpus validated file by file: every file, or (for an incremental seed) only some of them.

    `read` parses files (registries or annotations) into the corpus; `finish` checks what spans
    files (references, unique identifiers, cycles) and raises SeedError with every issue found.
    Definitions of files that are not read are declared with `known`, so that references to them
    resolve and a second definition of their slugs is still caught."""

    def __init__(self) -> None:
        self.builder = _Builder()

    @property
    def corpus(self) -> Corpus:
        return self.builder.corpus

    def read(self, files: Iterable[Path], *, on_file: Callable[[], None] | None = None) -> None:
        builder = self.builder
        files = list(files)
        for path, source in zip(files, read_sources(files), strict=True):
            builder.facts = FileFacts()
            src = None
            try:
                src = source()
                if path.name in REGISTRY_FILES:
                    builder.add_registry(path, src)
                else:
                    builder.add_article(path, src)
                # validated: only its text stays, for the line of a later message (a reference)
                src.data = None
            except SeedError as exc:
                builder.issues += exc.issues
                # what the refused file declares: references to it elsewhere are not reported as
                # unknown too (the file's own problems are the ones to fix)
                if src is not None and isinstance(src.data, dict):
                    builder.unread.update(_declared(path.name, src.data))
                else:
                    builder.unread.update(_declared_in_text(path))
            builder.corpus.facts[path] = builder.facts
            if on_file is not None:
                on_file()
        builder.facts = FileFacts()

    def known(self, where: str | FileAt, defines: Collection[str]) -> None:
        """Declare what a file that is not read defines ("kind:slug"), `where` naming it."""
        defined = self.builder.defined_at
        keys = defines if isinstance(defines, set | frozenset) else set(defines)
        # set operations: 20,000 unread files define a quarter of a million slugs at size M
        clash = defined.keys() & keys
        for key in [k for k in defines if k in clash] if clash else ():
            kind, _, slug = key.partition(":")
            self.builder.issues.append(SeedIssue(str(where), None, "", f"duplicate {kind} slug {slug!r}"))
        defined.update(dict.fromkeys(keys - clash if clash else keys, where))

    @property
    def issues(self) -> list[SeedIssue]:
        return self.builder.issues

    def finish(self, *, outer_links: Mapping[str, Mapping[str, str | None]] | None = None) -> Corpus:
        """Return the validated corpus, or raise SeedError listing every problem."""
        builder = self.builder
        builder.resolve_references()
        builder.check_unique_identifiers(builder.place_src)
        builder.check_cycles(outer_links)
        collect(builder.issues)
        return builder.corpus


def build_corpus(paths: Iterable[Path], *, on_file: Callable[[int, int], None] | None = None) -> Corpus:
    """Return the validated corpus under `paths`, or raise SeedError listing every problem.

    `on_file(done, total)` is called after each file, for progress display."""
    found = discover(list(paths))
    files = [*found.registries, *found.annotations]
    validation = Validation()
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if on_file is not None:
            on_file(done, len(files))

    with collector_paused():
        validation.read(files, on_file=step)
        corpus = validation.finish()
        corpus.duplicates = find_duplicates({slug: a.body for slug, a in corpus.articles.items()})
    return corpus
