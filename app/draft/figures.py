"""Trade figures: an amount (or a change alone) in a clause that names a flow, with its period,
its sides and its status (docs/extraction.md gives each rule with examples).

Rules, in the order they apply to each clause of each sentence that names a flow:
1. anchors: every money amount and quantity, but not the base of a comparison ("from $4.1
   billion") nor a list that pairs with a list ("$120 billion, $20 billion and $8 billion");
   with none, a change alone ("up 4.7%"), or a change that has its own period;
2. changes bound by position: before "to <amount>", else right after their amount;
3. flow: the nearest flow word ("trade", "exports to", "imports from", "shipments", "turnover",
   "sold goods worth", "imported"), in the clause, else in the sentence;
4. sides: a possessive ("Liaoning's trade"), a pair ("China-Russia trade", "between X and Y"),
   prepositions around the flow word and the amount, the place the sentence opens with, then
   the story's previous figure; "bilateral"/"two-way" take the two countries the sentence
   names; a region's own foreign trade has no partner;
5. period: right after the amount, else before it in the clause, else in the sentence, else the
   story's previous statement's; status from the words before the amount ("target of", "could
   reach", "expected to", "estimated").
A clause with "respectively" is skipped: it pairs lists, and a wrong pairing is worse than none.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re

from app.draft import numbers
from app.draft.periods import MONTHS, Period, Publication, find_periods
from app.draft.placerefs import PlaceIndex
from app.draft.text import Piece, clauses, inside, paragraphs, sentences

FLOW_WORDS = re.compile(
    r"\b(?P<kw>imports and exports|exports and imports|import and export|export and import|two-way trade|"
    r"bilateral trade|foreign trade turnover|foreign trade volume|foreign trade|trade turnover|trade volume|"
    r"turnover|trade|"
    r"outbound shipments|inbound shipments|shipments|re-exports|exports?|exported|imports?|imported|"
    r"supplies|deliveries|sold goods worth|purchases|supplied|shipped|delivered|sold|bought|purchased|traded)\b",
    re.IGNORECASE,
)
_NOT_FLOW_AFTER = re.compile(
    r"^\s(?:fair|expo|exhibition|delegation|ties|relations|partners?|war|talks|mission|officials?|policy|"
    r"and economic|zone|enterprises|companies|firms|potential|deals?|agreements?|barriers|centre|center|hub|"
    r"surplus|deficit|balance|gap|disputes?|restrictions|sanctions|routes?|corridors?)\b",
    re.I,
)
_STATUS = (
    (re.compile(r"\b(?:target|goal|aims? to|aimed to|plans? to|planned to|seeks? to)\b[^.]{0,40}$", re.I), "target"),
    (
        re.compile(
            r"\b(?:expected to|expects?|expecting|forecasts?|forecast to|projected|predicts?|"
            r"(?-i:could|may|might|will)|is set to|are set to|"
            r"is likely to)\b[^.]{0,50}$",
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
        "imports and exports",
        "exports and imports",
        "import and export",
        "export and import",
        "two-way trade",
        "bilateral trade",
        "trade turnover",
        "trade volume",
        "turnover",
        "trade",
        "foreign trade",
        "foreign trade turnover",
        "foreign trade volume",
        "traded",
    ):
        return "total"
    if w.startswith(("import", "inbound", "purchase", "bought")):
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
        adjective = last.how == "demonym" and re.fullmatch(r"\s(?:[a-z-]+\s){0,2}", gap)
        if (
            re.fullmatch(r"[’']s\s(?:[a-z-]+\s){0,2}", gap)
            or (re.fullmatch(r"\s", gap) and not pair_before)
            or (adjective and not pair_before)
        ):
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
        prep_m = re.search(r".*\b(to|from|with|into|of)\s(?:[\w’'-]+\s){0,4}$", prep, re.I | re.S)
        if prep_m is None:
            continue
        word = prep_m.group(1).lower()
        into = word in ("to", "into") and flow == "export"
        if partner is None and (into or (word == "from" and flow == "import")):
            partner = ref.slug
        elif word == "into" and flow == "import" and reporter is None:
            reporter = ref.slug  # "imports of Russian pork into China"
        elif word == "from" and flow == "export" and reporter is None:
            reporter = ref.slug
        elif word == "with" and flow == "total" and partner is None:
            partner = ref.slug
        elif word == "of" and ref.how == "demonym" and body[ref.end : ref.end + 1] == " ":
            # "imports of Russian coal", "exports of Uzbek fruit"
            if flow == "import" and partner is None:
                partner = ref.slug
            elif flow == "export" and reporter is None:
                reporter = ref.slug
        elif word == "of" and flow == "total" and reporter is None and re.fullmatch(r"\sof\s", prep[-4:]):
            # "the total value of imports and exports of Jilin Province", "foreign trade turnover of X"
            reporter = ref.slug
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


# A period that points back at the one just given: "over the same period", "in the quarter",
# "during the same two months", "in the period"
_SAME_PERIOD = re.compile(
    r"\b(?:over|in|during|for)\s(?:the\s)?(?:same\s(?:period|time|(?:\w+\s)?months?|quarter|half)|"
    r"(?:period|quarter|half)\b(?!\sof\b))",
    re.I,
)
_BASE_BEFORE = re.compile(
    r"\b(?:from|compared (?:with|to)|against|versus|vs\.?|than)\s(?:(?:about|around|nearly|almost|some|just|over|"
    r"under|roughly|approximately|a record|the|a)\s)*$",
    re.I,
)
# "That was a nearly 9 per cent jump": the change of the figure just stated
_ANAPHOR = re.compile(r"(?:That|This|It)\s(?:was|is|represents|represented|marks|marked)\s(?:an?\s)?(?:[a-z]+\s){0,2}$")
# A clause that speaks of another year than the story's, without a period the rules resolve
# ("a year earlier" is not one: "9 per cent more than a year earlier" is the base of a change)
_OTHER_YEAR = re.compile(r"\b(?:previous|prior|preceding) year\b|\bthe year before\b", re.I)
# The words between a change and the amount it leads to: "rose 3.8% to $11.9 billion",
# "grew 9.4 percent year on year to 78.2 billion yuan", "a 10% jump to a record"
_CHANGE_TO_AMOUNT = re.compile(
    r"^[\s,–—-]*(?:[\w’'/-]+\s){0,8}?(?:to|at|reaching|surpassing|exceeding|topping|totall?ing|hitting|amounting to)\s"
    r"(?:[a-z]+\s){0,3}$",
    re.I,
)
# The words between an amount and a change that qualifies it: "$14.3 billion, 9 per cent more",
# "78.2 billion yuan in 2025, up 9.4%", "an increase of 10.1 percent", "(+5%)"
_AMOUNT_THEN_CHANGE = re.compile(
    r"^(?P<prefix>[^;]{0,60},\s)?[\s,(]*(?:(?:which|that)\s(?:is|was|were)\s|with\s)?"
    r"(?:(?:an?\s)?(?:year[- ]on[- ]year\s|annual\s)?"
    r"(?:increase|decrease|rise|drop|decline|jump|fall|growth|gain|surge|plunge)\s(?:of\s)?|"
    r"(?:up|down|surging|rising|growing|jumping|falling|dropping|declining|increasing|decreasing|climbing|soaring|"
    r"gaining|sliding)\s(?:by\s)?|(?:a\s)?(?:year[- ]on[- ]year\s)?)?"
    r"(?:(?:nearly|almost|about|around|some|approximately|roughly|more than|over|just over|less than|a)\s)*[+-]?$",
    re.I,
)
_AND_REACHED = re.compile(
    r"\s(?:and|,)\s(?:amounted to|reached|totall?ed|stood at|came to)\s(?=(?:[a-z]+\s){0,3}$)", re.I
)
# words that open another statement between an amount and a change
_CLAUSE_WORD = re.compile(
    r"\b(?:and|while|but|after|before|when|which|that|is|are|was|were|will|would|has|have|had|could|said|says)\b", re.I
)
_WORLD_FLOWS = (
    "foreign trade",
    "foreign trade turnover",
    "foreign trade volume",
    "imports and exports",
    "exports and imports",
    "import and export",
    "export and import",
)


@dataclasses.dataclass
class _Context:
    """What earlier sentences of the story established: the last figure, the last period given."""

    figure: DraftFigure | None = None
    period: Period | None = None
    paragraph: int = -1


def extract_figures(
    body: str,
    index: PlaceIndex,
    published: Publication | None,
    skip: list[tuple[int, int]],
    country_of: dict[str, str | None],
) -> list[DraftFigure]:
    """Return the trade figures the text states, duplicates merged, with their evidence.

    Sides and periods not written in a sentence are carried from the story's previous figure
    (wire copy puts one sentence on a line, so a paragraph is often a sentence)."""
    out: list[DraftFigure] = []
    ctx = _Context()
    for para in paragraphs(body):
        if inside(skip, para.start, para.end):
            continue
        for sent in sentences(para):
            sent_kws = [k for k in FLOW_WORDS.finditer(sent.text) if _is_flow(body, k, sent.start)]
            sent_periods = find_periods(sent.text, sent.start, published)
            if not sent_kws:
                continue
            for clause in clauses(sent):
                if "respectively" in clause.text:
                    continue
                for fig in _clause_figures(
                    body, sent, clause, sent_kws, sent_periods, index, published, ctx, country_of
                ):
                    out.append(fig)
            actual = [p for p in sent_periods if not p.running and p.start <= _today(published)]
            if actual:
                ctx.period = actual[-1]
            ctx.paragraph = para.paragraph
    return _merge(out)


def _published_end(published: Publication) -> dt.date:
    """Return the last day the publication may be from (its date known to the day, month or year)."""
    d = published.date
    if published.precision == "year":
        return dt.date(d.year, 12, 31)
    if published.precision == "month":
        return dt.date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])
    return d


def _today(published: Publication | None) -> dt.date:
    return _published_end(published) if published is not None else dt.date.max


def _clause_figures(
    body: str,
    sent: Piece,
    clause: Piece,
    sent_kws: list[re.Match[str]],
    sent_periods: list[Period],
    index: PlaceIndex,
    published: Publication | None,
    ctx: _Context,
    country_of: dict[str, str | None],
) -> list[DraftFigure]:
    text = clause.text
    money = numbers.find_money(text)
    # "rose from $5 billion to $7 billion", "up from $4 billion", "compared with 1.1 million tonnes":
    # the base of a comparison, not a figure of the story's period
    every = [(m.start, m.full_end) for m in money]
    money = [m for m in money if not _BASE_BEFORE.search(text[max(0, m.start - 30) : m.start])]
    quantities = [
        q for q in numbers.find_quantities(text, every) if not _BASE_BEFORE.search(text[max(0, q.start - 30) : q.start])
    ]
    changes = [c for c in numbers.find_changes(text) if not any(m.start <= c.start < m.full_end for m in money)]
    # from here on every offset is the article's
    money = [_shift(m, clause.start) for m in money]
    quantities = [dataclasses.replace(q, start=q.start + clause.start, end=q.end + clause.start) for q in quantities]
    changes = [dataclasses.replace(c, start=c.start + clause.start, end=c.end + clause.start) for c in changes]
    amounts: list[numbers.Money | numbers.Quantity] = sorted([*money, *quantities], key=lambda a: a.start)
    # "reached $120 billion, $20 billion and $8 billion": a list that pairs with a list of places,
    # a "respectively" left unsaid; a wrong pairing is worse than none
    listed = {
        j
        for i in range(len(amounts) - 1)
        for j in (i, i + 1)
        if re.fullmatch(r",?\s(?:and\s)?|\sand\s", body[_end(amounts[i]) : amounts[i + 1].start])
    }
    amounts = [a for i, a in enumerate(amounts) if i not in listed]
    listed = {
        j
        for i in range(len(changes) - 1)
        for j in (i, i + 1)
        if re.fullmatch(r",?\s(?:and\s)?|\sand\s", body[changes[i].end : changes[i + 1].start])
    }
    changes = [c for i, c in enumerate(changes) if i not in listed]
    clause_periods = [p for p in sent_periods if clause.start <= p.at < clause.end]
    bound = _bind_changes(body, amounts, changes, clause_periods)
    anchors: list[numbers.Money | numbers.Quantity | numbers.Change] = list(amounts)
    if not amounts:
        anchors = list(changes[:1])
    else:
        # a change bound to no amount and with its own period is a figure of its own: "rose 21% in
        # the first half and is expected to exceed $3 billion by the end of the year"
        for i, alone in enumerate(changes):
            if i not in bound and (
                _own_period(alone, amounts, clause_periods) or _ANAPHOR.match(body, clause.start, alone.start)
            ):
                anchors.append(alone)
    anchors.sort(key=lambda a: a.start)
    if not anchors:
        return []
    figures = []
    for n, anchor in enumerate(anchors):
        a_start = anchor.start
        kws = [k for k in sent_kws if clause.start <= sent.start + k.start() < clause.end] or sent_kws
        kw = min(
            kws, key=lambda k: abs(sent.start + k.start() - a_start) + (0 if sent.start + k.start() < a_start else 30)
        )
        word = kw.group("kw").lower()
        after = body[sent.start + kw.end() : sent.start + kw.end() + 40]
        flow = _flow_of(word, after)
        reporter, partner, rule = _parties(body, kw, sent.start, flow, index)
        if reporter is None and partner is None:
            for other in kws:
                if other is not kw:
                    reporter, partner, rule = _parties(body, other, sent.start, flow, index)
                    if reporter or partner:
                        break
        inferred: list[str] = []
        if word in ("bilateral trade", "two-way trade") and (reporter is None or partner is None):
            countries = []
            for r in index.within(sent.start, sent.end):
                if r.kind == "country" and r.slug not in countries:
                    countries.append(r.slug)
            if len(countries) == 2:
                reporter, partner, rule = countries[0], countries[1], "bilateral-sentence-countries"
        if partner is None and word in _VERBS and not isinstance(anchor, numbers.Change):
            # "Vietnam imported $3.4 billion worth of goods from Russia": the partner after the amount
            partner = _partner_after(body, _end(anchor), clause.end, flow, index)
            if partner == reporter:
                partner = None
        if word == "traded" and partner is None:
            # "Belarus and China traded goods worth $8.4 billion"
            pair = [r for r in index.within(sent.start, sent.start + kw.start()) if r.how != "demonym"]
            if len(pair) == 2 and re.fullmatch(r"\s(?:and|&)\s", body[pair[0].end : pair[1].start]):
                reporter, partner, rule = pair[0].slug, pair[1].slug, "pair-subject"
        if reporter is None and partner is not None:
            subject = _subject(body, sent, kw, index, partner, country_of)
            if subject is not None:
                reporter, rule = subject, rule + "+subject"
        world = word in _WORLD_FLOWS and partner is None and reporter is not None
        previous = ctx.figure
        if reporter is None and _unknown_actor(body, sent, kw, index):
            previous = None  # "EU imports from Russia": a trader the rules cannot place, not the story's
        if reporter is None or (partner is None and not world):
            same_paragraph = previous is not None and previous.evidence[0].paragraph == sent.paragraph
            reporter, partner, carried = _carry(reporter, partner, flow, previous, country_of, same_paragraph)
            if carried:
                inferred.append(carried)
                rule += "+carried"
                # "Exports increased 6.1 percent": the sides of a world figure before it
                world = partner is None and previous is not None and previous.partner is None
        if reporter is None or reporter == partner or (partner is None and not world):
            continue
        start_of = anchors[n - 1].start if n else clause.start
        status = _status(body[max(clause.start, start_of, anchor.start - 60) : anchor.start])
        period, why = _period_for(body, clause, anchor, anchors, clause_periods, sent_periods, ctx, status)
        if period is None:
            continue
        if why:
            inferred.append(why)
        if status == "actual" and published is not None and period.start > _published_end(published):
            status = "forecast"  # a period that had not begun at publication cannot be an outcome
        if status == "actual" and published is not None and period.end > _published_end(published):
            continue  # "so far in 2024": an outcome of a period still running; how much of it is not said
        if isinstance(anchor, numbers.Change):
            change: numbers.Change | None = anchor
        else:
            k = next((i for i, a in bound.items() if a == n), None)
            change = changes[k] if k is not None else None
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
            rule=f"flow:{word}; sides:{rule}; period:{'inferred' if why else 'stated'}",
            confidence=round(0.85 - 0.1 * len(inferred) - (0.15 if isinstance(anchor, numbers.Change) else 0), 2),
            commodity=_commodity(body, kw, sent.start),
            inferred=inferred,
        )
        figures.append(fig)
        if fig.status == "actual" or ctx.figure is None:
            ctx.figure = fig  # the next amount of the clause may lean on this one
    return figures


def _without_periods(body: str, start: int, end: int, periods: list[Period]) -> str:
    """Return body[start:end] with the period phrases in it blanked out (they carry digits)."""
    chars = list(body[start:end])
    for p in periods:
        for i in range(max(p.at, start), min(p.at + len(p.label), end)):
            chars[i - start] = " "
    return re.sub(r"\s+", " ", "".join(chars))


def _bind_changes(
    body: str,
    amounts: list[numbers.Money | numbers.Quantity],
    changes: list[numbers.Change],
    periods: list[Period],
) -> dict[int, int]:
    """Return change index -> amount index, by where a change stands: just before "to <amount>"
    ("rose 3.8% to $11.9 billion"), else just after its amount ("$14.3 billion, 9 per cent more",
    "78.2 billion yuan in 2025, up 9.4%"). A change that fits neither stays unbound."""
    bound: dict[int, int] = {}
    taken: set[int] = set()
    for i, change in enumerate(changes):
        nxt = next((j for j, a in enumerate(amounts) if a.start >= change.end), None)
        if nxt is None or nxt in taken:
            continue
        gap = _without_periods(body, change.end, amounts[nxt].start, periods)
        # "increased by 18.9% compared to the same period last year and amounted to $2.6 billion"
        gap = _AND_REACHED.sub(" to ", gap)
        if (
            len(gap) <= 60
            and not re.search(r"\d", gap)
            and not _CLAUSE_WORD.search(gap)
            and _CHANGE_TO_AMOUNT.match(gap)
        ):
            bound[i] = nxt
            taken.add(nxt)
    for i, change in enumerate(changes):
        if i in bound:
            continue
        prev = next((j for j in reversed(range(len(amounts))) if _end(amounts[j]) <= change.start), None)
        if prev is None or prev in taken:
            continue
        gap = _without_periods(body, _end(amounts[prev]), change.start, periods)
        m = _AMOUNT_THEN_CHANGE.match(gap) if len(gap) <= 80 and not re.search(r"\d", gap) else None
        if m and not _CLAUSE_WORD.search(m.group("prefix") or ""):
            bound[i] = prev
            taken.add(prev)
    return bound


def _end(amount: numbers.Money | numbers.Quantity) -> int:
    return amount.full_end if isinstance(amount, numbers.Money) else amount.end


def _own_period(change: numbers.Change, amounts: list[numbers.Money | numbers.Quantity], periods: list[Period]) -> bool:
    """Return whether a period follows the change before any amount does."""
    nxt = min((a.start for a in amounts if a.start > change.end), default=10**9)
    return any(change.end <= p.at < nxt and p.at - change.end <= 40 for p in periods)


_STOP_WORDS = {"while", "and", "but", "that", "which", "the", "a", "an", "of", "in", "on", "at", "for", "with", "from"}
_STOP_WORDS |= {"to", "its", "their", "his", "her", "as", "said", "whose", "whereas", "by"}


def _unknown_actor(body: str, sent: Piece, kw: re.Match[str], index: PlaceIndex) -> bool:
    """Return whether the words just before a flow word name someone who is not a place ("EU
    imports", "the European Union's imports", "Gazprom's exports")."""
    pos = sent.start + kw.start()
    for _ in range(3):
        m = re.search(r"(?:^|\s)([\w.’'-]+)\s$", body[max(sent.start, pos - 40) : pos])
        if m is None:
            return False
        word = m.group(1)
        start = pos - len(m.group(0)) + (1 if m.group(0)[0].isspace() else 0)
        if word.lower() in _STOP_WORDS or word.lower().rstrip(".") in MONTHS:
            return False
        bare = re.sub(r"[’']s$", "", word)
        at_start = start == sent.start
        placed = any(r.start <= start < r.end for r in index.refs)
        # a capital opening the sentence is no name unless an acronym or a possessive
        if bare[:1].isupper() and not placed and (not at_start or bare.isupper() or bare != word):
            return True
        pos = start
    return False


_VERBS = ("exported", "imported", "supplied", "shipped", "delivered", "sold", "bought", "purchased", "sold goods worth")


def _partner_after(body: str, start: int, end: int, flow: str, index: PlaceIndex) -> str | None:
    """Return the place after "to" (exports) or "from" (imports) following an amount, within
    a few words ("$3.4 billion worth of goods from Russia"; "of Russian coal" for imports)."""
    word = "from" if flow == "import" else "to"
    for ref in index.within(start, end):
        gap = body[start : ref.start]
        if re.fullmatch(r"\s(?:[\w’'-]+\s){0,5}" + word + r"\s(?:the\s)?", gap) and not re.search(r"\d", gap):
            return ref.slug
        if flow == "import" and ref.how == "demonym" and re.fullmatch(r"\s(?:[\w’'-]+\s){0,3}of\s", gap):
            return ref.slug  # "bought 8.8 million tonnes of Russian coal"
        break
    return None


def _subject(
    body: str,
    sent: Piece,
    kw: re.Match[str],
    index: PlaceIndex,
    partner: str,
    country_of: dict[str, str | None],
) -> str | None:
    """Return the place a sentence opens with, when it acts in the flow: "Russia's Primorsky Krai
    handled 1.2 million tonnes of coal exports to Japan", "Heilongjiang province reported imports
    from Russia" (the last name of the opening chain of names)."""
    k_start = sent.start + kw.start()
    opening = None
    # the sentence's opening, after a dateline ("MOSCOW, March 3 (Reuters) - ")
    dateline = re.match(r".{0,80}?(?:\)\s?[-–—]+|/[A-Z]+/\.)\s", sent.text)
    begin = sent.start + (dateline.end() if dateline else 0)
    for ref in index.within(begin, k_start):
        lead = body[begin : ref.start]
        if re.fullmatch(r"(?:(?:[A-Z][\w.-]*|[Tt]he|of)(?:[’']s)?\s|[’']s\s)*", lead) and ref.how != "demonym":
            opening = ref
        else:
            break
    if opening is None or opening.slug == partner:
        return None
    if country_of.get(opening.slug) is not None and country_of.get(opening.slug) == country_of.get(partner):
        return None
    return opening.slug


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
    same_paragraph: bool,
) -> tuple[str | None, str | None, str | None]:
    if previous is None:
        return reporter, partner, None
    why = "a side not named in the clause is taken from the previous figure of the story"
    if reporter is None and partner is None:
        # "the province's imports from Russia rose ..., exports by ...": the same two sides
        return previous.reporter, previous.partner, why
    if not same_paragraph and partner is None:
        # the partner named, not the reporter, in a new paragraph: "Trade with Japan was ..." is
        # the story's reporter's; but a reporter named without a partner ("The province's exports
        # of cars reached ...", after a figure with Japan) may be trading with the world
        return reporter, partner, None
    known = reporter or partner
    sides = [previous.reporter, previous.partner]
    other = [s for s in sides if s is not None and s != known and country_of.get(s) != country_of.get(known or "")]
    if not other:
        return reporter, partner, None
    if reporter is None:
        return other[0], partner, why
    return reporter, other[0], why


