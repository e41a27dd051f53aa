"""What the top of an article says about it: headline, publication date, dateline place, publisher.

- a header date: "date 2024-01-29", "Published: May 28, 2024 05:26 PM", "29.01.2024" alone on a line;
- a dateline: "SHENYANG, China (Sputnik) -", "VLADIVOSTOK, March 3 (Reuters) -";
- the headline: the first headline-shaped line before the story's first paragraph;
- the publisher: the dateline's agency, or an author note "X is an editor at Y".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import dateparser

from app.draft.periods import _MONTH, MONTHS, Publication, find_periods
from app.draft.text import Piece, paragraphs

_HEADER_DATES = [
    re.compile(r"\bdate\s(?P<d>\d{4}-\d{2}-\d{2})\b", re.I),
    re.compile(r"\b(?:Published|Updated|Posted)(?: on)?:?\s(?P<d>" + _MONTH + r"\s\d{1,2},\s\d{4})", re.I),
    re.compile(r"\b(?:Published|Updated|Posted)(?: on)?:?\s(?P<d>\d{1,2}\s" + _MONTH + r"\s\d{4})", re.I),
    re.compile(r"^\s*(?P<d>\d{1,2}\.\d{1,2}\.\d{4})\s*$", re.M),
    re.compile(r"^\s*(?P<d>\d{4}-\d{2}-\d{2})\s*$", re.M),
    re.compile(r"^\s*(?P<d>" + _MONTH + r"\s\d{1,2},\s\d{4})\s*$", re.M),
    # a dateline with its year: "TOKYO, July 18, 2025 -", "ASTANA. Oct 21, 2024 (Interfax-Kazakhstan) -"
    re.compile(
        r"^\s*[A-Z][A-Z .'-]{2,40}[.,]\s(?P<d>" + _MONTH + r"\s\d{1,2},\s\d{4})\s?(?:\([^)\n]{1,40}\)\s?)?[-–—]",
        re.M,
    ),
]
# A short line at the top that carries a full date (with a time, a source, a word such as
# "Updated"): "March 3, 2025 10:15 AM GMT", "Source: Xinhua | 2024-06-07 16:20:11",
# "05.09.2024, 14:20", "Updated 9:42 AM UTC, October 14, 2024"
_DATE_IN_LINE = re.compile(
    r"(?<![\d.])(?P<d>\d{4}-\d{2}-\d{2}|\d{1,2}\.\d{1,2}\.\d{4}|"
    + _MONTH
    + r"\s\d{1,2},\s\d{4}|\d{1,2}\s"
    + _MONTH
    + r",?\s\d{4})(?![\d.])"
)
_STORY_LINE = re.compile(r"[.!?\"”]\s*$")
DATELINE = re.compile(
    r"(?:^|\n)\s*(?P<place>[A-Z][A-Za-z .'-]{2,40}?),\s(?:(?P<country>[A-Z][a-z]+(?: [A-Z][a-z]+)?),?\s)?"
    r"(?:(?P<date>"
    + _MONTH
    + r"\s\d{1,2}(?:,\s\d{4})?)\s)?\((?P<agency>[A-Z][\w .&-]{1,40})\)(?:\s?[-–—:]|\s(?=[A-Z]))"
    # "(ANSA) - ROME, SEP 12 -": the agency first
    r"|(?:^|\n)\s*\((?P<agency2>[A-Z][\w .&-]{1,40})\)\s[-–—]\s(?P<place2>[A-Z][A-Z .'-]{2,40}?),\s"
    r"(?P<date2>(?i:" + _MONTH + r")\s\d{1,2}(?:,\s\d{4})?)\s[-–—]"
)
# "VLADIVOSTOK, September 5. /TASS/." (agency between slashes)
AGENCY_DATELINE = re.compile(
    r"(?:^|\n)\s*(?P<place>[A-Z][A-Z .'-]{2,40}?),\s(?:(?P<date>" + _MONTH + r"\s\d{1,2}(?:,\s\d{4})?)\.?\s)?"
    r"/(?P<agency>[A-Z][\w .&-]{1,40})/\.?"
)
_AUTHOR_NOTE = re.compile(
    r"\b(?:is|was)\san?\s(?:[a-z-]+\s){0,2}(?:editor|Editor|reporter|correspondent|writer|columnist)\s(?:at|for|with)\s"
    r"(?:the\s)?(?P<org>[A-Z][\w’'&-]*(?:\s[A-Z][\w’'&-]*){0,3})"
)
_BYLINE = re.compile(r"^\s*(?:By|by)\s(?P<name>[A-Z][a-z]+(?:\s[A-Z][a-zO’']+){1,2})\s*$", re.M)


@dataclasses.dataclass
class Header:
    title: Piece | None = None
    published: Publication | None = None
    published_quote: str | None = None
    published_basis: str = "stated"
    published_inference: str | None = None
    dateline_place: Piece | None = None  # the place words of the dateline
    agency: Piece | None = None
    author_org: Piece | None = None
    authors: list[str] = dataclasses.field(default_factory=list)
    dateline_day: tuple[int, int] | None = None  # (month, day) of a dateline that writes no year


def _parse_date(text: str) -> dt.date | None:
    order = "DMY" if re.match(r"\d{1,2}\.\d{1,2}\.\d{4}$", text) else "MDY"
    parsed = dateparser.parse(
        text, languages=["en"], settings={"DATE_ORDER": order, "REQUIRE_PARTS": ["day", "month", "year"]}
    )
    return parsed.date() if parsed is not None else None


def read_header(body: str) -> Header:
    """Return what the article's header and dateline say."""
    header = Header()
    head = body[:3000]
    for pattern in _HEADER_DATES:
        m = pattern.search(head)
        if m:
            day = _parse_date(m.group("d").strip())
            if day is not None:
                header.published = Publication(day, "day")
                header.published_quote = m.group(0).strip()
                break
    if header.published is None:
        _header_line_date(body, header)
    dl = DATELINE.search(body[:6000]) or AGENCY_DATELINE.search(body[:6000])
    if dl:
        # (the agency-first form's groups end in 2)
        tail = "" if dl.groupdict().get("place") else "2"
        place, agency, date = f"place{tail}", f"agency{tail}", dl.group(f"date{tail}")
        header.dateline_place = Piece(dl.group(place), dl.start(place), 0)
        header.agency = Piece(dl.group(agency), dl.start(agency), 0)
        if header.published is None and date and re.search(r"\d{4}", date):
            day = _parse_date(date)
            if day is not None:
                header.published = Publication(day, "day")
                header.published_quote = dl.group(0).strip()
        elif header.published is None and date:
            month_name, day_number = date.split()
            month = MONTHS.get(month_name.lower().rstrip("."))
            if month is not None:
                header.dateline_day = (month, int(day_number))
    note = _AUTHOR_NOTE.search(body)
    if note:
        header.author_org = Piece(note.group("org"), note.start("org"), 0)
    header.authors = [m.group("name") for m in _BYLINE.finditer(body[:2000])]
    header.title = _title(body)
    return header


