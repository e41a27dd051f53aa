"""The sides of a trade figure: which words name a flow, and which places trade in it (its
reporter and its partner), read around a flow word (docs/extraction.md, rules 3 and 4)."""

from __future__ import annotations

import re

from app.draft.periods import MONTHS, WEEKDAYS
from app.draft.placerefs import PlaceIndex, PlaceRef
from app.draft.text import DATELINE_PREFIX, Piece, name_word_before

FLOW_WORDS = re.compile(
    r"\b(?P<kw>imports and exports|exports and imports|import and export|export and import|two-way trade|"
    r"bilateral trade|foreign trade turnover|foreign trade volume|foreign trade|trade turnover|trade volume|"
    r"total merchandise trade|merchandise trade|total trade|overall trade|external trade|"
    r"export turnover|import turnover|"
    r"turnover|trade|"
    r"outbound shipments|inbound shipments|shipments|re-exports|exports?|exported|imports?|imported|"
    # "sales to Russia dropped", "sales abroad": a country's sales are exports only when sent somewhere
    r"(?<!\barms\s)(?<!\bweapons\s)sales(?=\s(?:to\s(?:the\s)?(?-i:[A-Z])|abroad\b|overseas\b))|"
    r"supplies|deliveries|sold goods worth|purchases|supplied|shipped|delivered|sold|bought|purchased|traded)\b",
    re.IGNORECASE,
)
_NOT_FLOW_AFTER = re.compile(
    r"^\s(?:fair|expo|exhibition|delegation|ties|relations|partners?|war|talks|mission|officials?|policy|"
    r"and economic|zone|enterprises|companies|firms|potential|deals?|agreements?|barriers|centre|center|hub|"
    r"surplus(?:es)?|deficits?|balances?|gaps?|disputes?|restrictions|sanctions|routes?|corridors?|"
    # a policy on the flow, not the flow: "U.S. import tariffs", "Chinese export curbs", "export controls"
    r"tariffs?|controls?|curbs?|bans?|duties|quotas?|licen[cs]es?|taxes|levies|restrictions?)\b",
    re.I,
)


def flow_of(word: str, after: str) -> str:
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
        "total merchandise trade",
        "merchandise trade",
        "total trade",
        "overall trade",
        "external trade",
        "traded",
    ):
        return "total"
    if w.startswith(("import", "inbound", "purchase", "bought")):
        return "import"
    if w in ("shipments", "supplies", "deliveries") and re.match(r"^\s(?:of\s[\w\s]{0,30})?from\b", after):
        return "export"  # "supplies from X to Y": X is the exporter
    return "export"


