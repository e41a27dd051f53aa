"""One article's draft: the rules run over its text, assembled into the seed format.

`draft_article` returns the annotation (a dict ready for YAML) and the registry entries it
proposes; every fact it holds has exact evidence, `review: pending`, its rule and a confidence.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from decimal import Decimal
from typing import Any

from app.draft import candidates as cand
from app.draft import events as ev
from app.draft import figures as figs
from app.draft.gazetteer import Gazetteer, Hit, Registries
from app.draft.header import Header, infer_from_dateline, infer_year, read_header
from app.draft.merge import part_of
from app.draft.placerefs import PlaceIndex, build_index
from app.draft.sources import Known, Told, sources
from app.draft.text import Piece, furniture, paragraphs
from app.draft.text import sentences as text_sentences


@dataclasses.dataclass
class Draft:
    annotation: dict[str, Any]
    proposals: list[cand.Candidate]
    header: Header
    figures: list[figs.DraftFigure]


def _num(value: Decimal) -> int | float:
    # YAML numbers as written: integers stay integers, 40.5 stays 40.5
    return int(value) if value == value.to_integral_value() else float(value)


def _told(f: figs.DraftFigure, country_of: dict[str, str | None], sentences: list[Piece]) -> Told:
    # where the figure's number is, and the whole sentence holding it (its evidence is a clause:
    # "..., while imports reached $6 billion, the customs said" tells both amounts)
    number = f.money or f.quantity or f.change
    at = number.start if number is not None else f.evidence[0].start
    sentence = next((s for s in sentences if s.start <= at < s.end), None)
    sides = [f.reporter, f.partner] if f.flow == "total" else [f.reporter]
    countries = frozenset(c for side in sides if side and (c := country_of.get(side)))
    return Told(
        at, sentence, (f.period.start, f.period.end), f.status == "actual", country_of.get(f.reporter), countries
    )


def _q(piece: Piece | Hit, body: str) -> dict[str, Any]:
    start, end = (piece.start, piece.end)
    return {"quote": body[start:end], "start": start}


# where a story opens on the city it was filed from, without an agency in brackets: "Rabat – Trade
# between ...", "KYIV. April 4 (Interfax-Ukraine) –", "ISLAMABAD, Apr 18 (APP):"
_OPENING_CITY = re.compile(
    r"(?m)^[ \t]*(?P<place>[A-Z][A-Za-z'-]+(?:\s[A-Z][A-Za-z'-]+)?)"
    r"(?:\s[-–—]\s|[.,]\s(?:[A-Z][a-z]{2,8}\.?\s\d{1,2}\b|\())"
)


class Drafter:
    """Drafts articles against fixed registries (those of the corpus it will join)."""

    def __init__(self, registries: Registries, taken_slugs: set[str] | None = None) -> None:
        self.registries = registries
        self.gazetteer = Gazetteer(registries)
        self.capitals = cand.capitals(registries)
        self.taken = set(taken_slugs or ())  # slugs of articles, figures and events already defined

    def _slug(self, base: str) -> str:
        slug = cand.slugify(base)[:90].strip("-") or "item"
        candidate, n = slug, 2
        while candidate in self.taken:
            candidate, n = f"{slug}-{n}", n + 1
        self.taken.add(candidate)
        return candidate

    def draft(self, body: str, *, name: str) -> Draft:
        """Return the draft annotation of one article text (its file `name` for the slug)."""
        skip = furniture(body)
        header = read_header(body)
        published_inference = None
        if header.published is None:
            # (a dateline's day whose year the text does not settle gives no date: better none than a
            # year off)
            guessed = infer_from_dateline(body, *header.dateline_day) if header.dateline_day else infer_year(body)
            if guessed is not None:
                header.published, published_inference = guessed
                header.published_basis = "inferred"
        hits = self.gazetteer.find(body, skip, self.capitals)
        dateline = (header.dateline_place.start, header.dateline_place.text) if header.dateline_place else None
        if dateline is None and (opening := _OPENING_CITY.search(body, 0, 3000)) is not None:
            dateline = (opening.start("place"), opening.group("place"))
        new_hits, proposals = cand.find_candidates(
            body,
            [(h.start, h.end) for h in hits] + skip,
            self.registries,
            place_spans=[(h.start, h.end) for h in hits if h.kind == "place"],
            dateline=dateline,
        )
        hits = sorted(hits + new_hits, key=lambda h: h.start)
        dateline_at = dateline[0] if dateline else None
        index = self._place_index(body, hits, proposals, skip, dateline_at)
        country_of = {r.slug: r.country for r in index.refs}
        # the headline sums the story up in other words ("Heilongjiang's foreign trade grows 5.1 pct in
        # H1"): the story's own sentences state its figures
        title = header.title
        # (a list's first item read as the headline is no headline: "- Russia's exports to China rose ...")
        headline = (
            [(title.start, title.start + len(title.text))]
            if title is not None and not re.match(r"[-–•*]\s", title.text)
            else []
        )
        drafted = figs.extract_figures(body, index, header.published, skip, country_of, headline=headline)
        events = ev.extract_events(body, index, header.published, skip)
        used = (
            {f.reporter for f in drafted}
            | {f.partner for f in drafted if f.partner}
            | {p for e in events for p in e.places}
        )
        mentioned = {(h.kind, h.slug) for h in hits}
        proposals = [p for p in proposals if (p.kind, p.slug) in mentioned or p.slug in used]
        proposals += self._demonym_countries(used, proposals)
        annotation = self._annotation(body, name, header, published_inference, hits, drafted, events, country_of)
        return Draft(annotation, proposals, header, drafted)

    def _place_index(
        self,
        body: str,
        hits: list[Hit],
        proposals: list[cand.Candidate],
        skip: list[tuple[int, int]],
        dateline_at: int | None = None,
    ) -> PlaceIndex:
        kinds: dict[str, tuple[str, str | None]] = {
            s: (p.kind.value, p.country_code) for s, p in self.registries.places.items()
        }
        for p in proposals:
            if p.kind == "place":
                kinds[p.slug] = (p.entry["kind"], p.entry.get("country_code"))
        demonym_slug: dict[str, str] = {}
        for code in {c for _, c in kinds.values() if c}:
            slug = self.registries.country_slug(code) or next(
                (p.slug for p in proposals if p.kind == "place" and p.entry.get("code") == code), None
            )
            if slug:
                demonym_slug[code] = slug
        from app.draft.gazetteer import DEMONYMS

        for code in set(DEMONYMS.values()) - set(demonym_slug):
            entry = cand.country_entry(code)
            demonym_slug[code] = entry["slug"]
            kinds.setdefault(entry["slug"], ("country", code))
        return build_index(body, hits, kinds, demonym_slug, skip, dateline_at)

    def _demonym_countries(self, used: set[str], proposals: list[cand.Candidate]) -> list[cand.Candidate]:
        # a country named only by its adjective but used as a side of a figure needs an entry too
        have = {*self.registries.places, *(p.slug for p in proposals)}
        out = []
        from app.draft.gazetteer import DEMONYMS

        for code in sorted(set(DEMONYMS.values())):
            entry = cand.country_entry(code)
            if entry["slug"] in used and entry["slug"] not in have:
                out.append(cand.Candidate("place", entry["slug"], entry))
        return out

    def _annotation(
        self,
        body: str,
        name: str,
        header: Header,
        published_inference: str | None,
        hits: list[Hit],
        drafted: list[figs.DraftFigure],
        events: list[ev.DraftEvent],
        country_of: dict[str, str | None],
    ) -> dict[str, Any]:
        title = header.title.text if header.title else None
        article: dict[str, Any] = {
            "slug": self._slug(" ".join((title or name).split()[:9])),
            "title": title,
            "publisher": self._publisher(header, hits),
            "authors": header.authors,
            "published": None,
            "sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(),
        }
        if article["publisher"] is not None:
            article["publisher_basis"] = "draft rule: the dateline's agency or the author note's organisation"
        if header.published is not None:
            pub = header.published
            article["published"] = {
                "date": pub.date,
                "precision": pub.precision,
                "basis": header.published_basis,
                "inference": published_inference or f'The text says "{header.published_quote}".',
            }
        mentions: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for hit in hits:
            quotes = mentions.setdefault((hit.kind, hit.slug), [])
            if len(quotes) < 3:
                quotes.append(_q(hit, body))
        mention_list = [
            {
                hit_kind: slug,
                "evidence": quotes,
                "review": "pending",
                "rule": "registry name or alias" if slug in self.registries.slugs() else "candidate new entity",
                "confidence": 0.9 if slug in self.registries.slugs() else 0.6,
            }
            for (hit_kind, slug), quotes in mentions.items()
        ]
        links = part_of(drafted)
        figure_slugs = [self._figure_slug(f) for f in drafted]
        sentences = [s for paragraph in paragraphs(body) for s in text_sentences(paragraph)]
        told = sources([_told(f, country_of, sentences) for f in drafted], hits, body, self._known())
        return {
            "article": article,
            "mentions": mention_list,
            "trade_figures": [
                self._figure(body, f, figure_slugs[i], figure_slugs[links[i]] if i in links else None, told[i])
                for i, f in enumerate(drafted)
            ],
            "events": [self._event(body, e) for e in events],
        }

    def _known(self) -> Known:
        """Return the registries' people's organisations and organisations' countries (ISO codes)."""
        places = self.registries.places
        employer = {slug: str(p.organisation) for slug, p in self.registries.people.items() if p.organisation}
        country = {
            slug: str(places[str(o.country)].country_code)
            for slug, o in self.registries.organisations.items()
            if o.country and str(o.country) in places and places[str(o.country)].country_code
        }
        return Known(employer, country)

    def _publisher(self, header: Header, hits: list[Hit]) -> str | None:
        for piece in (header.agency, header.author_org):
            if piece is None:
                continue
            for hit in hits:
                if hit.kind == "organisation" and hit.start <= piece.start < hit.end + 1:
                    return hit.slug
            for slug, org in self.registries.organisations.items():
                if piece.text.strip() in (org.name, *org.aliases):
                    return slug
        return None

    def _figure_slug(self, f: figs.DraftFigure) -> str:
        word = {"total": "trade", "export": "exports-to", "import": "imports-from"}[f.flow]
        period = f.period.start.strftime("%Y") if f.period.type == "year" else f.period.start.strftime("%Y-%m")
        if f.period.type == "year-to-date":
            period = f"{f.period.start:%Y}-jan-{f.period.end:%b}".lower()
        status = "" if f.status == "actual" else f"-{f.status}"
        return self._slug(f"{f.reporter}-{word}-{f.partner or 'world'}-{period}{status}")

    def _figure(
        self, body: str, f: figs.DraftFigure, slug: str, parent: str | None, source: tuple[str | None, str | None]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"slug": slug, "reporter": f.reporter, "partner": f.partner, "flow": f.flow}
        if f.commodity:
            out["commodity"] = f.commodity
        if f.money is not None:
            out["amount"] = {"amount": _num(f.money.amount), "currency": f.money.currency}
            conv = f.money.conversion
            if conv is not None:
                out["stated_conversion"] = {
                    "amount": _num(conv.amount),
                    "currency": conv.currency,
                    "quote": body[f.money.start : conv.end],
                    "start": f.money.start,
                }
        if f.quantity is not None:
            out["quantity"] = {"value": _num(f.quantity.value), "unit": f.quantity.unit}
        p = f.period
        period: dict[str, Any] = {"start": p.start, "end": p.end, "type": p.type, "label": p.label}
        if p.inference or any("period" in why for why in f.inferred):
            period["basis"] = "inferred"
            period["inference"] = "; ".join(filter(None, [p.inference, *[w for w in f.inferred if "period" in w]]))
        out["period"] = period
        if f.change is not None:
            if f.change.pct is not None:
                out["change_pct"] = _num(f.change.pct)
            if f.change.multiple is not None:
                out["change_multiple"] = _num(f.change.multiple)
            if f.change.year_on_year:
                out["change_basis"] = "year-on-year"
        if f.approximation != "exact":
            out["approximation"] = f.approximation
        if f.status != "actual":
            out["status"] = f.status
        if parent is not None:
            out["part_of"] = parent
        slug_of_source, carried = source
        if slug_of_source is not None:
            out["source"] = slug_of_source
        sides = [w for w in f.inferred if "period" not in w]
        if carried is not None:
            sides.append(f"the source, {slug_of_source}: {carried}")
        if sides:
            out["note"] = "Inferred: " + "; ".join(sides)
        out["evidence"] = [{"quote": e.text, "start": e.start} for e in f.evidence]
        out.update({"review": "pending", "rule": f.rule, "confidence": max(0.1, f.confidence)})
        return out

    def _event(self, body: str, e: ev.DraftEvent) -> dict[str, Any]:
        out: dict[str, Any] = {"slug": self._slug(e.slug_base), "name": e.name, "kind": e.kind}
        if e.date is not None:
            out["date"] = e.date
        out["places"] = e.places
        out["evidence"] = [{"quote": q.text, "start": q.start} for q in e.evidence]
        out.update({"review": "pending", "rule": e.rule, "confidence": e.confidence})
        return out