def _header_line_date(body: str, header: Header) -> None:
    # only among the lines before the story: a caption or a sentence of the story that gives a
    # date is not the publication's
    for i, para in enumerate(paragraphs(body)):
        if i >= 6 or _STORY_LINE.search(para.text):
            return
        if len(para.text.split()) > 14:
            if i <= 1 and not para.text.rstrip().endswith(":"):
                # a long headline, or a standfirst right under it, with no full stop: the date line may follow
                continue
            return  # the story, or a list it introduces
        if para.text.lstrip().startswith(("-", "•", "*", "–", "—")):
            return  # an item of a list: its dates are the story's
        m = _DATE_IN_LINE.search(para.text)
        if m and len(re.findall(r"[A-Za-z]{2,}", para.text[: m.start()] + para.text[m.end() :])) > 5:
            continue  # a caption that dates its photo ("A container ship at the port of ..., March 3, 2023")
        if m:
            day = _parse_date(m.group("d"))
            if day is not None:
                header.published = Publication(day, "day")
                header.published_quote = para.text
                return


def _title(body: str) -> Piece | None:
    for i, para in enumerate(paragraphs(body)):
        if i >= 8:
            break
        words = para.text.split()
        if len(words) > 30 or para.text.endswith((".", '."', ".”")):
            return None  # the story has begun: no headline
        if len(words) < 4 or para.text.endswith(":") or para.text.isupper() or "/" in para.text:
            continue
        if re.search(r"\d{4}-\d{2}-\d{2}|\b(?:Published|Updated|date)\b", para.text) or "Type to search" in para.text:
            continue
        return para
    return None


