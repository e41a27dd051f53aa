"""Every way a text points at a place, for the sides of a trade flow: names and aliases (from
the gazetteer), adjectives ("Chinese", "Russian regions") and back-references ("the province"
is the last province named before it).
"""

from __future__ import annotations

import dataclasses
import re

from app.draft.gazetteer import DEMONYMS, Hit

_BACK_REFERENCE = re.compile(
    r"\b[Tt]he\s(?P<noun>province|region|country|city|port|municipality|oblast|krai|bloc)(?=[’'](?:s)\b|\b)"
)
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
        wanted = _NOUN_KINDS[m.group("noun")]
        before = [r for r in refs if r.end <= m.start() and r.kind in wanted and r.how != "demonym"]
        if before:
            last = before[-1]
            out.append(PlaceRef(last.slug, m.start(), m.end(), "back-reference", last.kind, last.country))
    out.sort(key=lambda r: r.start)
    return PlaceIndex(out)
