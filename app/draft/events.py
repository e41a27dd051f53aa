"""Events, best effort: a sentence naming a kind of event (expo, conference, summit, state visit,
delegation, consulate opening, signing) with the places it names and a date where the words
give one ("from January 27 to February 5", "on May 28, 2024", "in May").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from app.draft import numbers
from app.draft.periods import _MONTH, MONTHS, Publication, find_periods
from app.draft.placerefs import PlaceIndex
from app.draft.text import DATELINE_PREFIX, Piece, inside, paragraphs, sentences

# (kind, the words that name it): checked in this order, the first that fits wins
KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("state-visit", re.compile(r"\bstate visit\b", re.I)),
    ("consulate-opening", re.compile(r"\bopen(?:ed|s|ing)\b[^.]{0,40}\b(?:consulate|embassy)\b", re.I)),
    ("summit", re.compile(r"\bsummit\b", re.I)),
    ("trade-fair", re.compile(r"\b(?:expo|exhibition|trade fair|festival-fair|fair|trade show)\b", re.I)),
    # "told a news conference": where something was said, not an event of trade
    ("conference", re.compile(r"\b(?<!news\s)(?<!press\s)(?:conference|forum|symposium)\b", re.I)),
    (
        "agreement-signing",
        re.compile(
            r"\b(?:signed|joint statement|agreed\s(?:a\s)?(?:host of\s)?deals?|(?:agreement|memorandum|contract)s?\s"
            r"(?:was|were)\s(?:signed|concluded))\b",
            re.I,
        ),
    ),
    (
        "delegation-visit",
        re.compile(
            r"\bdelegation\b[^.]{0,80}\b(?:arrived|landed|visited|travell?ed|went|has gone|came|toured)\b", re.I
        ),
    ),
    (
        "diplomatic-visit",
        re.compile(
            r"\b(?:official|working) visit\b|\b(?:minister|premier|envoy)\b[^.]{0,60}\b(?:visited|held talks)\b", re.I
        ),
    ),
    (
        "logistics-milestone",
        re.compile(
            r"\b(?:rail(?:way)?|train|cargo|freight|port|terminal|bridge|crossing|hub|route|corridor|pipeline|"
            r"checkpoint)\b[^.]{0,80}\b(?:put into (?:operation|service)|opened to (?:freight|traffic|trucks)|"
            r"came into (?:operation|service)|began operating|was launched|were launched|reopened)\b",
            re.I,
        ),
    ),
    (
        "policy-change",
        re.compile(
            r"\b(?:lifted|imposed|introduced|scrapped|dropped|eased|tightened|abolished|banned)\b[^.]{0,40}"
            r"\b(?:restrictions|ban|tariffs?|duties|quotas?|policy|sanctions|controls|rules|exports?|imports?)\b",
            re.I,
        ),
    ),
)
# kinds whose place may be a province or a country when the sentence names no city
_WIDE = {"state-visit", "diplomatic-visit", "policy-change", "agreement-signing", "delegation-visit"}
_LOCATIVE = re.compile(r"\b(?:in|to|at|into)\s(?:the\s)?(?:[A-Z][\w-]*\s)?$")
_RANGE = re.compile(
    r"\b(?:from\s)?(?P<m1>"
    + _MONTH
    + r")\s(?P<d1>\d{1,2})(?:\s?(?:-|–|to)\s?(?:(?P<m2>"
    + _MONTH
    + r")\s)?(?P<d2>\d{1,2}))?"
    r"(?:,\s(?P<y>\d{4}))?\b",
    re.I,
)
_KIND_WORDS = {
    "trade-fair": "Trade fair",
    "conference": "Conference",
    "summit": "Summit",
    "state-visit": "State visit",
    "consulate-opening": "Consulate opening",
    "agreement-signing": "Agreement",
    "delegation-visit": "Delegation visit",
    "diplomatic-visit": "Diplomatic visit",
    "logistics-milestone": "Logistics milestone",
    "policy-change": "Policy change",
}


@dataclasses.dataclass
class DraftEvent:
    kind: str
    name: str
    slug_base: str
    places: list[str]
    evidence: list[Piece]
    date: dict[str, Any] | None
    rule: str
    confidence: float


def _date(sent: Piece, published: Publication | None) -> dict[str, Any] | None:
    # not the dateline's date ("HANOI, June 10 (Reuters) -"): when the story was filed
    dateline = DATELINE_PREFIX.match(sent.text)
    after = dateline.end() if dateline else 0
    m = _RANGE.search(sent.text, after)
    while m and re.search(r"\b(?:by|until|till|before)\s$", sent.text[max(0, m.start() - 8) : m.start()]):
        m = _RANGE.search(sent.text, m.end())  # "to $20 billion by June 15": a deadline
    if m:
        m1 = MONTHS[m.group("m1").lower().rstrip(".")]
        m2 = MONTHS[m.group("m2").lower().rstrip(".")] if m.group("m2") else m1
        d1, d2 = int(m.group("d1")), int(m.group("d2") or m.group("d1"))
        if m.group("y"):
            year, basis, why = int(m.group("y")), "stated", None
        elif published is not None and published.precision == "day":
            year, basis = published.date.year, "inferred"
            why = f'"{m.group(0)}" gives no year; the year is the article\'s ({published.date.year})'
        else:
            return None
        try:
            start, end = dt.date(year, m1, d1), dt.date(year, m2, d2)
        except ValueError:
            return None
        if end < start:
            return None
        out: dict[str, Any] = {"start": start, "end": end, "precision": "day", "basis": basis}
        if why:
            out["inference"] = why
        return out
    amounts = numbers.find_money(sent.text)
    periods = [
        p
        for p in find_periods(sent.text, sent.start, published)
        if p.type in ("month", "year")
        # "aim to raise trade to $20 billion by 2030": a deadline, not when the event is
        and not re.match(r"(?:by|until|till|before|through)\b", p.label or "", re.I)
        and not re.search(
            r"\b(?:by|until|till|before|through)\s(?:the\s(?:end\sof\s)?)?$",
            sent.text[max(0, p.at - sent.start - 25) : p.at - sent.start],
        )
        and p.at - sent.start >= after
        # "will reach $375 billion in exports in 2028": a future amount's period, not when the event
        # is ("signed deals worth $1.2 billion at the expo in May 2025" is the expo's date)
        and not (
            published is not None
            and p.start > published.date
            and any(re.fullmatch(r"\s(?:[a-z]+\s){0,4}", sent.text[a.end : p.at - sent.start]) for a in amounts)
        )
    ]
    if periods:
        p = periods[0]
        out = {"start": p.start, "end": p.end, "precision": p.type, "basis": "inferred" if p.inference else "stated"}
        if p.inference:
            out["inference"] = p.inference
        return out
    return None


def extract_events(
    body: str, index: PlaceIndex, published: Publication | None, skip: list[tuple[int, int]]
) -> list[DraftEvent]:
    """Return the events the text reports, one per kind and set of places."""
    found: dict[tuple[str, tuple[str, ...]], DraftEvent] = {}
    for para in paragraphs(body):
        if inside(skip, para.start, para.end):
            continue
        for sent in sentences(para):
            for kind, pattern in KINDS:
                m = pattern.search(sent.text)
                if m is None:
                    continue
                places = []
                # not the dateline's place: where the story was filed, not where the event was
                dateline = DATELINE_PREFIX.match(sent.text)
                begin = sent.start + (dateline.end() if dateline else 0)
                for ref in index.within(begin, sent.end):
                    if ref.how != "demonym" and ref.kind in ("city", "port", "town") and ref.slug not in places:
                        places.append(ref.slug)
                if not places and kind in _WIDE:
                    # "Putin's state visit to China": a province or country after a locative word
                    for ref in index.within(sent.start + m.start(), sent.end):
                        lead = body[max(sent.start, ref.start - 20) : ref.start]
                        if ref.how != "demonym" and _LOCATIVE.search(lead) and ref.slug not in places:
                            places.append(ref.slug)
                            break
                if not places:
                    break  # an event with no place is too vague to draft
                key = (kind, tuple(places))
                quote = Piece(sent.text.rstrip(" ."), sent.start, sent.paragraph)
                if key in found:
                    if all(q.start != quote.start for q in found[key].evidence):
                        found[key].evidence.append(quote)
                    break
                date = _date(sent, published)
                name = f"{_KIND_WORDS[kind]} in {', '.join(p.replace('-', ' ').title() for p in places)}"
                found[key] = DraftEvent(
                    kind=kind,
                    name=name,
                    slug_base=f"{kind}-{'-'.join(places)}-{date['start']:%Y}" if date else f"{kind}-{'-'.join(places)}",
                    places=places,
                    evidence=[quote],
                    date=date,
                    rule=f"event words {m.group(0)!r} with a place named in the sentence",
                    confidence=0.5 if kind not in _WIDE else 0.4,
                )
                break
    return list(found.values())
