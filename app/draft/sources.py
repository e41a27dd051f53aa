"""Who a drafted figure comes from: an organisation its own sentence attributes it to.

"..., according to the data by Chinese General Administration of Customs", "China's customs
data showed ...", "Rosstat said on Monday": the organisation named so in the sentence that holds
the figure is its `source`. An organisation merely named in that sentence (a company trading,
a ministry meeting, "a level the ministry said was too low") is none; nor is one named in another
sentence, nor one found only by a weak alias (a common word such as "customs", which names
another country's office as well). A person the registry places in an organisation, telling the
figure, names that organisation. The rest of one release carries its source (see `sources`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

from app.draft.gazetteer import Hit
from app.draft.text import Piece

# verbs by which a source tells a figure ("X said", "X calculated"; "put" only after its data:
# "X data put trade at")
_SAYS = (
    r"said|says|showed|shows|show|reported|reports|announced|announces|published|publishes|released|releases"
    r"|estimated|estimates|estimate|calculated|calculates|computed|compiled|counted|reckoned|revealed|reveals"
    r"|told|added|adds|expects|expected|forecast|forecasts|projected|projects"
)
_DATA = r"(?:data|figures|statistics|numbers)"
# the words just before the organisation's name: it is what the figure is attributed to
_BEFORE = re.compile(
    r"\b(?:according\s+to|citing|cited\s+by|reported\s+by|compiled\s+by|released\s+by|published\s+by"
    r"|estimates?\s+(?:by|from|of)|calculations?\s+(?:by|of)"
    rf"|{_DATA}\s+(?:from|by|of|released\s+by|published\s+by|compiled\s+by))"
    r"(?:\s+(?:the|latest|newest|recent|new|official|preliminary|monthly|quarterly|annual))*"
    rf"(?:\s+{_DATA}\s+(?:from|by|of)(?:\s+the)?)?"
    r"(?:\s+(?-i:[A-Z][\w.-]*)(?:'s|’s))?\s+$",  # "according to Russia's Federal Customs Service"
    re.IGNORECASE,
)
# the words just after it: the organisation tells ("said", "data showed", "data put"), not "added to"
_TELL = (
    r"^(?:\s*\((?-i:[A-Z][A-Za-z.]{1,11})\))?(?:'s?|’s?)?(?:\s+(?:latest|official|preliminary|monthly|quarterly|annual))?"
    rf"(?:\s+{_DATA}\s+(?:{_SAYS}|put|puts)|\s+(?:{_SAYS}))\b(?!\s+to\b)"
)
_AFTER = re.compile(_TELL, re.IGNORECASE)
# ... and, after the figure, closing its clause: "..., the customs said (on Sunday | in a statement)."
# ("a level the ministry said was too low" tells no figure)
_ADJUNCT = (
    r"(?:\s+(?:(?:on|in|at|during|late|early|last|this|earlier|later)(?:\s+[\w’'-]+){1,3}"
    r"|separately|reporters|journalists|(?-i:[A-Z][\w.-]*)))"  # "told Sputnik"
)
_CLOSES = re.compile(_TELL + _ADJUNCT + r"{0,2}\s*(?:[.,;:]|$)", re.IGNORECASE)
# before it, when it precedes the figure: not a clause of its own ("after the customs said in March
# it would tighten checks, exports fell ...")
_SUBORDINATE = re.compile(
    r"\b(?:after|before|since|when|as|because|while|although|though|until|once|if|unless)(?:\s+the)?\s+$",
    re.IGNORECASE,
)
# a figure's own sentence pointing back at the data told before ("..., the data showed")
_BACK = re.compile(
    rf"\b(?:the|these|those|same|customs)\s+{_DATA}\s+(?:showed|shows|show)\b"
    rf"|\baccording\s+to\s+the\s+(?:same\s+)?{_DATA}\b",
    re.IGNORECASE,
)
# a figure's own sentence telling some source ("the country's statistics agency said", "according
# to ship-tracking data", "Kpler calculated"): not the source told before, which it ends
_OTHER = re.compile(rf"\b(?:according\s+to|citing|{_DATA}\s+from|estimates?\s+by|{_SAYS})\b", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class Told:
    """A figure's number: where it is, the sentence holding it, its period, whether it is an
    outcome, and the ISO code of its reporter's country (if known)."""

    at: int
    sentence: Piece | None
    period: tuple[object, object]
    actual: bool
    country: str | None
    # the countries a release of the figure could be of: its reporter's, and for total trade (whose
    # two sides are in no order) its partner's too
    countries: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True)
