"""Every way a text points at a place, for the sides of a trade flow: names and aliases (from
the gazetteer), adjectives ("Chinese", "Russian regions") and back-references ("the province"
is the last province named before it).
"""

from __future__ import annotations

import dataclasses
import re

from app.draft.gazetteer import DEMONYMS, Hit

_BACK_REFERENCE = re.compile(
    r"\b[Tt]he\s(?:(?:North|South|West|East|Central|Southeast|Gulf|Arab|Nordic|Scandinavian|European|African|"
    r"Asian|Middle\sEastern|oil-rich|Andean|Balkan)\s(?:African\s|Asian\s|American\s|European\s)?)?"
    r"(?P<noun>province|region|country|city|port|municipality|oblast|krai|bloc|kingdom|emirate|sultanate)"
    r"(?=[’'](?:s)\b|\b)"
)
_FLOW_NOUN = re.compile(r"\b(?:exports?|imports?|sales|shipments|trade|purchases|supplies|deliveries)\b")
# countries news calls "the kingdom", "the emirate", "the sultanate" (ISO 3166-1 codes)
_MONARCHIES = {
    "kingdom": {"SA", "MA", "ES", "GB", "NL", "BE", "SE", "NO", "DK", "TH", "JO", "BH", "KH", "BT", "SZ", "LS", "TO"},
    "emirate": {"QA", "KW", "AE"},
    "sultanate": {"OM", "BN"},
}
_NOUN_KINDS = {
    "province": ("province",),
    "oblast": ("province",),
    "krai": ("province",),
    "region": ("province", "macro-region"),
    "country": ("country",),
    "city": ("city", "port"),
    "port": ("port", "city"),
    "municipality": ("city",),
    "bloc": ("macro-region",),  # "imports from the bloc": the European Union named before
    "kingdom": ("country",),
    "emirate": ("country",),
    "sultanate": ("country",),
}
_SPECIFIC = {"town": 0, "port": 0, "city": 0, "province": 1, "macro-region": 2, "country": 3}


@dataclasses.dataclass(frozen=True)
class PlaceRef:
    slug: str
    start: int
    end: int
    how: str  # name | alias | demonym | back-reference | candidate | capital-for-country
    kind: str  # the place's kind
    country: str | None  # its ISO country code


@dataclasses.dataclass
class PlaceIndex:
    """The place references of one article, in text order."""

    refs: list[PlaceRef]

    def within(self, start: int, end: int) -> list[PlaceRef]:
        """Return the references inside [start, end)."""
        return [r for r in self.refs if start <= r.start and r.end <= end]

    def specificity(self, ref: PlaceRef) -> int:
        """Return 0 for a city, 1 a province, 2 a macro-region, 3 a country."""
        return _SPECIFIC.get(ref.kind, 3)


def build_index(
    body: str,
    hits: list[Hit],
    kinds: dict[str, tuple[str, str | None]],
    demonym_slug: dict[str, str],
    skip: list[tuple[int, int]],
    dateline_at: int | None = None,
) -> PlaceIndex:
    """Return the place references of `body`.

    `kinds` gives each known place slug its (kind, country code); `demonym_slug` maps an ISO
    country code to the slug used for it (registry or proposed)."""
    refs = [
        PlaceRef(h.slug, h.start, h.end, h.how, *kinds.get(h.slug, ("country", None)))
        for h in hits
        if h.kind == "place"
    ]
    taken = [(r.start, r.end) for r in refs]
    names = sorted(DEMONYMS, key=len, reverse=True)
    # "Russian-Chinese trade": the second adjective of a pair follows a hyphen
    for m in re.finditer(r"(?<![\w])(?:" + "|".join(map(re.escape, names)) + r")(?![\w])", body):
        code = DEMONYMS[m.group(0)]
        if code in demonym_slug and not any(s < m.end() and m.start() < e for s, e in [*taken, *skip]):
            refs.append(PlaceRef(demonym_slug[code], m.start(), m.end(), "demonym", "country", code))
    refs.sort(key=lambda r: r.start)
    out = list(refs)
    for m in _BACK_REFERENCE.finditer(body):
        noun = m.group("noun")
        wanted = _NOUN_KINDS[noun]
        # a back-reference may point at one resolved before it ("the kingdom's exports ..." then
        # "Automotive exports, the country's main export sector")
        before = [
            r
            for r in sorted(out, key=lambda r: r.start)
            if r.end <= m.start()
            and r.kind in wanted
            and r.how != "demonym"
            and (noun not in _MONARCHIES or r.country in _MONARCHIES[noun])
            # "Spain's sales to the kingdom": the owner of the flow is not what it points at
            and not (
                re.match(r"[’']s\s", body[r.end : r.end + 3])
                and _FLOW_NOUN.search(body, r.end, m.start())
                and not re.search(r"[.!?]", body[r.end : m.start()])
            )
        ]
        if noun in _MONARCHIES:
            # "the kingdom" is the story's trader: the last one named as trading ("Saudi Arabia's crude
            # exports fell ... The kingdom's exports to China"), else the dateline's ("RIYADH"), else
            # the first named
            traders = [r for r in before if re.match(r"[’']s\s(?:[\w-]+\s){0,3}" + _FLOW_NOUN.pattern, body[r.end :])]
            home = next((r.country for r in refs if r.start == dateline_at), None)
            if not traders and home in _MONARCHIES[noun] and home in demonym_slug:
                out.append(PlaceRef(demonym_slug[home], m.start(), m.end(), "back-reference", "country", home))
                continue
            before = traders[-1:] or before[:1]
        if noun == "country" and before:
            sentence_start = max(body.rfind(". ", 0, m.start()), body.rfind("\n", 0, m.start()))
            # "South African Revenue Service figures show the country exported": a country named in the
            # sentence, by its adjective too, and not as the owner of a flow
            near = [
                r
                for r in refs
                if sentence_start < r.start
                and r.end <= m.start()
                and r.kind == "country"
                and not re.match(r"(?:[’']s)?\s(?:[\w-]+\s){0,2}" + _FLOW_NOUN.pattern, body[r.end :])
                # an adjective only in a name ("South African Revenue Service"), not "Chinese demand"
                and (r.how != "demonym" or re.match(r"\s[A-Z]", body[r.end :]))
            ]
            last = before[-1]
            traders = [r for r in before if re.match(r"[’']s\s(?:[\w-]+\s){0,3}" + _FLOW_NOUN.pattern, body[r.end :])]
            if near:
                before = near[-1:]
            elif (
                re.search(r"\b(?:to|from|with|into)\s(?:the\s)?$", body[max(0, last.start - 10) : last.start])
                and traders
            ):
                # "India's gold imports rose ... Imports from Switzerland rose ... the country imported 795
                # tonnes": a country named last only as a partner is not the story's trader
                before = traders[-1:]
        if before:
            last = before[-1]
            out.append(PlaceRef(last.slug, m.start(), m.end(), "back-reference", last.kind, last.country))
    out.sort(key=lambda r: r.start)
    return PlaceIndex(out)
