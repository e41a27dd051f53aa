"""Trade figures: an amount (or a change alone) in a clause that names a flow, with its period,
its sides and its status.

Rules, in the order they apply to each clause of each sentence that names a flow:
1. anchors: every money amount and quantity; with none, a change alone ("up 4.7%");
2. flow: the nearest flow word ("trade", "exports to", "imports from", "shipments", "turnover",
   "sold goods worth"), in the clause, else in the sentence;
3. sides: a possessive ("Liaoning's trade"), a pair ("China-Russia trade", "between X and Y"),
   prepositions after the flow word ("to"/"from"/"with"), then the paragraph's previous figure;
   "bilateral"/"two-way" take the two countries the sentence names;
4. period: in the clause, else the sentence, else the paragraph's previous figure;
5. change: the nearest change not across another amount; status from the words before the
   amount ("target of", "could reach", "expected to", "estimated").
A clause with "respectively" is skipped: it pairs lists, and a wrong pairing is worse than none.
"""

from __future__ import annotations

import dataclasses
import re

from app.draft import numbers
from app.draft.periods import Period, Publication, find_periods
from app.draft.placerefs import PlaceIndex
from app.draft.text import Piece, clauses, inside, paragraphs, sentences

FLOW_WORDS = re.compile(
    r"\b(?P<kw>two-way trade|bilateral trade|foreign trade|trade turnover|trade volume|turnover|trade|"
    r"outbound shipments|inbound shipments|shipments|re-exports|exports?|exported|imports?|imported|"
    r"supplies|deliveries|sold goods worth|purchases)\b",
    re.IGNORECASE,
)
_NOT_FLOW_AFTER = re.compile(
    r"^\s(?:fair|expo|exhibition|delegation|ties|relations|partners?|war|talks|mission|officials?|policy|"
    r"and economic|zone|enterprises|companies|firms|potential|deals?|agreements?|barriers|centre|center|hub)\b",
    re.I,
)
_STATUS = (
    (re.compile(r"\b(?:target|goal|aims? to|aimed to|plans? to|planned to|seeks? to)\b[^.]{0,40}$", re.I), "target"),
    (
        re.compile(
            r"\b(?:expected to|forecasts?|forecast to|projected|could|may|might|will|is set to|are set to|"
            r"is likely to)\b[^.]{0,30}$",
            re.I,
        ),
        "forecast",
    ),
    (re.compile(r"\b(?:estimated|an estimated|estimates?)\b[^.]{0,20}$", re.I), "estimate"),
)


@dataclasses.dataclass
class DraftFigure:
    reporter: str
    partner: str | None
    flow: str
    period: Period
    evidence: list[Piece]
    money: numbers.Money | None = None
    quantity: numbers.Quantity | None = None
    change: numbers.Change | None = None
    status: str = "actual"
    rule: str = ""
    confidence: float = 0.7
    commodity: str | None = None
    inferred: list[str] = dataclasses.field(default_factory=list)  # what was deduced, and how

    @property
    def approximation(self) -> str:
        if self.money is not None:
            return self.money.approximation
        if self.quantity is not None:
            return self.quantity.approximation
        return self.change.approximation if self.change is not None else "exact"

    def key(self) -> tuple[object, ...]:
        sides: object = (
            frozenset({self.reporter, self.partner}) if self.flow == "total" else (self.reporter, self.partner)
        )
        amount = (self.money.amount, self.money.currency) if self.money else None
        qty = (self.quantity.value, self.quantity.unit) if self.quantity else None
        change = (self.change.pct, self.change.multiple) if self.change else None
        return (sides, self.flow, self.period.start, self.period.end, amount, qty, change, self.status)


def _flow_of(word: str, after: str) -> str:
    w = word.lower()
    if w in (
        "two-way trade",
        "bilateral trade",
        "trade turnover",
        "trade volume",
        "turnover",
        "trade",
        "foreign trade",
    ):
        return "total"
    if w.startswith(("import", "inbound", "purchases")):
        return "import"
    if w in ("shipments", "supplies", "deliveries") and re.match(r"^\s(?:of\s[\w\s]{0,30})?from\b", after):
        return "export"  # "supplies from X to Y": X is the exporter
    return "export"


