"""Cutting an article into paragraphs, sentences and clauses, keeping every offset exact.

Page furniture ("Read more:" link lists, "Also on X:" teasers, "Type to search") is part of
the verbatim text but not of the story: `furniture` returns those spans so that no fact or
mention is drafted from them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

from app.draft.periods import MONTHS, WEEKDAYS


@dataclasses.dataclass(frozen=True)
class Piece:
    """A stretch of the article: `body[start:end] == text`."""

    text: str
    start: int
    paragraph: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


# A sentence ends at . ! ? or … followed by a space and an upper-case letter or a quote mark;
# abbreviations such as "U.S." and "St." do not end one.
_ABBREV = re.compile(
    r"(?:\b[A-Z]\.|\bSt\.|\bMr\.|\bMs\.|\bDr\.|\bNo\.|\bCo\.|\bInc\.|\bLtd\.|\bJan\.|\bFeb\.|\bAug\.|\bSept?\.|\bOct\.|\bNov\.|\bDec\.|\bvs\.)$"
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’]?\s+(?=[\"“‘A-Z0-9])")
_FURNITURE_LINE = re.compile(
    r"^\s*(?:Also on [^:]{1,30}:|Read more\b|READ MORE\b|Related:|Related stories|See also\b|Type to search\b|"
    r"Sign up\b|Subscribe\b|Share this\b|Photo:|Image:|Advertisement\b|fbpx\b)",
)
_LINK_LIST_HEAD = re.compile(
    r"^\s*(?:Read more|READ MORE|Related(?: stories| articles)?|See also|More on this)\s*:?\s*$"
)


# A dateline opening a sentence ("MOSCOW, June 10 (Reuters) - ", "/TASS/. "): where and when the
# story was filed, which names no side of a figure and no event's place or date
DATELINE_PREFIX = re.compile(r".{0,80}?(?:\)\s?[-–—]+|/[A-Z]+/\.)\s")


def paragraphs(body: str) -> Iterator[Piece]:
    """Yield the non-empty lines of `body` (news text puts one paragraph on a line)."""
    pos = 0
    for index, line in enumerate(body.split("\n")):
        stripped = line.strip()
        if stripped:
            yield Piece(stripped, pos + line.index(stripped), index)
        pos += len(line) + 1


def sentences(paragraph: Piece) -> Iterator[Piece]:
    """Yield the sentences of one paragraph."""
    start = 0
    text = paragraph.text
    for m in _SENTENCE_END.finditer(text):
        head = text[start : m.start()]
        if _ABBREV.search(head) or (re.search(r"\d\.$", head) and text[m.end() : m.end() + 1].isdigit()):
            continue
        yield Piece(head, paragraph.start + start, paragraph.paragraph)
        start = m.end()
    if start < len(text):
        yield Piece(text[start:], paragraph.start + start, paragraph.paragraph)


# Clauses: a sentence is cut before "including", after ";" and "…", before ", but"/", while", and
# before a comma that opens a new flow ("..., exports by 29.4% to ...").
_CLAUSE_CUT = re.compile(
    r";\s|\s…\s|…\s|,\s(?=(?:including|while|whereas|but|and\s(?:its\s)?(?:imports|exports))\b)|,\s(?=(?:its\s|and\s)?"
    r"(?:imports|exports|shipments|re-exports|sales)\b)|,\s(?=with\s(?:its\s)?(?:imports|exports|sales)\b)|\sbut\s(?=[a-z])|"
    r"\s-\s(?=[A-Z])"
)


def clauses(sentence: Piece) -> list[Piece]:
    """Return the clauses of a sentence (at least the sentence itself)."""
    out: list[Piece] = []
    start = 0
    text = sentence.text
    for m in _CLAUSE_CUT.finditer(text):
        piece = text[start : m.start()].rstrip(" ,")
        if piece:
            out.append(Piece(piece, sentence.start + start, sentence.paragraph))
        start = m.end()
    tail = text[start:].rstrip(" ,.")
    if tail:
        out.append(Piece(tail, sentence.start + start, sentence.paragraph))
    return out or [sentence]


def furniture(body: str) -> list[tuple[int, int]]:
    """Return the spans of page furniture: teaser lines, link lists and their items."""
    spans: list[tuple[int, int]] = []
    in_links = False
    for para in paragraphs(body):
        if _LINK_LIST_HEAD.match(para.text):
            in_links = True
            spans.append((para.start, para.end))
            continue
        if in_links:
            # a link list is a run of short headline lines; prose (a long line ending in a full stop) ends it
            if len(para.text.split()) <= 16 and not para.text.endswith("."):
                spans.append((para.start, para.end))
                continue
            in_links = False
        if _FURNITURE_LINE.match(para.text):
            spans.append((para.start, para.end))
    return spans


def inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Return whether [start, end) lies inside one of `spans`."""
    return any(s <= start and end <= e for s, e in spans)


# words that open a phrase, capitalised at a sentence's start or in a dateline's wake, not names
PHRASE_OPENERS = frozenset({
    "The", "In", "From", "At", "On", "For", "By", "With", "And", "But", "As", "Of", "To", "Its", "Their", "Across",
    "Near", "Via", "Both", "Neighbouring", "Neighboring", "Nearby", "Meanwhile", "Separately", "Overall", "Also",
    "Elsewhere", "Last", "This", "Next", "Then", "Still", "Now", "While", "Coastal", "Landlocked",
})  # fmt: skip
_WORD_BEFORE = re.compile(r"(?<![\w’'-])([A-Z][\w-]*)\s$")


def name_word_before(text: str, at: int) -> bool:
    """Return whether the word right before `at` is a capitalised one that makes a name with what follows
    ("Coal India", "Niger Delta", "Nizhny Novgorod"): not a phrase's opening word, a month or a day."""
    m = _WORD_BEFORE.search(text, max(0, at - 20), at)
    if m is None:
        return False
    word = m.group(1)
    return word not in PHRASE_OPENERS and word.lower() not in MONTHS and word.lower() not in WEEKDAYS
