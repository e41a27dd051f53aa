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

# the words just before the organisation's name: it is what the figure is attributed to
_BEFORE = re.compile(
    r"\b(?:according\s+to|citing|cited\s+by|reported\s+by|compiled\s+by|released\s+by|published\s+by"
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
    r"\s+(?:said|says|showed|shows|show|reported|reports|announced|announces|published|publishes"
    r"|released|releases|estimated|estimates|calculated|calculates|revealed|reveals|told|added|adds)\b",
    re.IGNORECASE,
)


# a figure's own sentence pointing back at the data told before ("..., the data showed")
_BACK = re.compile(
    r"\b(?:the|these|those|customs|official|same)\s+(?:data|figures|statistics)\s+(?:showed|shows|show)\b"
    r"|\baccording\s+to\s+the\s+(?:same\s+)?(?:data|figures|statistics)\b",
    re.IGNORECASE,
)
# a figure's own sentence telling a source the registries cannot name ("the country's statistics
# agency said", "according to ship-tracking data", "Putin said"): not the source told before
_OTHER = re.compile(r"\b(?:according\s+to|data\s+from|figures\s+from|said|says|told|added|estimated|estimates)\b", re.I)


@dataclasses.dataclass(frozen=True)
class Told:
    """A figure's number: where it is, the sentence holding it, its period and whether it is an outcome."""

    at: int
    sentence: Piece | None
    period: tuple[object, object]
    actual: bool


def sources(
    figures: Sequence[Told], hits: Sequence[Hit], body: str, employer: Mapping[str, str]
) -> list[tuple[str | None, str | None]]:
    """Return, for each figure, its source's slug (or None) and, when carried, how.

    A figure takes the organisation its own sentence attributes it to, or the one of the person
    it attributes it to (`employer`: person slug -> organisation slug, from the registry: "...,
    Consul General Sergey Chernenko told Sputnik"); without either, the source
    told last before it in the story, when its sentence points back at that data ("the data
    showed") or, telling no other source, it is an outcome of the same period (the rest of one
    release: "Exports increased 6.1 percent ..." after "..., the General Administration of
    Customs said")."""
    out: list[tuple[str | None, str | None]] = [(None, None)] * len(figures)
    last: tuple[str, tuple[object, object]] | None = None  # the source told last, and its figure's period
    for i in sorted(range(len(figures)), key=lambda i: figures[i].at):
        f = figures[i]
        if f.sentence is None:
            continue
        text = body[f.sentence.start : f.sentence.end]
        own = _told_in(f.sentence, f.at, hits, body, employer)
        if own is not None:
            out[i] = (own, None)
            last = (own, f.period)
        elif last is not None and _BACK.search(text):
            out[i] = (last[0], "its sentence points back at the data told before it")
        elif last is not None and f.actual and f.period == last[1] and not _OTHER.search(text):
            out[i] = (last[0], "told for the figure of the same period before it, and no other source since")
    return out


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