def _parties(
    body: str, kw: re.Match[str], base: int, flow: str, index: PlaceIndex
) -> tuple[str | None, str | None, str]:
    """Return (reporter, partner, rule) read around one flow word at body offset base+kw.start()."""
    k_start, k_end = base + kw.start(), base + kw.end()
    reporter = partner = None
    how = []
    # before: "Liaoning's trade", "Liaoning’s outbound shipments", "the province's imports", "China-Russia trade"
    before = [r for r in index.refs if k_start - 45 <= r.end <= k_start]
    if before:
        last = before[-1]
        gap = body[last.end : k_start]
        pair_before = len(before) >= 2 and re.fullmatch(r"[-–]", body[before[-2].end : last.start])
        if re.fullmatch(r"[’']s\s(?:[a-z-]+\s){0,2}", gap) or (re.fullmatch(r"\s", gap) and not pair_before):
            reporter = last.slug
            how.append("possessive" if "s" in gap[:2] else "adjective")
            # "China-Russia trade", "Sino-Russian trade": a pair written before the flow word
        elif re.fullmatch(r"\s(?:[a-z-]+\s){0,1}", gap) and len(before) >= 2:
            prev = before[-2]
            if re.fullmatch(r"[-–]", body[prev.end : last.start]):
                return prev.slug, last.slug, "pair-before"
        if re.fullmatch(r"\s", gap) and len(before) >= 2 and re.fullmatch(r"[-–]", body[before[-2].end : last.start]):
            return before[-2].slug, last.slug, "pair-before"
    # after: "between X and Y", "with X", "to X", "from X"
    window_end = min(len(body), k_end + 90)
    after_text = body[k_end:window_end]
    stop = re.search(
        r"\d|\b(?:rose|fell|grew|reached|increased|decreased|soared|surged|jumped|stood|totall?ed|was|were|amounted)\b",
        after_text,
    )
    if stop:
        window_end = k_end + stop.start()
    m = re.match(r"^\s(?:[\w\s’',-]{0,40}?)between\s", body[k_end:window_end])
    after_refs = index.within(k_end, window_end)
    if m and len(after_refs) >= 2:
        and_at = body.find(" and ", k_end + m.end(), window_end)
        first = [r for r in after_refs if r.end <= and_at and r.how != "demonym"] or [
            r for r in after_refs if r.end <= and_at
        ]
        second = [r for r in after_refs if r.start > and_at and r.how != "demonym"] or [
            r for r in after_refs if r.start > and_at
        ]
        if and_at > 0 and first and second:
            return first[0].slug, second[0].slug, "between"
    for ref in after_refs:
        prep = body[max(k_end, ref.start - 40) : ref.start]
        prep_m = re.search(r"\b(to|from|with|into|of)\s(?:[\w’'-]+\s){0,4}$", prep, re.I)
        if prep_m is None:
            continue
        word = prep_m.group(1).lower()
        into = word in ("to", "into") and flow == "export"
        if partner is None and (into or (word == "from" and flow == "import")):
            partner = ref.slug
        elif word == "from" and flow == "export" and reporter is None:
            reporter = ref.slug
        elif word == "with" and flow == "total" and partner is None:
            partner = ref.slug
    rule = "-".join(how) or "prepositions"
    return reporter, partner, rule


def _is_flow(body: str, kw: re.Match[str], base: int) -> bool:
    after = body[base + kw.end() : base + kw.end() + 25]
    return not _NOT_FLOW_AFTER.match(after)


def _status(text: str) -> str:
    for pattern, name in _STATUS:
        if pattern.search(text):
            return name
    return "actual"


def extract_figures(
    body: str,
    index: PlaceIndex,
    published: Publication | None,
    skip: list[tuple[int, int]],
    country_of: dict[str, str | None],
) -> list[DraftFigure]:
    """Return the trade figures the text states, duplicates merged, with their evidence."""
    out: list[DraftFigure] = []
    for para in paragraphs(body):
        if inside(skip, para.start, para.end):
            continue
        previous: DraftFigure | None = None
        for sent in sentences(para):
            if not FLOW_WORDS.search(sent.text):
                continue
            sent_kws = [k for k in FLOW_WORDS.finditer(sent.text) if _is_flow(body, k, sent.start)]
            if not sent_kws:
                continue
            sent_periods = find_periods(sent.text, sent.start, published)
            for clause in clauses(sent):
                if "respectively" in clause.text:
                    continue
                for fig in _clause_figures(
                    body, sent, clause, sent_kws, sent_periods, index, published, previous, country_of
                ):
                    out.append(fig)
                    previous = fig
    return _merge(out)