def parties(
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
        # "Coal India sold", "China Shenhua Energy sold": a place in a company's name trades no flow
        in_name = last.how != "demonym" and (
            name_word_before(body, last.start) or re.match(r"\s[A-Z][\w-]*\s", body[last.end : k_start + 1])
        )
        if in_name and kw.group("kw").lower() in VERBS:
            pass
        elif (
            # ("Bangladesh's readymade garment (RMG) exports")
            re.fullmatch(r"[’']s\s(?:[a-z-]+\s){0,2}(?:\([A-Z][A-Za-z]{1,6}\)\s)?", gap)
            or (re.fullmatch(r"\s", gap) and not pair_before)
            or (adjective and not pair_before)
        ):
            reporter = last.slug
            how.append("possessive" if "s" in gap[:2] else "adjective")
            inner = _inside(body, before, index)
            if inner is not None:
                reporter = inner.slug  # "The Astrakhan region of Russia exported": the region
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
            # "between Russia's Primorsky Krai and China": the place inside the other
            return _narrowest(body, first, index).slug, _narrowest(body, second, index).slug, "between"
    for i, ref in enumerate(after_refs):
        nxt = after_refs[i + 1] if i + 1 < len(after_refs) else None
        if nxt is not None and re.fullmatch(r"[’']s\s", body[ref.end : nxt.start]):
            continue  # "of northeast China's Heilongjiang Province": the place it owns is the side
        prep = body[max(k_end, ref.start - 40) : ref.start]
        prep_m = re.search(r".*\b(to|from|with|into|of)\s(?:[\w’'-]+\s){0,4}$", prep, re.I | re.S)
        if prep_m is None:
            continue
        if re.search(r"\b(?:such\sas|including|like|notably|led\sby|among\sthem)\s", prep[prep_m.start(1) :]):
            continue  # "to non-traditional markets such as Japan, Australia and India": a group, not one side
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
        elif (
            word == "of"
            and flow != "import"
            and reporter is None
            and re.search(r"\sof\s(?:(?:[a-z]+\s)?[\w-]+[’']s\s)?$", prep)
        ):
            # "the total value of imports and exports of Jilin Province", "foreign trade turnover of X",
            # "exports of China to Russia"
            reporter = ref.slug
    rule = "-".join(how) or "prepositions"
    return reporter, partner, rule


def _narrowest(body: str, refs: list[PlaceRef], index: PlaceIndex) -> PlaceRef:
    """Return the first of `refs`, or the place written right inside it ("Russia's Primorsky Krai",
    "Guangxi in China", "the Astrakhan region of Russia"); a place merely named after it ("the
    United States and Mexico, mostly crossing at Laredo") is not."""
    first = refs[0]
    if len(refs) >= 2:
        second = refs[1]
        gap = body[first.end : second.start]
        inner, outer = (second, first) if re.fullmatch(r"[’']s\s", gap) else (first, second)
        if (re.fullmatch(r"[’']s\s", gap) or re.fullmatch(r"\s(?:of|in)\s", gap)) and index.specificity(
            inner
        ) < index.specificity(outer):
            return inner
    return first


def _inside(body: str, before: list[PlaceRef], index: PlaceIndex) -> PlaceRef | None:
    """Return the place written as inside the last of `before` ("the Astrakhan region of Russia",
    "Guangxi in China"), if a more specific place is."""
    if len(before) < 2:
        return None
    inner, outer = before[-2], before[-1]
    if re.fullmatch(r"\s(?:of|in)\s", body[inner.end : outer.start]) and index.specificity(inner) < index.specificity(
        outer
    ):
        return inner
    return None


def is_flow(body: str, kw: re.Match[str], base: int) -> bool:
    after = body[base + kw.end() : base + kw.end() + 25]
    if re.search(
        r"\b(?:deficit|surplus|shortfall|gap|imbalance)\s(?:in|of)\s(?:its\s|the\s)?$",
        body[max(0, base + kw.start() - 25) : base + kw.start()],
        re.I,
    ):
        return False  # "the shortfall in trade with Mexico": a balance, no flow
    if kw.group("kw").lower() == "traded" and re.match(
        r"\s(?:(?:at|around|near)\s(?:around\s|about\s|some\s)?[$€£¥]?\d[\d.,]*\s?(?:per|to|against|a)\b|flat\b|higher\b|lower\b)",
        body[base + kw.end() : base + kw.end() + 50],
    ):
        return False  # "the yen traded at around 151.6 to the dollar": a price, not goods traded
    return not _NOT_FLOW_AFTER.match(after)


_STOP_WORDS = {"while", "and", "but", "that", "which", "the", "a", "an", "of", "in", "on", "at", "for", "with", "from"}
_STOP_WORDS |= {"to", "its", "their", "his", "her", "as", "said", "whose", "whereas", "by"}


# a trader that is a business ("the company's exports", "the carmaker's sales abroad")
_BUSINESS = {
    "company", "firm", "group", "carmaker", "automaker", "maker", "producer", "miner", "exporter", "importer",
    "retailer", "manufacturer", "corporation", "conglomerate", "supplier", "trader", "airline", "shipper",
    "operator", "business", "brand", "plant", "factory",
}  # fmt: skip


def unknown_actor(body: str, sent: Piece, kw: re.Match[str], index: PlaceIndex) -> bool:
    """Return whether the words just before a flow word name someone who is not a place ("EU
    imports", "the European Union's imports", "Gazprom's exports", "the company's exports"), or
    "its"/"their" with no place before it in the sentence ("The company aims to lift its exports"),
    or the subject of a verb of trading that names no place and a business or a name ("Dangote
    Group, the conglomerate, sold 1.2 million tonnes of cement to Ghana")."""
    pos = sent.start + kw.start()
    if kw.group("kw").lower() in VERBS and not any(sent.start <= r.start and r.end <= pos for r in index.refs):
        before = body[sent.start : pos]
        words = re.findall(r"[\w’'-]+", before)
        names = [w for w in words[1:] if w[:1].isupper() and w.lower().rstrip(".") not in {*MONTHS, *WEEKDAYS}]
        if any(w.lower() in _BUSINESS for w in words) or names:
            return True
    for _ in range(3):
        m = re.search(r"(?:^|\s)([\w.’'-]+)\s$", body[max(sent.start, pos - 40) : pos])
        if m is None:
            return False
        word = m.group(1)
        start = pos - len(m.group(0)) + (1 if m.group(0)[0].isspace() else 0)
        if word.lower() in ("its", "their"):
            return not any(sent.start <= r.start and r.end <= start for r in index.refs)
        if word.lower() in _STOP_WORDS or word.lower().rstrip(".") in MONTHS:
            return False
        bare = re.sub(r"[’']s$", "", word)
        if bare.lower() in _BUSINESS:
            return True
        at_start = start == sent.start
        placed = any(r.start <= start < r.end for r in index.refs)
        # a capital opening the sentence is no name unless an acronym or a possessive
        if bare[:1].isupper() and not placed and (not at_start or bare.isupper() or bare != word):
            return True
        pos = start
    return False


VERBS = ("exported", "imported", "supplied", "shipped", "delivered", "sold", "bought", "purchased", "sold goods worth")


def partner_after(body: str, start: int, end: int, flow: str, index: PlaceIndex) -> str | None:
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


def sentence_subject(
    body: str,
    sent: Piece,
    kw: re.Match[str],
    index: PlaceIndex,
    partner: str | None,
    country_of: dict[str, str | None],
    *,
    strict: bool = False,
) -> str | None:
    """Return the place a sentence opens with, when it acts in the flow: "Russia's Primorsky Krai
    handled 1.2 million tonnes of coal exports to Japan", "Heilongjiang province reported imports
    from Russia" (the last name of the opening chain of names)."""
    k_start = sent.start + kw.start()
    opening = None
    # the sentence's opening, after a dateline ("MOSCOW, March 3 (Reuters) - ")
    dateline = DATELINE_PREFIX.match(sent.text)
    begin = sent.start + (dateline.end() if dateline else 0)
    before_kw = index.within(begin, k_start)
    for ref in before_kw:
        lead = body[begin : ref.start]
        if re.fullmatch(r"(?:(?:[A-Z][\w.-]*|[Tt]he|of)(?:[’']s)?\s|[’']s\s)*", lead) and ref.how != "demonym":
            opening = ref
        else:
            break
    if before_kw and before_kw[-1].how == "back-reference" and re.fullmatch(r"\s", body[before_kw[-1].end : k_start]):
        opening = before_kw[-1]  # "... figures show the country exported": the place pointed back at acts
    if opening is None or opening.slug == partner:
        return None
    if re.match(
        r"[’']s\s(?:[A-Z][\w-]*\s){1,3}(?:region|oblast|krai|province|state|republic|territory|district|county)\b",
        body[opening.end : opening.end + 50],
        re.I,
    ):
        return None  # "Russia's Nizhny Novgorod region exported": the subject is the place it owns
    adjacent_back_reference = opening.how == "back-reference" and re.fullmatch(r"\s", body[opening.end : k_start])
    if (
        strict
        and not adjacent_back_reference
        and (
            not re.fullmatch(r"(?:[Tt]he\s)?", body[begin : opening.start])
            or re.match(r"\s(?-i:[A-Z])|[’']s\s(?-i:[A-Z])", body[opening.end : opening.end + 3])
        )
    ):
        # with no partner, only a place that opens the sentence alone ("Egypt, the world's biggest
        # importer, bought"); "China Shenhua Energy sold", "Coal India sold" are companies
        return None
    if (
        partner is not None
        and country_of.get(opening.slug) is not None
        and country_of.get(opening.slug) == country_of.get(partner)
    ):
        return None
    return opening.slug