def _period_for(
    body: str,
    clause: Piece,
    anchor: numbers.Money | numbers.Quantity | numbers.Change,
    anchors: list[numbers.Money | numbers.Quantity | numbers.Change],
    clause_periods: list[Period],
    sent_periods: list[Period],
    ctx: _Context,
    status: str,
) -> tuple[Period | None, str | None]:
    """Return the period of one amount and, when carried, why.

    In its clause, the period right after the amount (before the next amount) wins: "$70 billion
    in 2024 ... $65.7 billion last year"; else the last one before it. A running year ("this
    year") counts only for a forecast or target. With none written, a back-reference ("over the
    same period") or silence takes the story's previous period."""
    usable = [p for p in sent_periods if not p.running or status != "actual"]
    in_clause = [p for p in clause_periods if p in usable]
    end = _end(anchor) if not isinstance(anchor, numbers.Change) else anchor.end
    nxt = min((a.start for a in anchors if a.start > anchor.start), default=clause.end)
    after = [p for p in in_clause if end <= p.at < nxt]
    before = [p for p in in_clause if p.at < anchor.start]
    if after:
        return after[0], after[0].inference
    if before:
        return before[-1], before[-1].inference
    if usable:
        earlier = [p for p in usable if p.at < anchor.start]
        best = earlier[-1] if earlier else usable[0]
        return best, best.inference
    if any(p.running for p in sent_periods):
        return None, None  # "this year" of an outcome: how much of the year is not said
    if not isinstance(anchor, numbers.Change) and _OTHER_YEAR.search(body, clause.start, clause.end):
        return None, None  # "when purchases stood at $60.3 billion" the year before: not the story's period
    same = _SAME_PERIOD.search(body, clause.start, clause.end)
    carried = ctx.figure.period if ctx.figure is not None and ctx.figure.status == "actual" else ctx.period
    if carried is None:
        return None, None
    if same:
        return carried, f'"{same.group(0)}": the period of the previous statement ("{carried.label}")'
    return carried, f'no period in the sentence: that of the previous statement ("{carried.label}")'


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
            if host is None:
                # "That was a nearly 9 per cent jump": the change of the amount stated just before
                host = next(
                    (
                        f
                        for f in reversed(final)
                        if (f.money or f.quantity)
                        and f.change is None
                        and f.key()[0] == fig.key()[0]
                        and f.flow == fig.flow
                        and (f.period.start, f.period.end) == (fig.period.start, fig.period.end)
                        and f.status == fig.status
                        and any("previous statement" in w for w in fig.inferred)
                    ),
                    None,
                )
                if host is not None:
                    host.change = fig.change
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
