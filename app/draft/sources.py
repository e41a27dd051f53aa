"""Who a drafted figure comes from: an organisation its own sentence attributes it to.

"..., according to the data by Chinese General Administration of Customs", "China's customs
data showed ...", "Rosstat said on Monday": the organisation named so in the sentence that holds
the figure is its `source`. An organisation merely named in that sentence (a company trading,
a ministry meeting) is none; nor is one named in another sentence, nor one found only by a weak
alias (a common word such as "customs", which names another country's office as well). A person
the registry places in an organisation, telling the figure, names that organisation. The rest
of one release carries its source (see `sources`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

from app.draft.gazetteer import Hit
from app.draft.text import Piece

# verbs by which a source tells a figure ("X said", "X data put trade at", "X calculated")
_TELLS = (
    r"said|says|showed|shows|show|reported|reports|announced|announces|published|publishes|released|releases"
    r"|estimated|estimates|estimate|calculated|calculates|computed|compiled|counted|reckoned|revealed|reveals"
    r"|told|added|adds|put|puts|expects|expected|forecast|forecasts|projected|projects"
)
# the words just before the organisation's name: it is what the figure is attributed to
_BEFORE = re.compile(
    r"\b(?:according\s+to|citing|cited\s+by|reported\s+by|compiled\s+by|released\s+by|published\s+by"
    r"|estimates?\s+(?:by|from|of)|calculations?\s+(?:by|of)"
    r"|(?:data|figures|statistics|numbers)\s+(?:from|by|of|released\s+by|published\s+by|compiled\s+by))"
    r"(?:\s+(?:the|latest|newest|recent|new|official|preliminary|monthly|quarterly|annual))*"
    r"(?:\s+(?:data|figures|statistics)\s+(?:from|by|of)(?:\s+the)?)?"
    r"(?:\s+[A-Z][\w.-]*(?:'s|’s))?\s+$",  # "according to Russia's Federal Customs Service"
    re.IGNORECASE,
)
# the words just after it: the organisation tells the figure ("said", "data showed")
_AFTER = re.compile(
    r"^(?:\s*\([A-Z][A-Za-z.]{1,11}\))?(?:'s?|’s?)?"
    r"(?:\s+(?:latest|official|preliminary|monthly|quarterly|annual))?"
    r"(?:\s+(?:data|figures|statistics|numbers))?"
    rf"\s+(?:{_TELLS})\b",
    re.IGNORECASE,
)
# a figure's own sentence pointing back at the data told before ("..., the data showed")
_BACK = re.compile(
    r"\b(?:the|these|those|customs|official|same)\s+(?:data|figures|statistics)\s+(?:showed|shows|show)\b"
    r"|\baccording\s+to\s+the\s+(?:same\s+)?(?:data|figures|statistics)\b",
    re.IGNORECASE,
)
# a figure's own sentence telling some source ("the country's statistics agency said", "according
# to ship-tracking data", "Kpler calculated"): not the source told before, which it ends
_OTHER = re.compile(
    rf"\b(?:according\s+to|citing|data\s+from|figures\s+from|estimates?\s+by|{_TELLS})\b", re.IGNORECASE
)


@dataclasses.dataclass(frozen=True)
class Told:
    """A figure's number: where it is, the sentence holding it, its period, whether it is an
    outcome, and the ISO code of its reporter's country (if known)."""

    at: int
    sentence: Piece | None
    period: tuple[object, object]
    actual: bool
    country: str | None


@dataclasses.dataclass(frozen=True)
class Known:
    """What the registries say of who tells figures: a person's organisation, an organisation's country."""

    employer: Mapping[str, str]  # person slug -> organisation slug
    country: Mapping[str, str]  # organisation slug -> ISO country code


# "the ministry said": an organisation named before, by the head noun of its name
_DESCRIBED = re.compile(
    r"\b[Tt]he\s+(ministry|office|agency|bureau|service|administration|committee|commission|association"
    r"|department|council|company|corporation|group|bank|exchange|institute|chamber|union|authority)\b"
)


def _head(name: str) -> str:
    # the noun a name is of: "Ministry" of "Ministry of Trade", "Office" of "General Statistics Office"
    before_of = name.split(" of ", 1)[0].split()
    return before_of[-1].lower() if before_of else ""


