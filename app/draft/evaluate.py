"""How good the drafts are: draft each article from its text alone and compare with its reference.

References are the curated annotations of a seed corpus (`seeds/`) or hand-written expectations
(`*.expected.yaml` beside a `.txt`, see tests/draft_articles/README.md). Per kind, precision and
recall:
- figures, strict: sides (either order for total trade), flow, amount and currency (or quantity
  and unit), period start and end, change, status and approximation all right;
- figures, lenient: the amount (or, with none, the change) and the period right;
- mentions: the (kind, slug) pairs an article names;
- dates: the publication date with its precision;
- events: a drafted event whose evidence overlaps a reference event's and whose kind is the same.

Run: `python -m app.draft.evaluate [DIR ...]` (default: seeds/, tests/draft_articles/ and the
held-out tests/draft_articles_heldout/, each scored on its own).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from app.config import PROJECT_ROOT, SEEDS_DIR
from app.draft.document import Drafter
from app.draft.gazetteer import load_registries
from app.seed import format as fmt

KINDS = ("figures (all fields)", "figures (amount+period)", "mentions", "dates", "events", "figure sources")


@dataclasses.dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Score) -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclasses.dataclass
class Reference:
    """What an article should yield, reduced to the fields compared."""

    name: str
    text: str
    published: tuple[str, str] | None
    mentions: set[tuple[str, str]]
    figures: list[dict[str, Any]]
    events: list[tuple[str, set[tuple[int, int]]]]  # (kind, evidence spans)


def _dec(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value)).normalize()


def figure_record(f: dict[str, Any]) -> dict[str, Any]:
    """Return the compared fields of a figure written in the seed format (a dict)."""
    amount = f.get("amount") or {}
    quantity = f.get("quantity") or {}
    period = f.get("period") or {}
    return {
        "sides": frozenset({f["reporter"], f.get("partner")})
        if f["flow"] == "total"
        else (f["reporter"], f.get("partner")),
        "flow": f["flow"],
        "amount": (_dec(amount.get("amount")), amount.get("currency")) if amount else None,
        "quantity": (_dec(quantity.get("value")), quantity.get("unit")) if quantity else None,
        "period": (str(period.get("start")), str(period.get("end"))),
        "change": (_dec(f.get("change_pct")), _dec(f.get("change_multiple"))),
        "status": f.get("status") or "actual",
        "approximation": f.get("approximation") or "exact",
        "source": f.get("source"),  # scored on its own (`_sourced`), not as a field of the figure
    }


def _lenient(r: dict[str, Any]) -> tuple[object, ...]:
    return (r["amount"] or r["quantity"] or r["change"], r["period"])


def _strict(r: dict[str, Any]) -> tuple[object, ...]:
    return tuple(r[k] for k in ("sides", "flow", "amount", "quantity", "period", "change", "status", "approximation"))


def _sourced(records: list[dict[str, Any]]) -> list[tuple[object, ...]]:
    # a figure's source, keyed by the whole figure: a source counts only on a figure drafted exactly
    return [(*_strict(r), r["source"]) for r in records if r["source"] is not None]


def _match(drafted: list[tuple[object, ...]], expected: list[tuple[object, ...]]) -> Score:
    left = list(expected)
    tp = 0
    for d in drafted:
        if d in left:
            left.remove(d)
            tp += 1
    return Score(tp, len(drafted) - tp, len(left))


def _spans(evidence: Iterable[Any], text: str) -> set[tuple[int, int]]:
    out = set()
    for q in evidence:
        quote = q["quote"] if isinstance(q, dict) else q
        start = q.get("start") if isinstance(q, dict) else None
        start = text.find(quote) if start is None else start
        out.add((start, start + len(quote)))
    return out


def curated_references(seeds: Path) -> list[Reference]:
    """Return the curated annotations of a seed corpus as references."""
    refs = []
    defined: dict[str, str] = {}
    files = sorted(p for p in seeds.glob("*.yaml") if p.with_suffix(".txt").is_file())
    docs = [(p, fmt.ArticleFile.model_validate(yaml.safe_load(p.read_text(encoding="utf-8")))) for p in files]
    for _, doc in docs:
        defined |= {e.slug: e.kind.value for e in doc.events if isinstance(e, fmt.Event)}
    for path, doc in docs:
        text = path.with_suffix(".txt").read_text(encoding="utf-8")
        pub = doc.article.published
        mentions = set()
        for m in doc.mentions:
            kind = "organisation" if m.organisation else "place" if m.place else "person"
            mentions.add((kind, str(m.organisation or m.place or m.person)))
        figures = [
            figure_record(f.model_dump(mode="json")) for f in doc.trade_figures if isinstance(f, fmt.TradeFigure)
        ]
        events = []
        for e in doc.events:
            kind = e.kind.value if isinstance(e, fmt.Event) else defined.get(e.ref, "other")
            events.append((kind, _spans([q.model_dump() for q in e.evidence], text)))
        published = (pub.date.isoformat(), pub.precision.value) if pub else None
        refs.append(Reference(path.stem, text, published, mentions, figures, events))
    return refs


def expected_references(directory: Path) -> list[Reference]:
    """Return hand-written expectations (`X.expected.yaml` beside `X.txt`) as references."""
    refs = []
    for path in sorted(directory.glob("*.expected.yaml")):
        text = path.with_name(path.name.replace(".expected.yaml", ".txt")).read_text(encoding="utf-8")
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        pub = data.get("published")
        mentions = {tuple(m.split(":", 1)) for m in data.get("mentions") or []}
        events = [(e["kind"], _spans(e["evidence"], text)) for e in data.get("events") or []]
        refs.append(
            Reference(
                path.name.removesuffix(".expected.yaml"),
                text,
                (str(pub["date"]), pub["precision"]) if pub else None,
                mentions,
                [figure_record(f) for f in data.get("trade_figures") or []],
                events,
            )
        )
    return refs


def score(refs: list[Reference], drafter_for: Any) -> tuple[dict[str, Score], list[str]]:
    """Return the scores per kind over `refs`, and a line per article of what went wrong."""
    totals = {k: Score() for k in KINDS}
    notes = []
    for ref in refs:
        drafter: Drafter = drafter_for()
        draft = drafter.draft(ref.text, name=ref.name).annotation
        got = [figure_record(f) for f in draft["trade_figures"]]
        parts = {
            KINDS[0]: _match([_strict(r) for r in got], [_strict(r) for r in ref.figures]),
            KINDS[1]: _match([_lenient(r) for r in got], [_lenient(r) for r in ref.figures]),
        }
        got_mentions = {(k, m[k]) for m in draft["mentions"] for k in ("place", "organisation", "person") if k in m}
        parts[KINDS[2]] = Score(
            len(got_mentions & ref.mentions), len(got_mentions - ref.mentions), len(ref.mentions - got_mentions)
        )
        pub = draft["article"]["published"]
        got_pub = (pub["date"].isoformat(), pub["precision"]) if pub else None
        parts[KINDS[3]] = Score(
            int(got_pub is not None and got_pub == ref.published),
            int(got_pub is not None and got_pub != ref.published),
            int(ref.published is not None and got_pub != ref.published),
        )
        got_events = [(e["kind"], _spans(e["evidence"], ref.text)) for e in draft["events"]]
        left = list(ref.events)
        tp = 0
        for kind, spans in got_events:
            hit = next(
                (r for r in left if r[0] == kind and any(s < re and rs < e for s, e in spans for rs, re in r[1])), None
            )
            if hit is not None:
                left.remove(hit)
                tp += 1
        parts[KINDS[4]] = Score(tp, len(got_events) - tp, len(left))
        parts[KINDS[5]] = _match(_sourced(got), _sourced(ref.figures))
        for kind, part in parts.items():
            totals[kind].add(part)
        wrong_mentions = sorted(got_mentions - ref.mentions)
        missed = sorted(ref.mentions - got_mentions)
        notes.append(
            f"{ref.name}: figures {parts[KINDS[0]].tp}/{len(ref.figures)} exact, {parts[KINDS[0]].fp} extra; "
            f"mentions extra {wrong_mentions or '-'}, missed {missed or '-'}"
        )
    return totals, notes


def table(title: str, totals: dict[str, Score]) -> str:
    """Return a Markdown table of the scores."""
    lines = [f"### {title}", "", "| kind | TP | FP | FN | precision | recall |", "|---|---|---|---|---|---|"]
    for kind, s in totals.items():
        lines.append(f"| {kind} | {s.tp} | {s.fp} | {s.fn} | {s.precision:.2f} | {s.recall:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the scores for the curated corpus and the hand-written test articles."""
    given = sys.argv[1:] if argv is None else argv
    if any(a in ("-h", "--help") for a in given):
        print("usage: python -m app.draft.evaluate [DIR ...]  (a seed directory, or articles with *.expected.yaml)")
        return 0
    args = [Path(a) for a in given]
    tests = PROJECT_ROOT / "tests"
    dirs = args or [SEEDS_DIR, tests / "draft_articles", tests / "draft_articles_heldout"]
    for directory in dirs:
        if not directory.is_dir():
            print(f"{directory}: not a directory", file=sys.stderr)
            return 2
    registries = load_registries([SEEDS_DIR])
    for directory in dirs:
        refs = (
            curated_references(directory) if (directory / "places.yaml").is_file() else expected_references(directory)
        )
        if not refs:
            print(f"{directory}: no articles to score (no *.txt with a reference annotation)", file=sys.stderr)
            return 2
        totals, notes = score(refs, lambda: Drafter(registries))
        print(table(f"{directory.name}/ ({len(refs)} articles)", totals))
        print()
        for note in notes:
            print("- " + note)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