_FORWARD = re.compile(
    r"\b(?:by|until|till|targets?|goals?|forecasts?|expect\w*|plans?|planned|aims?|next|will|projected|outlook|"
    r"vision|ambition)\b(?:[^.;]|\.\d){0,60}$",
    re.I,
)


_TRADE_SENTENCE = re.compile(r"\b(?:exports?|imports?|trade|shipments|exported|imported|shipped|turnover)\b", re.I)


def infer_from_dateline(body: str, month: int, day: int) -> tuple[Publication, str] | None:
    """Return the publication date of a text whose dateline writes a day without its year ("ISLAMABAD,
    Apr 18 (APP):"): that day next after the latest period, written with its year, of a sentence that
    tells of trade ("in the first half of 2024", "during March 2025"), when every such period puts it
    in the same year; a period looked forward to, or one a record or an event is measured from ("since
    February 2022"), does not count. None when no such period is written, or they disagree."""
    ends = []
    for sentence in re.split(r"(?<=[a-z0-9%)][.!?])\s+(?=[A-Z\"“])|\n+", body):
        if not _TRADE_SENTENCE.search(sentence) or not re.search(r"\d", sentence):
            continue
        for period in find_periods(sentence, 0, None):
            lead = sentence[max(0, period.at - 80) : period.at]
            tail = sentence[period.at + len(period.label) :]
            # (nor the base of a comparison: "up from 3.5 billion dollars in 2021"; nor a whole year, which
            # a story tells while it runs or after it ends: "exports in 2024 are expected to reach")
            if (
                period.inference is None
                and period.type != "year"
                and not _FORWARD.search(lead)
                and not re.match(r"\s(?:is|are|will|could|may|might|would)\b", tail)
                and not re.search(r"\b(?:from|than|compared\s(?:with|to)|against|versus)\s[^,;]{0,30}$", lead)
            ):
                ends.append(period.end)
    # the first such day after each period's end: only when they all agree (a forecast "to grow 5.8
    # percent in 2024" told in July 2024 would put the day in 2025)
    years = {end.year + (1 if (month, day) <= (end.month, end.day) else 0) for end in ends}
    if len(years) != 1:
        return None
    (year,) = years
    try:
        published = dt.date(year, month, day)
    except ValueError:
        return None
    why = (
        f"The dateline gives the day without its year; the periods the text reports on end by "
        f"{max(ends).isoformat()}, so the day is taken as {published.isoformat()}."
    )
    return Publication(published, "day"), why


def infer_year(body: str) -> tuple[Publication, str] | None:
    """Return a year-precision publication date for an undated text, and how it was deduced.

    Only when the text both writes years and says "last year" of something: the latest year
    written is then taken as last year, so the text was written the year after."""
    # (not a year looked forward to: "a target of $5 billion for the fiscal year 2025-26", "by 2030")
    years = [
        int(m.group(0))
        for m in re.finditer(r"\b(?:19|20)\d\d\b", body)
        if not _FORWARD.search(body, max(0, m.start() - 50), m.start())
    ]
    if not years or not re.search(r"\blast year\b", body):
        return None
    year = max(years) + 1
    why = (
        f'Undated. The latest year the text writes is {max(years)}, and it speaks of "last year": '
        f"taken as written in {year} (precision year)."
    )
    return Publication(dt.date(year, 1, 1), "year"), why