class Known:
    """What the registries say of who tells figures: a person's organisation, an organisation's country."""

    employer: Mapping[str, str]  # person slug -> organisation slug
    country: Mapping[str, str]  # organisation slug -> ISO country code


# "the ministry said": the one organisation of the story with that head noun
_DESCRIBED = re.compile(
    r"\b[Tt]he\s+(ministry|office|agency|bureau|service|administration|committee|commission|association"
    r"|department|council|company|corporation|group|bank|exchange|institute|chamber|union|authority)\b"
)


def _head(name: str) -> str:
    # the noun a name is of: "Ministry" of "Ministry of Trade", "Office" of "General Statistics Office"
    before_of = name.split(" of ", 1)[0].split()
    return before_of[-1].lower() if before_of else ""


def described(hits: Sequence[Hit], body: str) -> list[Hit]:
    """Return `hits` with each "the ministry" standing for the one organisation of the story with
    that head noun, named before it (as a hit of that organisation there); with two ministries
    named, "the ministry" is neither."""
    by_head: dict[str, set[str]] = {}
    ends: dict[str, list[int]] = {}
    for h in hits:
        if h.kind == "organisation" and not h.weak:
            head = _head(body[h.start : h.end])
            by_head.setdefault(head, set()).add(h.slug)
            ends.setdefault(head, []).append(h.end)
    first_end = {head: min(found) for head, found in ends.items()}
    out = list(hits)
    for m in _DESCRIBED.finditer(body):
        slugs = by_head.get(m.group(1), set())
        if len(slugs) == 1 and first_end[m.group(1)] <= m.start():
            out.append(Hit("organisation", next(iter(slugs)), m.start(), m.end(), how="back-reference"))
    return sorted(out, key=lambda h: h.start)


def sources(
    figures: Sequence[Told], hits: Sequence[Hit], body: str, known: Known
) -> list[tuple[str | None, str | None]]:
    """Return, for each figure, its source's slug (or None) and, when carried, how.

    A figure takes the organisation its own sentence attributes it to, or the one of the person
    it attributes it to ("..., Consul General Sergey Chernenko told Sputnik"). Without either, it
    takes the source told last before it in the story, as the rest of one release ("Exports
    increased 6.1 percent ..." after "..., the General Administration of Customs said"), when its
    reporter is of the source's country (the registry's, else that of a side of the figure it told
    first: Russia's customs release no Chinese figures) and its sentence points back at that data ("the
    data showed"), or it is an outcome of the same period and its sentence names no organisation
    and tells no other source. A sentence telling another source ends the carrying."""
    out: list[tuple[str | None, str | None]] = [(None, None)] * len(figures)
    hits = described(hits, body)
    quoted = _quotes(hits, body, known.employer)
    # the source told last, its figure's period, and its countries (the registry's, else that figure's sides')
    last: tuple[str, tuple[object, object], frozenset[str]] | None = None
    for i in sorted(range(len(figures)), key=lambda i: figures[i].at):
        f = figures[i]
        if f.sentence is None:
            continue
        text = body[f.sentence.start : f.sentence.end]
        own = _told_in(f, hits, body, known) or next((slug for start, end, slug in quoted if start <= f.at < end), None)
        if own is not None:
            out[i] = (own, None)
            registered = known.country.get(own)
            last = (own, f.period, frozenset({registered}) if registered else f.countries)
            continue
        if last is None:
            continue
        source, period, countries = last
        points_back = _BACK.search(text)
        tells_other = _OTHER.search(text) or _names_an_organisation(f.sentence, hits, source)
        if countries and f.country not in countries:
            if points_back or tells_other:
                last = None  # another country's data ("Kazakh customs data showed"): the release is over
        elif points_back:
            out[i] = (source, "its sentence points back at the data told before it")
        elif tells_other:
            last = None  # another source, unnamed: what follows is not the earlier release's
        elif f.actual and f.period == period:
            out[i] = (source, "told for the figure of the same period before it, and no other source since")
    return out


