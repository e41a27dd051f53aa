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
A clause with "respectively" pairs its list of places with its list of amounts only when they are
as many and the places are one side of the flow; else nothing (a wrong pairing is worse than none).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import itertools
import re

from app.draft import numbers
from app.draft.candidates import BLOC_MEMBERS
from app.draft.changes import amount_end, bind_changes, own_period
from app.draft.merge import merge
from app.draft.periods import _MONTH, FISCAL, Period, Publication, find_periods, names_its_months
from app.draft.placerefs import PlaceIndex
from app.draft.sides import (
    FLOW_WORDS,
    VERBS,
    flow_of,
    is_flow,
    parties,
    partner_after,
    sentence_subject,
    unknown_actor,
)
from app.draft.text import DATELINE_PREFIX, Piece, clauses, inside, paragraphs, sentences

_STATUS = (
    (
        re.compile(
            r"\b(?:target|goal|aims? to|aimed to|plans? to|planned to|seeks? to|pledged? to|pledges to|vow(?:ed|s)? to|"
            r"committed to|commitment to|promised? to|promises to|intends? to|intended to|hopes? to|hoped to|"
            # a goal agreed only as one to raise something ("agreed to lift trade to"; not "after the
            # two sides agreed to cut tariffs, trade rose to")
            r"(?:agreed|agree|agrees|decided|decides|wants?|wanted)\sto\s(?:raise|lift|bring|boost|increase|double|"
            r"triple|reach|expand|grow|push|take)|"
            r"ambitions? (?:to|of)|objective (?:to|of))\b[^.]{0,55}$",
            re.I,
        ),
        "target",
    ),
    (
        re.compile(
            r"\b(?:expected to|expects?|expecting|forecasts?|forecast to|projected|predicts?|"
            # "said he expected two-way trade to exceed $5 billion"
            r"expected\s(?:[\w’'-]+\s){1,5}to\s(?:reach|exceed|top|hit|surpass|rise|grow|climb|increase|double)|"
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
# A bound, not an amount traded: "a quota of 200 tonnes", "a capacity of 5 million tonnes", "a cap of $1 billion"
_BOUND_BEFORE = re.compile(
    r"\b(?:quotas?|caps?|ceilings?|limits?|capacity|capacities|threshold|surplus|deficit|trade\sbalance|"
    r"prices?|priced|exchange\srate)\s(?:of\s|at\s|was\s|were\s|averaged\s|stood\sat\s|to\s)?"
    r"(?:up\sto\s|about\s|around\s|an\saverage\sof\s)?$"
    # what a plant or a port can do: "the capacity to build about 700,000 vehicles a year", "can process
    # 650,000 barrels per day"
    r"|\b(?:capacity|able|designed|built)\sto\s[a-z]+\s(?:up\sto\s|about\s|around\s|some\s|nearly\s)?$"
    r"|\bcan\s(?:process|handle|produce|refine|build|make|store|load|assemble)\s(?:up\sto\s|about\s|around\s)?$",
    re.I,
)
# A price or a rate: "$780 a tonne", "210 USD per tonne", "1,344 won per dollar", "$70/bbl"
_PER_UNIT_AFTER = re.compile(
    r"^\s?(?:(?:a|an|per)\s|/\s?)(?:(?:metric|cubic|square|short)\s)?"
    r"(?:tonnes?|tons?|barrels?|bbl|kilo(?:gram)?s?|kg|pounds?|ounces?|oz|dollars?|euros?|yuan|rubles?|roubles?|"
    r"units?|heads?|litres?|liters?|metres?|meters?|mwh|kwh|megawatt|vehicles?|cars?|containers?|teu|"
    r"bushels?|carats?|pieces?)\b|^\s(?:each|apiece)\b"
    # an exchange rate: "VNĐ24,600 to the dollar", "1,344 won against the dollar"
    r"|^\s(?:to|against|per)\s(?:the\s|one\s)?(?:US\s|U\.S\.\s)?(?:dollar|greenback|euro|yuan|yen)\b"
    r"(?!\s?(?:zone|area|region))",
    re.I,
)
# A difference, not a level: "rose $1.2 billion (17 percent) to $8.2 billion", "up $129 million to
# $1.0 billion", "an increase of 300,000 tonnes" ("rose to $8.2 billion" is the level)
_DIFFERENCE_BEFORE = re.compile(
    r"\b(?:rose|rising|risen|fell|falling|fallen|increased|decreased|climbed|jumped|dropped|declined|grew|grown|"
    r"gained|slipped|shrank|(?<!made\s)(?<!make\s)(?<!makes\s)up|down|"
    r"an?\s(?:increase|rise|fall|drop|decline|gain|decrease|jump)\sof)\s"
    r"(?:by\s)?(?:about\s|around\s|nearly\s|some\s|almost\s|roughly\s|just\s)?$",
    re.I,
)
_NOT_TRADED_BEFORE = re.compile(
    _BASE_BEFORE.pattern + "|" + _BOUND_BEFORE.pattern + "|" + _DIFFERENCE_BEFORE.pattern, re.I
)
# An amount a fine, a seizure or a levy measures, wherever the flow word stands: "was fined 120 million
# yen for breaching export controls", "seized smuggled shipments worth $12 million", "collected $8.4
# billion in tariffs on imports"
_PENALTY_BEFORE = re.compile(
    r"\b(?:fined|fines?\sof|penalt(?:y|ies)|penali[sz]ed|seized|seizures?|confiscated)\b"
    # what a tariff or a countermeasure covers: "counter-tariffs on C$29.8 billion of U.S. goods"
    r"|\b(?:tariffs?|duties|levies|countermeasures|counter-measures|sanctions|curbs)\s(?:on|against)\s"
    r"(?:up\sto\s|about\s|some\s|nearly\s|around\s)?$",
    re.I,
)


def _not_traded(text: str, start: int) -> bool:
    """Return whether the words before the amount at `start` make it no amount traded: the base of a
    comparison, a bound, a difference, another measure, a fine."""
    return bool(
        _NOT_TRADED_BEFORE.search(text[max(0, start - 30) : start])
        or _measures_other(text[max(0, start - 60) : start])
        or _penalised(text[max(0, start - 60) : start])
    )


def _penalised(before: str) -> bool:
    """Return whether a fine, a seizure or a penalty leads the amount after `before`: "was fined",
    "fined a steel distributor", "seized smuggled shipments worth"; not "To curb smuggling, exports
    rose to", "Smuggling fell as exports rose to"."""
    found = list(_PENALTY_BEFORE.finditer(before))
    if not found:
        return False
    last = found[-1]
    between = before[last.end() :]
    if re.search(r"[,;:()]", between) or len(between.split()) > 4:
        return False
    # a flow of its own between them, unless it is what was seized ("seized smuggled shipments")
    return not (_FLOW_WORD.search(between) and not re.match(r"(?i)seized|confiscated", last.group(0)))


_LEVY_AFTER = re.compile(
    r"^\s(?:in|of)\s(?:\w+\s)?(?:tariffs?|duties|taxes|fines|penalties|levies|customs\sduties|fees)(?![\w-])", re.I
)
# ", where a railway link opened last year", ", a military-backed agency that took over state grain
# purchases in December,": a relative clause, to its comma or the sentence's end
_RELATIVE = re.compile(
    r",\s(?!(?:[\w’'-]+\s){0,5}?(?:data|figures|statistics|figure|numbers)\s(?:that|which))"
    r"(?:[\w’'-]+\s){0,5}?(?:that|which|who|whose|where)\s[^,;]*"
)
# "handled 118.3 billion yuan of that trade": a part of a figure told before, not one of its own
_PART_AFTER = re.compile(
    r"\s(?:of|in)\s(?:that|this|the|these|those|which)\s(?:trade|total|amount|sum|figure|volume|turnover|exports|imports)\b"
    r"|\s(?:of\s(?:it|them|which)\b)",
    re.I,
)
# "Overall, exports", "Exports as a whole", "global exports": the whole of a flow
_WHOLE_WORDS = re.compile(
    r"\b(?:overall|in\stotal|in\sall)\b,?\s(?:(?:its|the|their)\s)?(?:[a-z]+\s)?(?:exports|imports)\b"
    r"|\b(?:exports|imports)\sas\sa\swhole\b|\b(?:global|worldwide)\s(?:exports|imports)\b",
    re.I,
)
# words a change's own subject is made of, in a clause whose flow word is another's ("..., and shares
# of carmakers fell more than 4%", "..., while the Nikkei rose 2%"); not "..., rising 5%", "..., up 3%"
_OWN_SUBJECT = re.compile(
    r"\b(?!(?:The|This|That|It|Its|These|Those|They|and|but|while|or|which|that|it|its|they|their|was|were|is|are|has"
    r"|have|had|been|by|of|an?|the|some|about|nearly|almost|just|over|more|than|less|also|further|another|still"
    r"|marking|representing|year-on-year|annual|growth|rate|pace|increase|decrease|volume|value|total|jump|drop|fall"
    r"|rise|gain|decline|(?:slow|accelerat|eas|widen|narrow|pick|stood|reach|remain|came|amount|totall?|hit|record"
    r"|stay|hover|expand|contract|shr[ai]nk)\w*)\b)[A-Za-z][\w.&-]{2,}"
)


def _changes_another_subject(body: str, clause: Piece, kw_end: int, at: int) -> bool:
    """Return whether the change at `at` follows a subject of its own after the flow word or in a clause
    of its own ("Imports surged, and the DAX index fell 3%", "..., while the Nikkei rose 2%")."""
    if clause.start <= kw_end <= clause.end and kw_end > at:
        return False  # "The growth rate slowed to 4.7 percent ..., but trade": the flow word tells whose
    start = clause.start if not clause.start <= kw_end <= clause.end else kw_end
    text = body[start:at]
    cut = list(re.finditer(r",\s(?:and|but|while|whereas)\s|;\s", text))
    if start == kw_end:
        if not cut:
            return False  # "exports rose 5%", "exports to China, the largest buyer, rose 5%"
        text = text[cut[-1].end() :]
    words = numbers.DIRECTION.sub(
        " ", re.sub(r"\b(?:year|month|quarter)-(?:on|over)-(?:year|month|quarter)\b", " ", text)
    )
    words = re.sub(r"^\s*(?:And|But|While|Or)\b", " ", words)
    return bool(_OWN_SUBJECT.search(words))


# "from July to 1.45 million tonnes", "in the 12 months to June": a month after "to" or "from" is no side
_MONTH_NAMES = _MONTH + r"\b"
# "to African countries", "to its northern neighbour", "with Gulf states": somewhere named, placed or not
_AIMED = re.compile(
    r"\bbetween\s|\b(?:to|from|with)\s(?!(?:about|around|some|nearly|almost|over|all|a\srecord|record|date)\b)"
    r"(?!(?:a|an|the)\s(?:year|month|quarter|week|record|all-time|previous|same|high|low|peak|level)\b)"
    r"(?:its\s|their\s|the\s)?(?![\d$€£¥])(?![A-Z]{1,3}\$|[A-Z][A-Za-z.]{0,4}\s?\d|RMB\b)(?!"
    + _MONTH_NAMES
    + r")[A-Za-z]"
)
# "In neighbouring Thailand, ...", "In Indonesia, ...": a sentence opening on a place, the trader of
# its flows when no other is written
_OPENING_PLACE = re.compile(
    r"\s*(?:[A-Z]+(?:\s[A-Z]+)*,\s\w+\.?\s\d{1,2}\s\([^)]*\)\s[-–—]+\s)?(?:In|For)\s(?:the\s)?"
    r"(?:neighbouring\s|neighboring\s|nearby\s)?[A-Z][\w’'-]*(?:\s[A-Z][\w’'-]*){0,2},\s"
)
# "to countries other than the United States", "except China": a side named by what it is not
# (of goods as well: "exports excluding oil" are no country's whole exports, nor its exports to anyone)
_EXCLUDED_SIDE = re.compile(r"\b(?:other\sthan|except(?:\sfor)?|excluding|apart\sfrom)\s", re.I)
# the whole of a flow: "total exports", "overall imports", "exports to all destinations", "imports
# from all origins", "to the rest of the world"
_WHOLE = re.compile(
    r"\b(?:total|overall|aggregate)\s(?:(?-i:[a-z]+)\s){0,2}?(?:exports|imports)\b"  # "Total beef exports"
    r"|\b(?:to|from)\sall\s(?:destinations|origins|sources|markets|countries|partners)\b"
    r"|\b(?:worldwide|globally)\b|\bto\sthe\s(?:rest\sof\sthe\s)?world\b",
    re.I,
)
# Words of a clause pointing back at the flow just told ("most of the purchases", "those sales",
# "of which"): its sides, not the story's
_POINTS_BACK = re.compile(
    r"\bof\s(?:the|those|these|such)\s(?:[a-z]+\s)?(?:purchases|sales|exports|imports|shipments|supplies|deliveries)\b"
    r"|\b(?:those|these|such)\s(?:[a-z]+\s)?(?:purchases|sales|exports|imports|shipments|supplies|deliveries)\b",
    re.I,
)
# a flow word with what is traded before it ("Automotive exports", "Rice exports", "crude exports"),
# a part of the reporter's whole trade
_QUALIFIED = re.compile(
    r"(?<![\w’'-])(?!(?:the|its|their|our|his|her|total|overall|all|while|and|but|that|which|whose|as|of|with|said"
    r"|where|when|whereas|since|although|though|also|monthly|annual|quarterly)\s)[A-Za-z-]{3,}\s$",
    re.I,
)
# A statement of what will be, told in its sentence as a goal restated
_RESTATED_GOAL = re.compile(
    r"\b(?:restat\w+|reiterat\w+|repeat\w+|reaffirm\w+|confirm\w+)\s(?:the|its|their|his|her|this|a)\s"
    r"(?:[\w’'-]+\s){0,3}(?:target|goal)\b",
    re.I,
)
# What else an amount may measure, named between the flow word and it: "a surplus of just $700
# million", "valued at $20 billion", "a budget for export incentives of $150 million", "market
# capitalisation rose to $25 billion" (but "export revenues" are the exports' value)
_OTHER_MEASURE = re.compile(
    r"(?:(?<!\bexport\s)(?<!\bexports\s)(?<!\bimport\s)(?<!\bimports\s)\b(?:revenues?|earnings|income|proceeds)"
    r"|\b(?:surplus|deficit|balance|valued|valuation|market\s(?:capitali[sz]ation|cap|value)|budgets?|"
    r"profits?|investments?|invested|loans?|credit|funding|funds?|capital|subsid(?:y|ies)|"
    r"incentives?|prices?|priced|costs?|fines?|bonds?|reserves|debts?|GDP|economy|wages?|salar(?:y|ies)|output))\b",
    re.I,
)
_FLOW_WORD = re.compile(
    r"\b(?:exports?|exported|imports?|imported|trade|traded|shipments?|shipped|supplies|supplied|sales|sold|"
    r"turnover|purchases?|purchased|bought|deliveries|delivered)\b",
    re.I,
)


def _measures_other(before: str) -> bool:
    """Return whether the words before an amount (in its clause) name another measure that leads the
    amount's own phrase, after the last flow word: the amount is that measure's, not an amount traded.

    "a surplus of just $700 million", "a budget for export incentives is $150 million", "market
    capitalisation rose to $25 billion"; not "exports of capital goods rose to $5 billion", "exports,
    boosted by yuan loans, rose to ...", nor "exports to China were valued at $120 billion"."""
    measures = [m for m in _OTHER_MEASURE.finditer(before) if not _GOODS_AFTER.match(before, m.end())]
    if not measures:
        return False
    last = measures[-1]
    flows = [m.end() for m in _FLOW_WORD.finditer(before)]
    if flows and max(flows) > last.end():
        return False
    between = before[last.end() :]
    if re.search(r"[,;:()]", between) or len(between.split()) > 4:
        return False  # an aside, or too far to lead the amount's phrase
    # an exports' value or price: "exports to China were valued at"
    return not (last.group(0).lower() in ("valued", "priced") and flows)


_GOODS_AFTER = re.compile(r"\s(?:goods|products|equipment|machinery)\b", re.I)


# "That was a nearly 9 per cent jump": the change of the figure just stated
_ANAPHOR = re.compile(r"(?:That|This|It)\s(?:was|is|represents|represented|marks|marked)\s(?:an?\s)?(?:[a-z]+\s){0,2}$")
# A clause that speaks of another year than the story's, without a period the rules resolve
# ("a year earlier" is not one: "9 per cent more than a year earlier" is the base of a change)
_OTHER_YEAR = re.compile(r"\b(?:previous|prior|preceding) year\b|\bthe year before\b", re.I)
_WORLD_FLOWS = (
    "foreign trade",
    "foreign trade turnover",
    "foreign trade volume",
    "total merchandise trade",
    "merchandise trade",
    "total trade",
    "overall trade",
    "external trade",
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
    yen_sign: str = "CNY"  # what "¥" stands for in this story (numbers.yen_sign)
    rupee: str = "INR"  # what "Rs" and "rupees" stand for in this story (numbers.rupee_currency)
    dollar: str = "USD"  # what "$" alone stands for in this story (numbers.dollar_currency)
    peso: str | None = None  # what "pesos" stand for in this story (numbers.peso_currency)
    rand: bool = False  # whether "R" before a number is the rand (a South African story)
    # the sides of the story's previous outcome, drafted or not (a fiscal year's is not): what a
    # sentence that names no side leans on
    sides: _Sides | None = None
    unresolved: list[int] = dataclasses.field(default_factory=list)  # periods of this sentence not resolved
    # whether the story's first figure is its reporter's trade with the world: later sentences that
    # name no side ("Automotive exports, the largest sector, ...") are that trade's, not a partner's
    world_story: bool | None = None
    headline_sides: _Sides | None = None  # what the headline's flow is between
    headline_figure: DraftFigure | None = None  # the headline's figure (not drafted: the story states it)
    story_partners: set[str] = dataclasses.field(default_factory=set)  # the partners of the story's figures so far
    skip: list[tuple[int, int]] = dataclasses.field(default_factory=list)  # spans not of the story (a headline)

    def find_money(self, text: str, sent: Piece) -> list[numbers.Money]:
        """Return the money of `text`, a part of `sent`, in the currencies its signs stand for in this story."""
        return numbers.find_money(
            text,
            yen_sign=numbers.yen_sign(sent.text, story=self.yen_sign),
            rupee=self.rupee,
            dollar=self.dollar,
            peso=self.peso,
            rand=self.rand,
        )


@dataclasses.dataclass(frozen=True)
class _Sides:
    reporter: str
    partner: str | None
    paragraph: int
    sentence: int = -1  # where the sentence the sides were read in starts
    flow: str = ""
    country: str | None = None  # the reporter's country


def extract_figures(
    body: str,
    index: PlaceIndex,
    published: Publication | None,
    skip: list[tuple[int, int]],
    country_of: dict[str, str | None],
    headline: list[tuple[int, int]] | None = None,
) -> list[DraftFigure]:
    """Return the trade figures the text states, duplicates merged, with their evidence.

    Sides and periods not written in a sentence are carried from the story's previous figure
    (wire copy puts one sentence on a line, so a paragraph is often a sentence). The `headline`
    sums the story up in other words: its figures are the story's sentences' to state, but its
    sides and period are what a lede that names none goes on with ("Wheat exports rose 20% ...")."""
    out: list[DraftFigure] = []
    titles = headline or []
    ctx = _Context(
        yen_sign=numbers.yen_sign(body),
        skip=titles,
        rupee=numbers.rupee_currency(body),
        dollar=numbers.dollar_currency(body),
        peso=numbers.peso_currency(body),
        rand=numbers.RAND_STORY.search(body) is not None,
    )
    story_sentences = 0
    for para in paragraphs(body):
        if inside(skip, para.start, para.end):
            continue
        in_headline = inside(titles, para.start, para.end)
        for sent in sentences(para):
            # the story's first sentence (header lines end with no full stop): a lede
            story_line = (
                not in_headline
                and re.search(r"[.!?\"”’]\s*$", sent.text) is not None
                # (not a caption, a byline or a time stamp: "FILE PHOTO: Containers are seen ...",
                # "By Maria Martinez.", "Updated 2 hours ago.")
                and not _NOT_STORY.match(sent.text)
                and len(sent.text.split()) >= 6
            )
            lede = story_line and story_sentences == 0
            story_sentences += story_line
            # a relative clause with no amount of its own tells something else: its flow words and dates
            # are not the figures' ("where a railway link opened last year", "which depend on exports
            # of labour", "an agency that took over state grain purchases in December")
            aside_spans = [
                (sent.start + m.start(), sent.start + m.end())
                for m in _RELATIVE.finditer(sent.text)
                if not re.search(
                    r"\d[\d.,]*\s?(?:%|per\s?cent|[a-z]*illion|bn|mn|tonnes?|barrels?)|[$€£¥₽]", m.group(0)
                )
            ]
            sent_kws = [
                k
                for k in FLOW_WORDS.finditer(sent.text)
                if is_flow(body, k, sent.start)
                and not inside(aside_spans, sent.start + k.start(), sent.start + k.end())
            ]
            unresolved: list[int] = []
            sent_periods = [
                p
                for p in find_periods(sent.text, sent.start, published, unresolved=unresolved)
                if not inside(aside_spans, p.at, p.at + 1)
            ]
            ctx.unresolved = unresolved
            if not sent_kws:
                _lend_change(body, sent, ctx)
                if lede and ctx.sides is None and ctx.figure is None:
                    ctx.sides = _story_opening(ctx, _balance_sides(body, sent, index, country_of))
                    told = [p for p in sent_periods if not p.running and p.start <= _today(published)]
                    if ctx.sides is not None and told:
                        # the balance's period is that of the figures that follow, not that of a
                        # comparison after it ("narrowed in April from a record high in March")
                        ctx.period = told[0]
                continue
            # "As reported, in 2023 trade was ...": a look back, whose period the story's next
            # sentences do not take (they go on with the story's own)
            aside = _ASIDE.match(sent.text) is not None
            before = (ctx.figure, ctx.period, ctx.sides)
            made = 0
            for clause in clauses(sent):
                if "respectively" in clause.text:
                    found = _respective_figures(body, sent, clause, sent_kws, sent_periods, index, published, ctx)
                else:
                    found = _clause_figures(
                        body, sent, clause, sent_kws, sent_periods, index, published, ctx, country_of
                    )
                for fig in found:
                    made += 1
                    if not in_headline:
                        out.append(fig)
            if not made and lede and ctx.sides is None and ctx.figure is None:
                ctx.sides = _story_opening(
                    ctx,
                    _lede_sides(body, sent, sent_kws, index, country_of)
                    or _balance_sides(body, sent, index, country_of),
                )
                if ctx.sides is not None:
                    told = [p for p in sent_periods if not p.running and p.start <= _today(published)]
                    if told:
                        ctx.period = told[0]  # the lede's period, not that of a comparison after it
            actual = [p for p in sent_periods if not p.running and p.start <= _today(published)]
            if actual:
                ctx.period = actual[-1]
            if in_headline:
                # kept for a lede that names no side; the story's own figures begin after it
                ctx.headline_sides = ctx.sides
                ctx.headline_figure = ctx.figure
                ctx.figure, ctx.sides, ctx.world_story, ctx.story_partners = None, None, None, set()
            if aside:
                ctx.figure, ctx.period, ctx.sides = before
            ctx.paragraph = para.paragraph
    return merge(out)


_NOT_STORY = re.compile(
    r"\s*(?:FILE\sPHOTO|PHOTO|Photo|By\s|Updated|Last\supdated|Reporting\sby|Editing\sby|Writing\sby|[-•*–]\s|[\"“‘'])"
)
# the world's or a region's flow, not a country's: "World trade", "Global exports", "Euro zone exports"
_WORLD_LEVEL = re.compile(
    r"\b(?:[Ww]orld|[Gg]lobal|[Ee]uro\s?zone|[Ee]urozone|[Rr]egional|[Ii]nternational|[Ww]orldwide)\s(?:[a-z-]+\s)?$"
)


def _someone_else(body: str, sent: Piece, kw: re.Match[str], index: PlaceIndex, previous: _Sides) -> bool:
    """Return whether the words before a flow word that names no side name a trader other than the
    story's ("Neighbouring South Korea said its exports rose"; "World trade grew"), so that the story's
    sides are not carried to it (a dateline's city does not count)."""
    k_start = sent.start + kw.start()
    if _WORLD_LEVEL.search(body, max(sent.start, k_start - 30), k_start):
        return True
    dateline = DATELINE_PREFIX.match(sent.text)
    begin = sent.start + (dateline.end() if dateline else 0)
    return any(
        r.slug not in (previous.reporter, previous.partner) and r.kind not in ("city", "port", "town")
        for r in index.within(begin, k_start)
    )


def _lede_sides(
    body: str, sent: Piece, kws: list[re.Match[str]], index: PlaceIndex, country_of: dict[str, str | None]
) -> _Sides | None:
    """Return the sides of a lede that tells a flow without its amount ("German exports rose more
    than expected in February ..."), which the story's next sentences state ("Exports increased
    1.8% to 131.6 billion euros"): its trader named before the flow word, and a partner written
    right after it ("Chinese exports to Russia fell in May"), else the trader's trade with the world."""
    for kw in kws:
        if re.search(
            r"\b(?:as|after|because|while|when|since|amid|despite|though|although|but)\b", sent.text[: kw.start()]
        ):
            break  # "... shrank in April as U.S. tariffs hit shipments": another statement's words
        word = kw.group("kw").lower()
        flow = flow_of(word, body[sent.start + kw.end() : sent.start + kw.end() + 40])
        reporter, partner, rule = parties(body, kw, sent.start, flow, index)
        gap = body[max(sent.start, sent.start + kw.start() - 30) : sent.start + kw.start()]
        if (
            reporter is None
            or not rule.startswith(("possessive", "adjective"))
            # the trader right before the flow word ("German exports", "Russia's oil exports"), not
            # through other words ("U.S. tariffs hit shipments")
            or not re.search(r"(?:[’']s\s|\b[A-Z][\w.-]*\s)(?:(?-i:[a-z-]+)\s)?$", gap)
        ):
            continue
        if partner is not None:
            near = [
                r
                for r in index.within(sent.start + kw.end(), sent.start + kw.end() + 40)
                if r.slug == partner
                and re.fullmatch(r"\s(?:to|from|with|into)\s(?:the\s)?", body[sent.start + kw.end() : r.start])
            ]
            if not near:
                partner = None  # "... as companies rushed goods to the United States": why, not whose flow
        if flow == "total" and partner is None:
            continue  # "Chinese trade rose": with whom is not said
        return _Sides(reporter, partner, sent.paragraph, sent.start, flow, country_of.get(reporter))
    return None


def _story_opening(ctx: _Context, sides: _Sides | None) -> _Sides | None:
    """Return the sides a lede without amounts gives the sentences after it: a trader's trade with the
    world ("German exports rose more than expected"). A lede of trade with a partner ("China's exports
    to the United States slumped as tariffs bit") names the partner of the story, not the sides of
    its next figures, which may be the trader's whole trade ("Exports rose 8.1% to $315.7 billion")."""
    if sides is not None and sides.partner is not None:
        ctx.story_partners.add(sides.partner)
        return None
    return sides


# a number with its scale: an amount of something, read or not
_SCALED_NUMBER = re.compile(r"\d[\d.,]*\s?(?:thousand|million|billion|trillion|mln|bln|bn|mn|crore|lakh)\b", re.I)
# a total run up to a date: "as of the end of March", "since the start of the season", "so far"
_RUNNING_TOTAL = re.compile(
    r"\b(?:as\s(?:of|at)\s(?:the\s)?end\sof|[Ss]ince\sthe\s(?:start|beginning)\sof(?!\s(?:the\s)?(?:war|invasion|"
    r"conflict|pandemic|crisis|month)\b)|so\sfar(?!\s(?:held|remained|been))|to\sdate|year-to-date|cumulatively)\b"
)
# a trader's trade with the world, said outright: "bought 12.4 million tonnes from all origins"
_ALL_ORIGINS = re.compile(
    r"\b(?:from\s(?:all|every|other)\s(?:origins|sources|suppliers|countries)|worldwide|globally|in\stotal|"
    r"abroad|overseas|on\sworld\smarkets)\b",
    re.I,
)


# "The U.S. trade deficit", "Germany's goods trade surplus with China"
_BALANCE_AFTER = re.compile(
    r"(?:[’']s)?\s(?:overall\s|total\s|goods\s|merchandise\s|foreign\s|monthly\s)*trade\s"
    r"(?:deficit|surplus|balance|gap)\b(?:\swith\s(?:the\s)?)?"
)


def _balance_sides(body: str, sent: Piece, index: PlaceIndex, country_of: dict[str, str | None]) -> _Sides | None:
    """Return the sides of a lede that tells a trade balance ("The U.S. trade deficit shrank in
    October"): its country's trade with the world, or with the place the balance is with, which the
    story's next sentences state ("Exports slipped 0.4% to $265.7 billion")."""
    for ref in index.within(sent.start, sent.end):
        balance = _BALANCE_AFTER.match(body, ref.end)
        if balance is None:
            continue
        partner = next(
            (r.slug for r in index.within(balance.end(), balance.end() + 40) if r.start == balance.end()), None
        )
        if not balance.group(0).rstrip().endswith(("with", "the")):
            partner = None
        flow = "total" if partner else "export"
        return _Sides(ref.slug, partner, sent.paragraph, sent.start, flow, country_of.get(ref.slug))
    return None


# "That is 7% more than a year earlier", opening a sentence with no flow word of its own
_ANAPHOR_OPENING = re.compile(
    r"\s*(?:That|This|It)\s(?:was|is|represents|represented|marks|marked|means|meant)\s(?:an?\s)?(?:[a-z]+\s){0,2}$"
)


def _lend_change(body: str, sent: Piece, ctx: _Context) -> None:
    """Give the story's last figure the change of a sentence that only points back at it ("...
    came to $6.1 billion. That is 7% more than a year earlier."), if it had none."""
    fig = ctx.figure
    if fig is None or fig.change is not None or not (fig.money or fig.quantity):
        return
    changes = numbers.find_changes(sent.text)
    if len(changes) != 1 or not _ANAPHOR_OPENING.fullmatch(sent.text[: changes[0].start]):
        return
    # against the same period a year before, as a figure's change is ("than the ministry forecast",
    # "than in April" are other bases)
    if not (changes[0].year_on_year or re.search(r"\ba\syear\s(?:earlier|before|ago)\b", sent.text, re.I)):
        return
    last = fig.evidence[-1]
    if not re.fullmatch(r"[^.!?]*[.!?]?[\"”’']?\s*", body[last.end : sent.start]):
        return  # only the sentence right after the figure's (on its line or the next)
    fig.change = dataclasses.replace(changes[0], start=sent.start + changes[0].start, end=sent.start + changes[0].end)
    fig.evidence.append(_quote(sent))


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
    money = ctx.find_money(text, sent)
    # "rose from $5 billion to $7 billion", "up from $4 billion", "compared with 1.1 million tonnes":
    # the base of a comparison, not a figure of the story's period; "a quota of 200 tonnes": a bound
    every = [(m.start, m.full_end) for m in money]
    money = [
        m
        for m in money
        if not _not_traded(text, m.start)
        and not _PER_UNIT_AFTER.match(text[m.end : m.end + 30])
        and not _LEVY_AFTER.match(text[m.end : m.end + 40])
        and not _PART_AFTER.match(text[m.full_end : m.full_end + 40])
    ]
    all_quantities = numbers.find_quantities(text, every)
    quantities = [q for q in all_quantities if not _not_traded(text, q.start)]
    changes = [
        c
        for c in numbers.find_changes(text)
        if not any(m.start <= c.start < m.full_end for m in money)
        and not _measures_other(text[max(0, c.start - 60) : c.start])  # "export credit grew 10%"
    ]
    # every amount written in the clause, bases and bounds too (article offsets)
    written = tuple(
        sorted([start + clause.start for start, _ in every] + [q.start + clause.start for q in all_quantities])
    )
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
        if re.fullmatch(r",?\s(?:and\s)?|\sand\s", body[amount_end(amounts[i]) : amounts[i + 1].start])
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
    bound = bind_changes(body, amounts, changes, clause_periods)
    anchors: list[numbers.Money | numbers.Quantity | numbers.Change] = list(amounts)
    if not amounts:
        # (not when the clause writes an amount the rules cannot read: "climbed 14% to 1.21 million
        # 60-kilogram sacks" is a change of that amount, not of the flow as a whole)
        unread = [m for m in _SCALED_NUMBER.finditer(text) if not any(start <= m.start() < end for start, end in every)]
        anchors = [] if unread else list(changes[:1])
    else:
        # a change bound to no amount and with its own period is a figure of its own: "rose 21% in
        # the first half and is expected to exceed $3 billion by the end of the year"
        for i, alone in enumerate(changes):
            if i not in bound and (
                own_period(alone, amounts, clause_periods) or _ANAPHOR.match(body, clause.start, alone.start)
            ):
                anchors.append(alone)
    anchors.sort(key=lambda a: a.start)
    if not anchors:
        return []
    figures = []
    for n, anchor in enumerate(anchors):
        a_start = anchor.start
        # the clause's flow words, else an earlier clause's ("exports rose to $8 billion, up from ..."); a
        # later one's only for a change ("growth slowed to 4.7 percent ..., but trade could reach"),
        # never for an amount ("... rose to $310 million, while a budget for export incentives is ...")
        kws = [k for k in sent_kws if clause.start <= sent.start + k.start() < clause.end] or [
            k for k in sent_kws if sent.start + k.start() < clause.start or isinstance(anchor, numbers.Change)
        ]
        if not kws:
            continue
        kw = min(
            kws, key=lambda k: abs(sent.start + k.start() - a_start) + (0 if sent.start + k.start() < a_start else 30)
        )
        if isinstance(anchor, numbers.Change) and re.search(r"\b[Ss]ince\b", body[sent.start : anchor.start]):
            continue  # "Since the pact took effect in 2017, trade has grown by 65%": over years not stated
        if isinstance(anchor, numbers.Change) and _changes_another_subject(
            body, clause, sent.start + kw.end(), anchor.start
        ):
            continue  # ", and the DAX index fell 3%": the change is its own subject's, not the flow's
        nouns = [k for k in kws if k.start() < kw.start() and k.group("kw").lower() not in VERBS]
        if kw.group("kw").lower() in VERBS and nouns:
            kw = nouns[-1]  # "imports of Chinese steel shipped overseas": the verb describes the imports
        word = kw.group("kw").lower()
        after = body[sent.start + kw.end() : sent.start + kw.end() + 40]
        flow = flow_of(word, after)
        reporter, partner, rule = parties(body, kw, sent.start, flow, index)
        if not clause.start <= sent.start + kw.start() < clause.end and any(
            r.slug not in (reporter, partner) for r in index.within(clause.start, a_start) if r.how != "demonym"
        ):
            # another clause's flow word, and this clause names a place of its own ("..., while Henan's
            # rose 12%", "..., while receipts from Iraq were"): whose flow it is here is not said
            continue
        if reporter is None and partner is None:
            # (another flow word before the amount: "..., helped by a rush of sales to the United States"
            # after it is another statement)
            for other in kws:
                if other is not kw and sent.start + other.start() < a_start:
                    reporter, partner, rule = parties(body, other, sent.start, flow, index)
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
        named_partner = partner is not None
        if partner is None and word in VERBS and not isinstance(anchor, numbers.Change):
            # "Vietnam imported $3.4 billion worth of goods from Russia": the partner after the amount
            partner = partner_after(body, amount_end(anchor), clause.end, flow, index)
            named_partner = partner is not None
            if partner == reporter:
                partner = None
        before_anchor = anchors[n - 1] if n else None
        if before_anchor is not None and not isinstance(before_anchor, numbers.Change) and flow in ("export", "import"):
            # "with exports to China at $62 billion and to India at $52 billion": a destination written
            # between the previous amount and this one is this one's
            lead = "to" if flow == "export" else "from"
            own = [
                r
                for r in index.within(amount_end(before_anchor), a_start)
                if r.how != "demonym"
                and re.search(rf"\b{lead}\s(?:the\s)?$", body[max(0, r.start - 9) : r.start])
                # the place leads this amount ("to India at $52 billion"), not follows the previous one
                # ("$5 billion of goods to China and $3 billion to Japan")
                and re.fullmatch(
                    r"\s(?:(?:at|worth|was|were|stood\sat|came\sto|reached|totall?ed|of|to)\s"
                    # "..., and those to China fell 2.4% to 6.6 billion euros"
                    r"|(?:[a-z]+\s){1,2}(?:by\s)?[\d.,]+\s?(?:%|percent|per\scent)\s(?:to\s)?)?"
                    r"(?:about\s|around\s|some\s|nearly\s)?",
                    body[r.end : a_start],
                )
            ]
            # a ranking of destinations: "Exports there totalled $571 million, followed by Hong Kong with
            # $284 million and Belgium with $119 million"
            # (only where the flow word leads to a destination: "Exports there", "Shipments to Spain"; a
            # supplier's or a rival's ranking is no destination's: "Russia supplied 1.9 million bpd, followed
            # by Iraq with 1 million bpd")
            if re.match(r"\s(?:there\b|to\s)", body[sent.start + kw.end() :]):
                own += [
                    r
                    for r in index.within(amount_end(before_anchor), a_start)
                    if r.how != "demonym"
                    and re.search(r"(?:followed\sby|then|and)\s(?:the\s)?$", body[max(0, r.start - 14) : r.start])
                    and re.fullmatch(r"\swith\s(?:about\s|around\s|some\s|nearly\s)?", body[r.end : a_start])
                ]
            if own:
                partner, named_partner = own[-1].slug, True
        if word == "traded" and partner is None:
            # "Belarus and China traded goods worth $8.4 billion"
            pair = [r for r in index.within(sent.start, sent.start + kw.start()) if r.how != "demonym"]
            if len(pair) == 2 and re.fullmatch(r"\s(?:and|&)\s", body[pair[0].end : pair[1].start]):
                reporter, partner, rule = pair[0].slug, pair[1].slug, "pair-subject"
        if reporter is None:
            # "In neighbouring Thailand, crude palm oil exports reached ...": the place the sentence opens on
            opens_on = _OPENING_PLACE.match(sent.text)
            refs = index.within(sent.start, sent.start + opens_on.end()) if opens_on else []
            # a country or a region ("In Beijing, officials said ...": where it was said)
            if (
                refs
                and refs[-1].how != "demonym"
                and refs[-1].slug != partner
                and refs[-1].kind not in ("city", "port", "town")
            ):
                reporter, rule = refs[-1].slug, rule + "+opening-place"
        other_clause = re.search(r",\s(?:while|whereas|but|and)\b", body[sent.start : sent.start + kw.start()])
        if (
            reporter is None
            and (partner is not None or word in VERBS)
            and other_clause
            and other_clause.group(0).endswith("and")
            and sentence_subject(body, sent, kw, index, partner, country_of, strict=partner is None) is not None
        ):
            # "Egypt ... bought 1 million tonnes, and imports from Ukraine fell 30%": whether the subject
            # still acts the words leave open; neither it nor the story's trader is drafted
            continue
        if (
            reporter is None
            and (partner is not None or word in VERBS)
            # "..., while shipments to the United States grew": the sentence's subject is another clause's
            and not other_clause
        ):
            # "Egypt, the world's biggest wheat importer, bought around 12.4 million tonnes": a trading
            # verb's subject, partner or not
            subject = sentence_subject(body, sent, kw, index, partner, country_of, strict=partner is None)
            if (
                subject is not None
                and partner is None
                and ctx.sides is not None
                and country_of.get(subject) != ctx.sides.country
                and not _ALL_ORIGINS.search(body, sent.start + kw.end(), sent.end)
            ):
                # "The European Union, the single largest destination, bought garments worth $13.3
                # billion" in a story of Bangladesh's exports: from the story's trader or from the
                # world, the words do not say
                continue
            if subject is not None:
                reporter, rule = subject, rule + "+subject"
        if re.match(r"\s(?:there|here)\b", body[sent.start + kw.end() :]) and not named_partner:
            continue  # "Exports there totalled $571 million": a place pointed back at that is not read
        if re.search(
            r"\b(?:to|from|with)\s(?:[\w-]+\s){0,3}(?:such\sas|including|like)\s",
            body[sent.start + kw.start() : max(sent.start + kw.end(), a_start)],
        ):
            continue  # "Exports to non-traditional markets such as Japan, Australia and India": a group
        if _EXCLUDED_SIDE.search(
            body, sent.start + kw.start(), anchor.start if anchor.start > sent.start + kw.start() else clause.end
        ):
            continue  # "exports to countries other than the United States": a side named only by what it is not
        whole = bool(
            _WHOLE.search(
                # ("Total flower exports": the whole's word and the goods before the flow word)
                body,
                max(clause.start, sent.start + kw.start() - 30),
                min(clause.end, sent.start + kw.end() + 70),
            )
            or _WHOLE_WORDS.search(
                body, max(sent.start, sent.start + kw.start() - 20), min(clause.end, sent.start + kw.end() + 14)
            )
        )
        # "total exports to African countries": a whole aimed somewhere is not the world's
        aimed = _AIMED.search(body[sent.start + kw.end() : max(sent.start + kw.end(), anchor.start)]) is not None
        whole = whole and not aimed
        world = (word in _WORLD_FLOWS or whole) and partner is None and reporter is not None
        in_clause = clause.start <= sent.start + kw.start() < clause.end
        # a destination or origin written in the clause, placed or not ("to the EU", "to buyers in
        # Egypt", "from Chinese ports"): the figure is not with the world
        # (from the flow word to the first comma after the amount: "..., with shipments to China" is
        # another flow's)
        reach_start = min(sent.start + kw.start(), anchor.start)
        anchor_end = anchor.end if isinstance(anchor, numbers.Change) else amount_end(anchor)
        comma = body.find(",", anchor_end, clause.end)
        reach = body[reach_start : comma if comma >= 0 else clause.end]
        # (not a currency written after "to": "rose 2.4% to C$66.1 billion", "to US$", "to EUR 5 billion")
        directed = bool(
            re.search(
                r"\b(?:to|from|with|into)\s(?:the\s|buyers\sin\s|customers\sin\s)?"
                r"(?![A-Z]{1,3}\$|[A-Z][A-Za-z.]{0,4}\s?\d|RMB\b|U\.S\.\s(?:dollars?|\$)|" + _MONTH_NAMES + r")[A-Z]",
                reach,
            )
        )
        # "coal shipments abroad", "cocoa shipped overseas": exports to the world, whatever partner the
        # sentence names elsewhere
        abroad = (
            flow == "export"
            and not directed
            and bool(
                re.match(r"\s(?:abroad|overseas|worldwide)\b", after, re.I)
                or re.search(r"\b(?:shipped|sold|exported)\s(?:abroad|overseas)\b", clause.text, re.I)
                or (not in_clause and re.search(r"\b(?:abroad|overseas|worldwide)\b", clause.text, re.I))
            )
        )
        if abroad:
            partner = None
        if partner is None and reporter is not None and not world and flow != "total" and not named_partner:
            # "Indonesia's exports rose 5% to $22 billion in May" opening a story (no other country
            # named before it), with no destination in its clause: the reporter's trade with the world
            # (a place well after the amount, "..., with shipments to China making up 54%", is another
            # flow's)
            dateline = DATELINE_PREFIX.match(sent.text)  # where it was filed: no side
            begin = max(clause.start, sent.start + (dateline.end() if dateline else 0))
            end = min(clause.end, anchor_end + 30)
            mine = country_of.get(reporter)
            others = [r for r in index.within(begin, end) if country_of.get(r.slug) != mine]
            earlier = [
                r
                for r in index.refs
                if r.end <= begin
                and r.kind == "country"
                and country_of.get(r.slug) != mine
                and not inside(ctx.skip, r.start, r.end)  # a headline's
            ]
            opening = ctx.sides is None and not earlier and not others and not directed
            # "In neighbouring Thailand, crude palm oil exports reached ...": a trader new to the story,
            # named in its own clause with no destination
            newcomer = (
                in_clause
                and ctx.sides is not None
                and reporter != ctx.sides.reporter
                # another country, or the country of the story's region ("Russia's coal exports" after
                # Primorsky Krai's): not a region of the story's country
                and (previous_reporter_country(ctx) != mine or _is_country(index, reporter))
                # not a side of the story's figures: "China's exports rose 3%" after Russia's exports to
                # China is China's side of that trade, not its trade with the world
                and reporter not in ctx.story_partners
                and not others
                and not directed
                and "+carried" not in rule
                # "Iraq supplied 1.01 million bpd" in a story of India's imports: supplied to the story's
                # trader ("India shipped 22 million tonnes" in a story of Thailand's exports: to the world)
                and not (word in VERBS and ctx.sides.flow != flow)
            )
            # "The kingdom exported 9.94 million tonnes" after "Thailand's rice exports are expected to fall":
            # the story's trader, whose trade with the world the story tells
            again = (
                ctx.sides is not None
                and reporter == ctx.sides.reporter
                and ctx.sides.partner is None
                and not others
                and not directed
            )
            world = abroad or opening or newcomer or again
        previous = ctx.sides
        if reporter is None and unknown_actor(body, sent, kw, index):
            previous = None  # "EU imports from Russia": a trader the rules cannot place, not the story's
        if (
            reporter is None
            and partner is None
            and previous is not None
            and _someone_else(body, sent, kw, index, previous)
        ):
            previous = None  # "South Korea said its exports rose", "World trade grew": not the story's trader
        if (
            previous is None
            and reporter is None
            and partner is None
            and _restates(ctx.headline_figure, flow, anchor, bound, changes, n)
        ):
            # "Russia's wheat exports to Egypt jump 20% in 2024" over "Wheat exports rose 20% to 12 million
            # tonnes": the lede restates the headline's figure (its flow and change), so its sides
            previous = ctx.headline_sides
        if (
            (whole or word in _WORLD_FLOWS)
            and reporter is None
            and partner is None
            and previous is not None
            and not directed
            and not aimed
        ):
            # "Overall exports rose 11.4% to 9.19 trillion yen" after exports to China: the story's
            # reporter's whole trade
            reporter, world = previous.reporter, True
            inferred.append("the whole of the flow: the story's reporter's trade with the world")
            rule += "+story-reporter"
        if (
            reporter is None
            and partner is None
            and ctx.world_story
            and previous is not None
            and previous.partner is not None
            and previous.sentence != sent.start
            and flow in ("export", "import")
            and word not in ("bilateral trade", "two-way trade")
            and not _POINTS_BACK.search(clause.text)
            and (
                flow != previous.flow
                or _QUALIFIED.search(body, max(sent.start, sent.start + kw.start() - 30), sent.start + kw.start())
            )
        ):
            # a story of a country's trade with the world: a sentence that names no side goes back to
            # that trade ("Rice exports reached 7.1 million tonnes" after "Imports from China rose ...")
            reporter, world = previous.reporter, True
            inferred.append("no side named: the reporter of the story, whose trade with the world it tells")
            rule += "+story-reporter"
        if (
            reporter is not None
            and reporter in ctx.story_partners
            and partner is None
            and not named_partner
            and not world
            and not in_clause_partner(body, clause, index, reporter)
        ):
            # "China's exports rose 5.9%" after Russia's exports to China: its trade with the world or
            # its side of the story's trade, which the words alone do not tell
            continue
        if reporter is None or (partner is None and not world):
            same_paragraph = previous is not None and previous.paragraph == sent.paragraph
            # "exports to other European Union countries": the trader is one of the bloc's members
            fellow = re.search(r"\b(?:other|fellow)\s(?:[A-Z][\w-]*\s){1,3}|\brest\sof\sthe\s", clause.text) is not None
            reporter, partner, carried = _carry(
                reporter, partner, flow, previous, country_of, same_paragraph, members_trade=fellow
            )
            if carried:
                inferred.append(carried)
                rule += "+carried"
                # "Exports increased 6.1 percent": the sides of a world figure before it
                world = partner is None and previous is not None and previous.partner is None and not directed
            if abroad:
                partner, world = None, reporter is not None
        if reporter is None or reporter == partner or (partner is None and not world):
            continue
        start_of = anchors[n - 1].start if n else clause.start
        status = _status(body[max(clause.start, start_of, anchor.start - 60) : anchor.start])
        if status == "actual" and re.search(
            r",\s(?!(?:[\w’'-]+\s){0,2}(?:than|as|previously|had|have|has|were|was|been|be)\s)"
            r"(?:[\w’'-]+\s){1,3}(?:estimate|estimates|estimated)(?:\s(?:on|in|last)\s[\w\s]{1,15})?[.\"”]*\s*$",
            body[anchor.start : sent.end],
        ):
            status = (
                "estimate"  # "..., bought around 12.4 million tonnes from all origins last year, traders estimate."
            )
        goal = _RESTATED_GOAL.search(body, anchor.start, sent.end) if status == "forecast" else None
        if goal is not None and not re.search(
            r"\d|\b(?:would|will|could|was|were|is|be|not)\b", body[goal.end() : sent.end]
        ):
            # the goal restated is the amount's own: it names no other amount, nor says what becomes of it
            status = "target"  # '"We will reach $375 billion in exports in 2028," ..., restating the target'
        period, why = _period_for(
            body, sent, clause, anchor, anchors, clause_periods, sent_periods, ctx, status, written
        )
        if period is None:
            if why == _FISCAL_PERIOD and status == "actual":
                # not drafted, still the story's sides; its period, a fiscal year's, is carried to none
                ctx.sides = _Sides(reporter, partner, sent.paragraph, sent.start, flow, country_of.get(reporter))
                ctx.figure, ctx.period = None, None
            continue
        if period.type == "month" and any(
            # (not a record's reach: "the highest monthly figure since the start of the invasion", "a level
            # not seen since")
            not re.search(
                r"\b(?:highest|lowest|biggest|largest|smallest|strongest|weakest|best|worst|first|most|least|seen)\b",
                body[max(clause.start, m.start() - 40) : m.start()],
            )
            for m in _RUNNING_TOTAL.finditer(body, clause.start, clause.end)
        ):
            # "Since the start of the marketing year on July 1, Ukraine has exported 32.7 million tonnes
            # ... as of the end of March": a total run up to the month, not the month's
            continue
        if why:
            inferred.append(why)
        if status == "actual" and published is not None and period.start > _published_end(published):
            status = "forecast"  # a period that had not begun at publication cannot be an outcome
        if (
            status in ("forecast", "target")
            and published is not None
            and period.inference is not None
            and (period.type in ("month", "quarter") or names_its_months(period))
            # a month long past (a survey of the month just ended forecasts that month's data)
            and (published.date - period.end).days > 62
        ):
            # "expect imports to stay around 1.6 million barrels a day through December", told in
            # November: a forecast's month without a year is the next one, not the one just past
            note = (
                f"{period.label!r} has no year; a forecast's is the next such period after publication "
                f"({published.date.isoformat()})"
            )
            period = dataclasses.replace(
                period,
                start=period.start.replace(year=period.start.year + 1),
                end=_month_last(period.end.year + 1, period.end.month),
                inference=note,
            )
            if why in inferred:
                inferred.remove(why)  # the past year it was given is not the figure's
        if status == "actual" and published is not None and period.end > _published_end(published):
            continue  # "so far in 2024": an outcome of a period still running; how much of it is not said
        if isinstance(anchor, numbers.Change):
            change: numbers.Change | None = anchor
        else:
            k = next((i for i, a in bound.items() if a == n), None)
            change = changes[k] if k is not None else None
        if (
            isinstance(anchor, numbers.Money)
            and anchor.currency == ctx.dollar
            # (an ISO 4217 code begins with its country's code: NZD, New Zealand's)
            and ctx.dollar[:2] not in (country_of.get(reporter), country_of.get(partner or ""))
        ):
            # "$" is the story's own dollar only in the story's country's trade ("China's imports of
            # Australian canola rose to $500 million" in a Canadian story is in US dollars)
            anchor = dataclasses.replace(anchor, currency="USD")
        if isinstance(anchor, numbers.Money) and ctx.peso is not None and anchor.currency == ctx.peso:
            # pesos are the trader's own where it counts in pesos ("Argentina's exports rose to 8 trillion
            # pesos" in a story from Santiago), else the story's country's
            traders_peso = numbers.PESO_OF.get(country_of.get(reporter) or "") or numbers.PESO_OF.get(
                country_of.get(partner or "") or ""
            )
            if traders_peso is not None:
                anchor = dataclasses.replace(anchor, currency=traders_peso)
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
            commodity=_commodity(body, kw, sent.start)
            or (_goods_after(body, anchor.end) if isinstance(anchor, numbers.Quantity) else None),
            inferred=inferred,
        )
        figures.append(fig)
        if fig.status == "actual" or ctx.figure is None:
            ctx.figure = fig  # the next amount of the clause may lean on this one
            ctx.sides = _Sides(
                fig.reporter, fig.partner, sent.paragraph, sent.start, fig.flow, country_of.get(fig.reporter)
            )
            if ctx.world_story is None and fig.status == "actual":
                ctx.world_story = fig.partner is None
            if fig.partner:
                ctx.story_partners.add(fig.partner)
    return figures


_LIST_GAP = re.compile(r",\s(?:and\s)?(?:the\s)?|,?\sand\s(?:the\s)?")


def _respective_figures(
    body: str,
    sent: Piece,
    clause: Piece,
    sent_kws: list[re.Match[str]],
    sent_periods: list[Period],
    index: PlaceIndex,
    published: Publication | None,
    ctx: _Context,
) -> list[DraftFigure]:
    """Return the figures of a clause that pairs a list of places with a list of amounts by
    "respectively" ("Trade with South Korea and Japan came to 14.1 billion yuan and 11.8 billion yuan
    respectively"): only when the places written one after another and the amounts are as many, the
    amounts end the list right before "respectively", and the places are all the same side of the
    clause's flow word; else none (a wrong pairing is worse than none)."""
    text = clause.text
    money = ctx.find_money(text, sent)
    amounts: list[numbers.Money | numbers.Quantity] = list(money)
    amounts += numbers.find_quantities(text, [(m.start, m.full_end) for m in money])
    amounts.sort(key=lambda a: a.start)
    if len(amounts) < 2 or any(
        not _LIST_GAP.fullmatch(text[amount_end(a) : b.start]) for a, b in itertools.pairwise(amounts)
    ):
        return []
    if not re.match(r",?\s(?:respectively)\b", text[amount_end(amounts[-1]) :]):
        return []
    if _not_traded(text, amounts[0].start):
        return []  # "rose by $5 billion and $3 billion respectively": differences; "deficits of": balances
    kws = [k for k in sent_kws if clause.start <= sent.start + k.start() < clause.start + amounts[0].start]
    if not kws:
        return []
    kw = kws[-1]
    refs = [r for r in index.within(sent.start + kw.end(), clause.start + amounts[0].start) if r.how != "demonym"]
    # the places written one after another, as a list ("South Korea and Japan", "the EU, Japan and India")
    run = refs[:1]
    for ref in refs[1:]:
        if _LIST_GAP.fullmatch(body[run[-1].end : ref.start]):
            run.append(ref)
        elif len(run) < len(amounts):
            run = [ref]
    if len(run) != len(amounts) or len({r.slug for r in run}) != len(run):
        return []
    word = kw.group("kw").lower()
    flow = flow_of(word, body[sent.start + kw.end() : sent.start + kw.end() + 40])
    reporter, partner, rule = parties(body, kw, sent.start, flow, index)
    first = run[0].slug
    listed = {r.slug for r in run}
    if partner == first and reporter is None and ctx.sides is not None and ctx.sides.reporter not in listed:
        reporter = ctx.sides.reporter  # "Trade with South Korea and Japan ..." in a story of Jilin's trade
        rule += "+carried"
    pairs: list[tuple[str, str | None]]
    if partner == first and reporter is not None:
        pairs = [(reporter, r.slug) for r in run]
    elif reporter == first and partner not in listed and (partner or not ctx.story_partners):
        # "Exports from Jilin and Liaoning to Russia reached ...", or with the world in a story of it
        pairs = [(r.slug, partner) for r in run]
    else:
        return []
    status = _status(body[clause.start : clause.start + amounts[0].start])
    anchors: list[numbers.Money | numbers.Quantity | numbers.Change] = [
        _shift(a, clause.start)
        if isinstance(a, numbers.Money)
        else dataclasses.replace(a, start=a.start + clause.start, end=a.end + clause.start)
        for a in amounts
    ]
    clause_periods = [p for p in sent_periods if clause.start <= p.at < clause.end]
    figures = []
    for (rep, par), anchor in zip(pairs, anchors, strict=True):
        period, why = _period_for(body, sent, clause, anchor, anchors, clause_periods, sent_periods, ctx, status)
        if period is None or (status == "actual" and published is not None and period.end > _published_end(published)):
            return []
        figures.append(
            DraftFigure(
                reporter=rep,
                partner=par,
                flow=flow,
                period=period,
                evidence=[_quote(clause)],
                money=anchor if isinstance(anchor, numbers.Money) else None,
                quantity=anchor if isinstance(anchor, numbers.Quantity) else None,
                status=status,
                rule=f"flow:{word}; sides:{rule}+respectively; period:{'inferred' if why else 'stated'}",
                confidence=0.65 if why else 0.75,
                commodity=_commodity(body, kw, sent.start),
                inferred=[why] if why else [],
            )
        )
    return figures


def _month_last(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _restates(
    headline: DraftFigure | None,
    flow: str,
    anchor: numbers.Money | numbers.Quantity | numbers.Change,
    bound: dict[int, int],
    changes: list[numbers.Change],
    n: int,
) -> bool:
    """Return whether an amount (or change) restates the headline's figure: the same flow and change."""
    if headline is None or headline.flow != flow or headline.change is None:
        return False
    if isinstance(anchor, numbers.Change):
        change: numbers.Change | None = anchor
    else:
        k = next((i for i, a in bound.items() if a == n), None)
        change = changes[k] if k is not None else None
    return change is not None and (change.pct, change.multiple) == (headline.change.pct, headline.change.multiple)


def in_clause_partner(body: str, clause: Piece, index: PlaceIndex, reporter: str) -> bool:
    """Return whether the clause names a place other than `reporter` after "to", "from" or "with"."""
    return any(
        r.slug != reporter and re.search(r"\b(?:to|from|with)\s(?:the\s)?$", body[max(0, r.start - 9) : r.start])
        for r in index.within(clause.start, clause.end)
    )


def _is_country(index: PlaceIndex, slug: str) -> bool:
    return any(r.slug == slug and r.kind == "country" for r in index.refs)


def previous_reporter_country(ctx: _Context) -> str | None:
    """Return the country of the story's previous reporter ("" when the story has none yet)."""
    return ctx.sides.country if ctx.sides is not None else None


def _quote(clause: Piece) -> Piece:
    text = clause.text
    lead = len(text) - len(text.lstrip("\"“‘' "))
    text = text[lead:].rstrip("\"”’' ,.")
    return Piece(text, clause.start + lead, clause.paragraph)


def _carry(
    reporter: str | None,
    partner: str | None,
    flow: str,
    previous: _Sides | None,
    country_of: dict[str, str | None],
    same_paragraph: bool,
    *,
    members_trade: bool = False,
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
    members = frozenset() if members_trade else BLOC_MEMBERS.get(known or "", frozenset())
    if country_of.get(other[0]) in members:
        # a member of the bloc the clause names does not trade with it from outside ("exports to the EU"
        # after "Germany alone bought ..."), and the other side of the story is no trader of this flow
        return reporter, partner, None
    if reporter is None:
        return other[0], partner, why
    return reporter, other[0], why


_FISCAL_PERIOD = "a period of a fiscal year"
_ASIDE = re.compile(
    r"\s*(?:As\s(?:was\s|previously\s|earlier\s)?reported|As\snoted|Previously|Earlier|For\scomparison|"
    r"By\scomparison|In\scomparison)\b",
)


def _period_for(
    body: str,
    sent: Piece,
    clause: Piece,
    anchor: numbers.Money | numbers.Quantity | numbers.Change,
    anchors: list[numbers.Money | numbers.Quantity | numbers.Change],
    clause_periods: list[Period],
    sent_periods: list[Period],
    ctx: _Context,
    status: str,
    written: tuple[int, ...] = (),
) -> tuple[Period | None, str | None]:
    """Return the period of one amount and, when carried, why.

    In its clause, the period right after the amount (before the next amount) wins: "$70 billion
    in 2024 ... $65.7 billion last year"; else the last one before it. A running year ("this
    year") counts only for a forecast or target. With none written, a back-reference ("over the
    same period") or silence takes the story's previous period."""
    usable = [p for p in sent_periods if not p.running or status != "actual"]
    in_clause = [p for p in clause_periods if p in usable]
    end = amount_end(anchor) if not isinstance(anchor, numbers.Change) else anchor.end
    # the next amount written, an anchor or not: "more than doubled to $8.4 billion, up from $3.5 billion
    # in 2021" (the year after the base is the base's)
    nxt = min((a for a in [*(a.start for a in anchors), *written] if a > anchor.start), default=clause.end)
    # (not past a clause of its own: "..., as factories recovered from the unrest that disrupted
    # production in September")
    after = [
        p
        for p in in_clause
        if end <= p.at < nxt
        and not re.search(r",\s(?:as|after|because|since|when|which|while|but|though|although)\b", body[end : p.at])
    ]
    before = [p for p in in_clause if p.at < anchor.start]
    if FISCAL.search(body, clause.start, clause.end):
        # a fiscal year's months are the country's: not resolved, nor taken from elsewhere, unless
        # written out ("in the first seven months (July-January) of the current fiscal year")
        named = [p for p in [*after, *before] if names_its_months(p)]
        if named:
            return named[0], named[0].inference
        return None, _FISCAL_PERIOD
    if after:
        return after[0], after[0].inference
    if before:
        return before[-1], before[-1].inference
    if FISCAL.search(body, sent.start, sent.end):
        return None, _FISCAL_PERIOD
    # (in the clause, or opening the sentence before it: "In the fourth quarter alone, shipments reached")
    if any(clause.start <= at < clause.end or sent.start <= at < clause.start for at in ctx.unresolved):
        return None, None  # "in September" with no year to give it: not the previous statement's period
    if status != "actual" and not sent_periods:
        return None, None  # a pledge or a forecast without its date: not the period of the story's outcomes
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


_AFTER_WHAT = (
    r"to|from|in|via|through|by|rose|fell|grew|amounted|reached|totall?ed|stood|were|was|jumped|surged|climbed|"
    r"dropped|declined|increased|decreased|hit|exceeded|topped|came|slipped|slid|soared|plunged|doubled|tripled|"
    r"rebounded|recovered|edged|accounted"
)


def _commodity(body: str, kw: re.Match[str], base: int) -> str | None:
    """Return what a flow word says it carries: "exports of crude oil to", "purchases of Russian wheat
    amounted" (the origin's adjective left out), or the goods named just before it ("jewellery exports")."""
    m = re.match(
        r"\sof\s(?P<origin>[A-Z][\w’'-]+\s)?(?P<what>[a-z][a-z ,-]{2,60}?)(?=\s?\[|\s(?:" + _AFTER_WHAT + r"|,)\b|,)",
        body[base + kw.end() : base + kw.end() + 90],
    )
    what = m.group("what").strip() if m else ""
    first = what.split(" ", 1)[0]
    # "of the region", "of its partners", "of goods": not what is carried; after a name ("of Russian
    # soybeans", "of Russia rose", "of Chinese origin") only goods of the list
    if (
        m
        and not re.search(r"^(?:the|a|an|its|their|this|these|those|all)\b|\bthe$", what)
        and what not in ("goods", "products")
        and not re.fullmatch(_AFTER_WHAT, first)
        and (m.group("origin") is None or first in COMMODITY_WORDS)
    ):
        return what
    return _commodity_before(body[base : base + kw.start()], at_sentence_start=True)


def _goods_after(body: str, end: int) -> str | None:
    """Return the goods a quantity is of: "83.7 million tonnes of coal", "9.1 million tonnes of Russian wheat"."""
    m = re.match(r"\sof\s(?:[A-Z][\w’'-]+\s)?(?P<what>[a-z][a-z-]*(?:\s[a-z][a-z-]*){0,3})", body[end : end + 80])
    if m is None:
        return None
    taken: list[str] = []
    for word in m.group("what").split():  # the goods of the list, and the words joining them ("oil and gas")
        if word in COMMODITY_WORDS or (taken and word == "and"):
            taken.append(word)
        else:
            break
    while taken and taken[-1] == "and":
        taken.pop()
    return " ".join(taken) or None


# Goods a flow word may be qualified by ("oil exports", "car exports", "agricultural exports"): words
# of manner or scale ("strong exports", "total exports") are not goods, so only these are read.
COMMODITY_WORDS = frozenset(
    """oil crude gas lng lpg coal coke grain grains wheat barley corn maize rice soybean soybeans soy sunflower
    rapeseed vegetable vegetables fruit fruits meat beef pork poultry chicken fish seafood dairy milk sugar tea
    coffee cocoa timber wood lumber pulp paper steel iron ore copper aluminium aluminum nickel zinc gold silver
    platinum palladium diamond diamonds jewellery jewelry gem gems fertiliser fertilisers fertilizer fertilizers
    potash chemical chemicals petrochemical petrochemicals plastic plastics rubber textile textiles garment
    garments apparel clothing footwear shoe shoes furniture toy toys electronics electronic electrical machinery
    equipment machine machines tool tools car cars vehicle vehicles auto autos automobile automobiles truck
    trucks tractor tractors motorcycle motorcycles engine engines semiconductor semiconductors chip chips
    smartphone smartphones phone phones computer computers solar battery batteries pharmaceutical
    pharmaceuticals drug drugs medicine medicines medical arms weapons weapon military defence defense energy
    fuel fuels petroleum diesel gasoline petrol kerosene uranium nuclear agricultural agri-food agrifood farm
    food foods foodstuff foodstuffs aircraft ship ships wine vodka beverage beverages tobacco cotton wool
    leather cement glass mineral minerals metal metals hydrocarbon hydrocarbons service
    services""".split()  # noqa: SIM905
)


def _commodity_before(before: str, *, at_sentence_start: bool) -> str | None:
    """Return the goods named just before a flow word in `before` (the sentence up to it): "crude oil",
    "non-oil", "oil and gas"; None when the words there are not goods."""
    tokens = re.findall(r"[\w’'-]+|[^\w\s]", before)
    taken: list[str] = []
    for i in range(len(tokens) - 1, -1, -1):
        word = tokens[i]
        lower = word.lower()
        # the sentence's first word, or the first after a dateline's dash ("MOSCOW (Reuters) - Oil ...")
        first = at_sentence_start and (i == 0 or tokens[i - 1] in ("-", "–", "—", ":", '"', "“"))
        if word[:1].isupper() and not first and not word.isupper():
            break  # a name ("Rosneft Oil"): not goods
        # "non-oil", not "non-EU" or "non-CIS" (not goods: places)
        goods = lower in COMMODITY_WORDS or re.fullmatch(r"[Nn]on-[a-z]+", word) is not None
        if goods or (taken and lower in ("and", "&")):
            taken.append(word)
            continue
        break
    while taken and taken[-1].lower() in ("and", "&"):
        taken.pop()
    if not taken:
        return None
    phrase = " ".join(reversed(taken))
    return phrase[:1].lower() + phrase[1:] if not phrase.isupper() else phrase


def _shift(money: numbers.Money, by: int) -> numbers.Money:
    conv = _shift(money.conversion, by) if money.conversion is not None else None
    return dataclasses.replace(money, start=money.start + by, end=money.end + by, conversion=conv)