def _clause_figures(
    body: str,
    sent: Piece,
    clause: Piece,
    sent_kws: list[re.Match[str]],
    sent_periods: list[Period],
    index: PlaceIndex,
    published: Publication | None,
    previous: DraftFigure | None,
    country_of: dict[str, str | None],
) -> list[DraftFigure]:
    text = clause.text
    money = numbers.find_money(text)
    # "rose from $5 billion to $7 billion": the first amount is the earlier value
    money = [
        m
        for i, m in enumerate(money)
        if not (re.search(r"\bfrom\s$", text[max(0, m.start - 6) : m.start]) and i + 1 < len(money))
    ]
    quantities = numbers.find_quantities(text, [(m.start, m.full_end) for m in money])
    changes = [c for c in numbers.find_changes(text) if not any(m.start <= c.start < m.full_end for m in money)]
    # from here on every offset is the article's
    money = [_shift(m, clause.start) for m in money]
    quantities = [dataclasses.replace(q, start=q.start + clause.start, end=q.end + clause.start) for q in quantities]
    changes = [dataclasses.replace(c, start=c.start + clause.start, end=c.end + clause.start) for c in changes]
    anchors: list[numbers.Money | numbers.Quantity | numbers.Change] = [*money, *quantities]
    anchors = anchors or list(changes[:1])
    if not anchors:
        return []
    figures = []
    used_changes: set[int] = set()
    for anchor in sorted(anchors, key=lambda a: a.start):
        a_start = anchor.start
        kws = [k for k in sent_kws if clause.start <= sent.start + k.start() < clause.end] or sent_kws
        kw = min(
            kws, key=lambda k: abs(sent.start + k.start() - a_start) + (0 if sent.start + k.start() < a_start else 30)
        )
        after = body[sent.start + kw.end() : sent.start + kw.end() + 40]
        flow = _flow_of(kw.group("kw"), after)
        reporter, partner, rule = _parties(body, kw, sent.start, flow, index)
        if reporter is None and partner is None:
            for other in kws:
                if other is not kw:
                    reporter, partner, rule = _parties(body, other, sent.start, flow, index)
                    if reporter or partner:
                        break
        inferred: list[str] = []
        if kw.group("kw").lower() in ("bilateral trade", "two-way trade") and (reporter is None or partner is None):
            countries = []
            for r in index.within(sent.start, sent.end):
                if r.kind == "country" and r.slug not in countries:
                    countries.append(r.slug)
            if len(countries) == 2:
                reporter, partner, rule = countries[0], countries[1], "bilateral-sentence-countries"
        if reporter is None or (partner is None and kw.group("kw").lower() != "foreign trade"):
            reporter, partner, carried = _carry(reporter, partner, flow, previous, country_of)
            if carried:
                inferred.append(carried)
                rule += "+carried"
        if reporter is None or reporter == partner or (partner is None and kw.group("kw").lower() != "foreign trade"):
            continue
        period, why = _period_for(clause, anchor, sent_periods, previous)
        if period is None:
            continue
        if why:
            inferred.append(why)
        change = (
            _nearest_change(changes, anchor, money, used_changes) if not isinstance(anchor, numbers.Change) else anchor
        )
        status = _status(body[max(clause.start, anchor.start - 60) : anchor.start])
        fig = DraftFigure(
            reporter=reporter,
            partner=partner,
            flow=flow,
            period=period,
            evidence=[_quote(clause)],
            money=anchor if isinstance(anchor, numbers.Money) else None,
            quantity=anchor if isinstance(anchor, numbers.Quantity) else None,
            change=change,
            status=status,
            rule=f"flow:{kw.group('kw').lower()}; sides:{rule}; period:{'inferred' if why else 'stated'}",
            confidence=round(0.85 - 0.1 * len(inferred) - (0.15 if isinstance(anchor, numbers.Change) else 0), 2),
            commodity=_commodity(body, kw, sent.start),
            inferred=inferred,
        )
        figures.append(fig)
    return figures


def _quote(clause: Piece) -> Piece:
    text = clause.text
    lead = len(text) - len(text.lstrip("\"“‘' "))
    text = text[lead:].rstrip("\"”’' ,.")
    return Piece(text, clause.start + lead, clause.paragraph)