def _quotes(hits: Sequence[Hit], body: str, employer: Mapping[str, str]) -> list[tuple[int, int, str]]:
    """Return the quoted passages the story attributes to an organisation, as (start, end, its slug):
    '"At the end of 2023, trade reached ... 29.7 billion yuan," Chernenko said', over however many
    sentences the quote runs within its paragraph."""
    out = []
    for h in hits:
        if not ((h.kind == "organisation" and not h.weak) or (h.kind == "person" and h.slug in employer)):
            continue
        line_start = body.rfind("\n", 0, h.start) + 1
        line_end = body.find("\n", h.end)
        # '..., 29.7 billion yuan," Chernenko': the closing quote mark just before the name
        before = body[line_start : h.start].rstrip()
        before = before[:-1].rstrip() if before.endswith(",") else before
        if not before.endswith(('"', "”")):
            continue
        opening = max(before.rfind('"', 0, len(before) - 1), before.rfind("“", 0, len(before) - 1))
        if opening >= 0 and _CLOSES.match(body[h.end : line_end if line_end >= 0 else len(body)]):
            out.append(
                (line_start + opening, line_start + len(before), employer[h.slug] if h.kind == "person" else h.slug)
            )
    return out


def _names_an_organisation(sentence: Piece, hits: Sequence[Hit], source: str) -> bool:
    # an organisation other than the source in the sentence: a company trading, another office
    return any(
        h.kind == "organisation" and h.slug != source and sentence.start <= h.start and h.end <= sentence.end
        for h in hits
    )


def _told_in(f: Told, hits: Sequence[Hit], body: str, known: Known) -> str | None:
    """Return the slug of the organisation the sentence of `f` attributes its number to, if any."""
    assert f.sentence is not None
    start, end = f.sentence.start, f.sentence.end
    told = []
    for h in hits:
        if not (start <= h.start and h.end <= end):
            continue
        # a person by surname alone is weak, yet kept only when named in full elsewhere in the story
        if not ((h.kind == "organisation" and not h.weak) or (h.kind == "person" and h.slug in known.employer)):
            continue
        slug = known.employer[h.slug] if h.kind == "person" else h.slug
        if h.how == "back-reference" and known.country.get(slug, f.country) != f.country:
            continue  # "the administration said" of another country's figure: another administration
        before, after = body[start : h.start], body[h.end : end]
        if _BEFORE.search(before):
            told.append((h, slug))
        elif h.start > f.at:
            if _CLOSES.match(after):  # "..., the customs said on Sunday."
                told.append((h, slug))
        elif _says_what_follows(before, after, body[h.end : f.at]):
            told.append((h, slug))
    if not told:
        return None
    # several told in one sentence: the one nearest the figure's number
    return min(told, key=lambda t: min(abs(t[0].start - f.at), abs(t[0].end - f.at)))[1]


def _says_what_follows(before: str, after: str, to_figure: str) -> bool:
    # "Chernenko said exports ... reached $600 million": the figure in what it says, in the same
    # clause, and the name no subordinate clause's ("after the customs said in March ..., exports")
    m = _AFTER.match(after)
    return m is not None and not re.search(r"[,;]", to_figure[m.end() :]) and not _SUBORDINATE.search(before)