def described(hits: Sequence[Hit], body: str) -> list[Hit]:
    """Return `hits` with each "the ministry" that stands for the organisation of that head noun named
    last before it (as a hit of that organisation there)."""
    named = [h for h in hits if h.kind == "organisation" and not h.weak]
    out = list(hits)
    for m in _DESCRIBED.finditer(body):
        before = [h for h in named if h.end <= m.start() and _head(body[h.start : h.end]) == m.group(1)]
        if before:
            out.append(Hit("organisation", before[-1].slug, m.start(), m.end(), how="back-reference"))
    return sorted(out, key=lambda h: h.start)


def sources(
    figures: Sequence[Told], hits: Sequence[Hit], body: str, known: Known
) -> list[tuple[str | None, str | None]]:
    """Return, for each figure, its source's slug (or None) and, when carried, how.

    A figure takes the organisation its own sentence attributes it to, or the one of the person
    it attributes it to ("..., Consul General Sergey Chernenko told Sputnik"). Without either, it
    takes the source told last before it in the story, as the rest of one release ("Exports
    increased 6.1 percent ..." after "..., the General Administration of Customs said"): when its
    sentence points back at that data ("the data showed"), or when it is an outcome of the same
    period, its sentence names no organisation and tells no other source, and its reporter is of
    the source's country (the registry's, else that of the figure it told first: Russia's customs
    release no Chinese figures). A sentence telling another
    source that cannot be named ends the carrying. "The ministry said" is the ministry named last
    before it."""
    out: list[tuple[str | None, str | None]] = [(None, None)] * len(figures)
    hits = described(hits, body)
    quoted = _quotes(hits, body, known.employer)
    # the source told last, its figure's period, and its country (the registry's, else that figure's reporter's)
    last: tuple[str, tuple[object, object], str | None] | None = None
    for i in sorted(range(len(figures)), key=lambda i: figures[i].at):
        f = figures[i]
        if f.sentence is None:
            continue
        text = body[f.sentence.start : f.sentence.end]
        own = _told_in(f.sentence, f.at, hits, body, known.employer) or next(
            (slug for start, end, slug in quoted if start <= f.at < end), None
        )
        if own is not None:
            out[i] = (own, None)
            last = (own, f.period, known.country.get(own, f.country))
            continue
        if last is None:
            continue
        source, period, country = last
        if _BACK.search(text):
            out[i] = (source, "its sentence points back at the data told before it")
        elif _OTHER.search(text) or _names_an_organisation(f.sentence, hits, source):
            last = None  # another source, unnamed: what follows is not the earlier release's
        elif f.actual and f.period == period and country in (None, f.country):
            out[i] = (source, "told for the figure of the same period before it, and no other source since")
    return out


# a quoted passage that ends right before a name: '"... 29.7 billion yuan," Chernenko said'
_QUOTE_BEFORE = re.compile(r"[“\"][^\"“”\n]+[\"”]\s*,?\s*$")


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
        quote = _QUOTE_BEFORE.search(body, line_start, h.start)
        if quote is not None and _AFTER.match(body[h.end : line_end if line_end >= 0 else len(body)]):
            out.append((quote.start(), quote.end(), employer[h.slug] if h.kind == "person" else h.slug))
    return out


def _names_an_organisation(sentence: Piece, hits: Sequence[Hit], source: str) -> bool:
    # an organisation other than the source in the sentence: a company trading, another office
    return any(
        h.kind == "organisation" and h.slug != source and sentence.start <= h.start and h.end <= sentence.end
        for h in hits
    )


def _told_in(sentence: Piece, at: int, hits: Sequence[Hit], body: str, employer: Mapping[str, str]) -> str | None:
    """Return the slug of the organisation `sentence` attributes its number at `at` to, if any."""
    told = [
        h
        for h in hits
        # a person by surname alone is weak, yet kept only when named in full elsewhere in the story
        if ((h.kind == "organisation" and not h.weak) or (h.kind == "person" and h.slug in employer))
        and sentence.start <= h.start
        and h.end <= sentence.end
        and (_BEFORE.search(body[sentence.start : h.start]) or _AFTER.match(body[h.end : sentence.end]))
    ]
    if not told:
        return None
    # several told in one sentence: the one nearest the figure's number
    nearest = min(told, key=lambda h: min(abs(h.start - at), abs(h.end - at)))
    return employer[nearest.slug] if nearest.kind == "person" else nearest.slug