def _carry(
    reporter: str | None,
    partner: str | None,
    flow: str,
    previous: DraftFigure | None,
    country_of: dict[str, str | None],
) -> tuple[str | None, str | None, str | None]:
    if previous is None:
        return reporter, partner, None
    why = "a side not named in the clause is taken from the previous figure of the paragraph"
    if reporter is None and partner is None:
        # "the province's imports from Russia rose ..., exports by ...": the same two sides
        return previous.reporter, previous.partner, why
    known = reporter or partner
    sides = [previous.reporter, previous.partner]
    other = [s for s in sides if s is not None and s != known and country_of.get(s) != country_of.get(known or "")]
    if not other:
        return reporter, partner, None
    if reporter is None:
        return other[0], partner, why
    return reporter, other[0], why


def _period_for(
    clause: Piece, anchor: object, sent_periods: list[Period], previous: DraftFigure | None
) -> tuple[Period | None, str | None]:
    in_clause = [p for p in sent_periods if clause.start <= p.at < clause.end]
    pos = getattr(anchor, "start", clause.start)
    if in_clause:
        best = min(in_clause, key=lambda p: abs(p.at - pos))
        return best, best.inference
    if sent_periods:
        before = [p for p in sent_periods if p.at < pos]
        best = before[-1] if before else sent_periods[0]
        return best, best.inference
    if previous is not None:
        p = previous.period
        return p, f'no period in the sentence: that of the paragraph\'s previous figure ("{p.label}")'
    return None, None


def _nearest_change(
    changes: list[numbers.Change], anchor: numbers.Money | numbers.Quantity, money: list[numbers.Money], used: set[int]
) -> numbers.Change | None:
    best = None
    best_distance = 10**9
    for i, change in enumerate(changes):
        if i in used:
            continue
        lo, hi = sorted((change.start, anchor.start))
        if any(lo < m.start < hi and m is not anchor for m in money):
            continue  # another amount stands between them
        distance = abs(change.start - anchor.start)
        if distance < best_distance:
            best, best_distance = i, distance
    if best is None:
        return None
    used.add(best)
    return changes[best]


def _commodity(body: str, kw: re.Match[str], base: int) -> str | None:
    m = re.match(
        r"\sof\s(?P<what>[a-z][a-z ,-]{2,60}?)(?=\s?\[|\s(?:to|from|in|rose|fell|grew|,)\b|,)",
        body[base + kw.end() : base + kw.end() + 90],
    )
    if m and not re.search(r"\b(?:the|goods|products)\b$", m.group("what")):
        return m.group("what").strip()
    return None


def _merge(figures: list[DraftFigure]) -> list[DraftFigure]:
    merged: dict[tuple[object, ...], DraftFigure] = {}
    for fig in figures:
        key = fig.key()
        if key in merged:
            have = merged[key]
            for q in fig.evidence:
                if all((q.start, q.text) != (e.start, e.text) for e in have.evidence):
                    have.evidence.append(q)
        else:
            merged[key] = fig
    out = list(merged.values())
    # a change stated alone that an amount figure also carries is more evidence for that figure
    final: list[DraftFigure] = []
    for fig in out:
        if fig.money is None and fig.quantity is None and fig.change is not None:
            host = next(
                (
                    f
                    for f in out
                    if (f.money or f.quantity)
                    and f.change is not None
                    and f.change.pct == fig.change.pct
                    and f.change.multiple == fig.change.multiple
                    and f.key()[0] == fig.key()[0]
                    and f.flow == fig.flow
                    and f.period.start == fig.period.start
                ),
                None,
            )
            if host is not None:
                host.evidence += [q for q in fig.evidence if all(q.start != e.start for e in host.evidence)]
                continue
        final.append(fig)
    return final


def part_of(figures: list[DraftFigure]) -> dict[int, int]:
    """Return index of an import/export figure -> index of the total of the same sides and period."""
    links = {}
    for i, fig in enumerate(figures):
        if fig.flow == "total" or fig.money is None:
            continue
        for j, total in enumerate(figures):
            if (
                total.flow == "total"
                and total.money is not None
                and total.money.currency == fig.money.currency
                and {total.reporter, total.partner} == {fig.reporter, fig.partner}
                and total.period.start == fig.period.start
                and total.period.end == fig.period.end
                and total.money.amount >= fig.money.amount
                and total.status == fig.status == "actual"
            ):
                links[i] = j
    return links


def _shift(money: numbers.Money, by: int) -> numbers.Money:
    conv = _shift(money.conversion, by) if money.conversion is not None else None
    return dataclasses.replace(money, start=money.start + by, end=money.end + by, conversion=conv)
