"""Periods of trade figures ("in 2023", "January-April", "the first nine months", "H1", "last
month"), resolved against the publication date when the year is not written.

A period without a year takes the most recent one not after publication (the TimeML habit);
with no publication date such a period cannot be resolved and is left out.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
WEEKDAYS = frozenset(name.lower() for name in calendar.day_name)
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
)
_ORD = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}
_COUNT = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
}
_YEAR = r"(?:19|20)\d\d"
_OF_YEAR = (
    r"(?:\s(?:of\s)?(?:(?P<y>" + _YEAR + r")|(?P<this>this year|the year|the current year)|(?P<last>last year)))?"
)


@dataclasses.dataclass(frozen=True)
class Publication:
    """The article's date and how precisely it is known (day, month or year)."""

    date: dt.date
    precision: str


@dataclasses.dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    type: str  # day | month | quarter | year | year-to-date | other
    label: str  # the words as written
    at: int  # offset of the words in the text
    inference: str | None = None  # set when the year (or the period) was deduced
    running: bool = False  # "this year", "by the end of the year": the whole year only for a forecast or target


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


# Each rule: a pattern and what it means. Order matters: longer expressions first.
_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "month-range",
        re.compile(
            r"\b(?:from\s|between\s|in\s)?(?P<m1>"
            + _MONTH
            + r")(?:-to-|\s?(?:-|–|to|through|and)\s?)(?P<m2>"
            + _MONTH
            + r")"
            r"(?:,?\s(?:(?:quarter|period|months)\s(?:of\s)?)?(?P<y>" + _YEAR + r"))?",
            re.IGNORECASE,
        ),
    ),
    (
        "first-months",
        re.compile(r"\b(?:the\s)?first\s(?P<n>" + "|".join(_COUNT) + r"|\d{1,2})\smonths" + _OF_YEAR, re.I),
    ),
    (
        "first-quarters",
        re.compile(r"\b(?:the\s)?first\s(?P<n>two|three|2|3)\squarters" + _OF_YEAR, re.I),
    ),
    (
        "half",
        re.compile(
            r"\b(?:the\s)?(?P<o>first|second)\shalf" + _OF_YEAR + r"|\bH(?P<h>[12])(?:\s(?P<hy>" + _YEAR + r"))?\b",
            re.I,
        ),
    ),
    (
        "quarter",
        re.compile(
            r"\b(?:the\s)?(?:(?P<o>first|second|third|fourth|1st|2nd|3rd|4th)|(?P<qm>March|June|September|December))"
            r"\squarter" + _OF_YEAR + r"|\bQ(?P<q>[1-4])(?:\s(?P<qy>" + _YEAR + r"))?\b",
            re.I,
        ),
    ),
    (
        # "the twelve months to March 2025", "the year to end-June": a rolling year ending with the month
        "year-to-month",
        re.compile(
            r"\b(?:the\s)?(?:(?P<n>twelve|12|three|3|six|6|nine|9)\smonths|year)\s(?:to|through|ending|ended)\s(?:end-)?(?P<m>"
            + _MONTH
            + r")(?:\s\d{1,2}(?:st|nd|rd|th)?(?!\d))?(?:,?\s(?P<y>"
            + _YEAR
            + r"))?",
            re.I,
        ),
    ),
    ("last-month", re.compile(r"\b(?:last|previous|past)\smonth\b", re.I)),
    ("last-quarter", re.compile(r"\b(?:last|previous|past)\squarter\b", re.I)),
    ("last-year", re.compile(r"\b(?:last|previous)\syear\b|\b(?:over|in|during)\sthe\spast\syear\b", re.I)),
    (
        "this-year",
        re.compile(
            r"\b(?:(?:by|at|before)\sthe\send\sof\s(?:the|this)\syear|(?:for\s)?the\s(?:whole|full)\syear|this\syear)\b",
            re.I,
        ),
    ),
    ("month", re.compile(r"\b(?P<m>" + _MONTH + r")(?:,?\s(?P<y>" + _YEAR + r"))?(?!\s\d{1,2}\b)", re.I)),
    (
        "year",
        re.compile(
            r"\b(?:(?:[Ii]n|[Ff]or|[Dd]uring|[Bb]y the end of|[Aa]t the end of|[Bb]y|[Oo]f)\s)?(?:the year\s)?(?P<y>"
            + _YEAR
            + r")\b(?![-–/]\d)"
        ),
    ),
]


def find_periods(
    text: str, offset: int, published: Publication | None, *, unresolved: list[int] | None = None
) -> list[Period]:
    """Return the periods written in `text` (which starts at `offset` of the article), resolved; the
    offsets (the article's) of those written but not resolved (no year, no publication date) are
    added to `unresolved`."""
    found: list[Period] = []
    taken: list[tuple[int, int]] = []
    for name, pattern in _RULES:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            if _excluded(text, m.start(), name, m):
                taken.append((m.start(), m.end()))  # a reference as a whole: no shorter rule reads inside it
                continue
            period = _resolve(name, m, offset, published)
            if period is not None:
                found.append(period)
            elif unresolved is not None:
                unresolved.append(offset + m.start())
            # an unresolved period still hides the words inside it from shorter rules
            taken.append((m.start(), m.end()))
    found.sort(key=lambda p: p.at)
    return found


# A period of a fiscal year, as a figure's: "in fiscal 2023/24", "for the financial year 2024-25",
# "during the current fiscal year", "FY2024-25", and a two-year span ("in 2023-24", a fiscal or
# marketing year); not "its fiscal year budget", "ahead of fiscal 2026 targets" (no preposition of
# time before them). Its months are the country's calendar (April to March in India and Japan,
# October to September in the US): such a period is not resolved.
FISCAL = re.compile(
    r"\b(?:in|for|during|over|through|across)\s(?:the\s)?(?:(?:current|last|previous|past|next|same|whole|full)\s)?"
    r"(?:fiscal|financial)\s(?:year\b|" + _YEAR + r"|\d\d\b)|\bFY\s?'?\d\d|"
    r"\b(?:in|for|during|over)\s(?:the\s)?(?:" + _YEAR + r")[-–/]\d\d(?:\d\d)?\b(?![-–/]\d)|"
    # a season's: "of the 2024-25 coffee year", "in the current marketing year"
    r"\b(?:of|in|for|during|over)\s(?:the\s)?(?:(?:19|20)\d\d[-/]\d\d(?:\d\d)?\s(?:[a-z]+\s)?(?:year|season)|"
    r"(?:current\s|last\s|previous\s|this\s)?(?:marketing|crop|coffee|cocoa|sugar|harvest|growing)\s(?:year|season))\b",
    re.I,
)
# "of the current fiscal year", "of FY2024-25": a part of a fiscal year, not of the calendar year
_OF_FISCAL = re.compile(
    # ("the first seven months (July-January) of the current fiscal year"; "of the 2024-25 coffee year",
    # "of the season": a season's months, not the calendar's)
    r"(?:\s?\([^)\n]{1,30}\))?\s(?:of\s)?(?:the\s|this\s|its\s|last\s)?(?:current\s)?"
    r"(?:(?:19|20)\d\d[-/]\d\d(?:\d\d)?\s(?:[a-z]+\s)?(?:year|season)\b|(?:marketing|crop|coffee|cocoa|sugar|"
    r"harvest|growing)\s(?:year|season)\b|season\b)|(?:\s?\([^)\n]{1,30}\))?\s(?:of\s)?(?:the\s|this\s|its\s|last\s|next\s)?(?:current\s)?(?:fiscal|financial)\b|\s(?:of\s)?FY",
    re.I,
)


_MONTHS_NAMED = re.compile(r"(?:" + _MONTH + r")\W+(?:\w+\W+)?(?:" + _MONTH + r")", re.I)


def names_its_months(period: Period) -> bool:
    """Return whether a period is written as its months ("July-January", "from March to May"): it
    needs no calendar of a fiscal year to be read."""
    return _MONTHS_NAMED.search(period.label) is not None


def _excluded(text: str, start: int, name: str, m: re.Match[str]) -> bool:
    before = text[max(0, start - 25) : start].lower()
    if name in ("first-months", "first-quarters", "half", "quarter") and _OF_FISCAL.match(text, m.end()):
        return True  # a part of a fiscal year: not of the calendar year
    # "since February 2022", "compared with 2022", "than in 2022": references, not the period
    if re.search(r"(?:since|than(?: in)?|compared (?:with|to)|versus|vs\.?|from)\s$", before) and name in (
        "year",
        "month",
    ):
        return True
    # "up 8.3 percent from the year ended May 2024", "rose 4% from the first half": the base of a change
    # ("Data from the first quarter showed" is the period's own)
    if name in ("year-to-month", "quarter", "half", "first-months", "first-quarters") and (
        re.search(r"\b(?:since|than|compared (?:with|to)|versus|vs\.?)\s$", before)
        or re.search(
            r"(?:%|\bper\s?cent|\bpercent|\b(?:up|down|rose|fell|higher|lower|more|less|increas\w*|decreas\w*|"
            r"declin\w*|grew|gain\w*|jump\w*|drop\w*|climb\w*|slipp?\w*))\W+(?:\w+\W+){0,4}from\s$",
            text[max(0, start - 60) : start],
            re.I,
        )
    ):
        return True
    # "a pact signed in 2022", "sanctions imposed in March": the date of an event, not a figure's period
    if name in ("year", "month") and re.search(
        r"\b(?:signed|agreed|launched|founded|opened|established|introduced|imposed|built|set up|took effect|"
        r"came into (?:force|effect)|entered into force|ended|ending|dated|"
        # "..., the minister said in January": when it was said, not the figure's period
        r"said|told\s\w+|announced|stated|declared|reported|added|noted|wrote)\s(?:in\s|on\s)?[\"“]?$",
        before,
    ):
        return True
    # "down 4.3 per cent on the September quarter of 2023", "against 2022": the base of a comparison
    if re.search(r"\b(?:on|against|versus|vs\.?)\s(?:the\s)?$", before) and name not in ("last-month", "last-quarter"):
        return True
    # "compared with the same period of 2022": the base of a comparison
    if re.search(
        r"\b(?:same|corresponding|comparable|like)\s(?:period|time|months?|quarter|half)\s(?:of\s|in\s|last\s)?$",
        before,
    ):
        return True
    # "a jump on the previous year", "up from last year": the base of a comparison
    if name == "last-year" and re.search(
        r"(?:\bon|\bover|\bfrom|\bthan|\bagainst|compared (?:with|to))\s(?:the\s)?$|"
        r"\bsame (?:period|time|months?|quarter)\s(?:of\s)?$",
        before,
    ):
        return True
    # "its highest since Russia invaded Ukraine in February 2022": the date of what it is measured against
    # ("after it jumped 33% to $65.7 billion last year" states a figure: an amount between them)
    if re.search(r"\b(?:since|before|after|when)\b[^,;\d]{0,45}$", text[max(0, start - 50) : start], re.I):
        return True
    if name == "month":
        word = m.group("m").lower().rstrip(".")
        # "May" and "March" are verbs and nouns too; take them only after a preposition or before a year
        if word in (
            "may",
            "march",
            "mar",
            "jan",
            "jun",
            "jul",
            "aug",
            "oct",
            "nov",
            "dec",
            "sep",
            "sept",
            "feb",
            "apr",
        ):
            return not (re.search(r"\b(?:in|for|during|of|since|until|by)\s$", before) or m.group("y"))
    if name == "year":
        # a bare "2023" is a year only after a preposition or as "2023's"/"in 2023", or as "the 2024
        # calendar year"
        if re.match(r"\s(?:calendar\s)?year\b", text[m.end() :]) and re.search(
            r"\b(?:in|for|of|during|over)\sthe\s$", before
        ):
            return False
        return not re.search(r"\b(?:in|for|of|during|by|year)\s$", before) and not (
            m.group(0).lower().startswith(("in ", "for ", "of ", "during ", "by ", "at "))
        )
    return False


def _year_for(
    month_end: int, written: str | None, published: Publication | None, why: str
) -> tuple[int, str | None] | None:
    """Return the year of a period ending in `month_end` and the inference, or None."""
    if written:
        return int(written), None
    if published is None:
        return None
    year = published.date.year
    if published.precision in ("day", "month") and _month_end(year, month_end) > _month_end(
        published.date.year, published.date.month
    ):
        # the most recent such period not after publication
        year -= 1
    return year, f"{why}: the year is {year}, the latest not after publication ({published.date.isoformat()})"


def _resolve(name: str, m: re.Match[str], offset: int, pub: Publication | None) -> Period | None:
    label = m.group(0).strip()
    at = offset + m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
    groups = m.groupdict()
    year_written = groups.get("y") or groups.get("hy") or groups.get("qy")
    relative = ("this" in groups and groups.get("this")) or None
    if groups.get("last") and pub is not None:
        year_written = str(pub.date.year - 1)
    elif relative and pub is not None:
        year_written = str(pub.date.year)
    inferred_rel = (
        f'"{label}" counted from the publication date ({pub.date.isoformat()})'
        if pub and (groups.get("last") or relative)
        else None
    )
    if name == "month-range":
        m1, m2 = MONTHS[groups["m1"].lower().rstrip(".")], MONTHS[groups["m2"].lower().rstrip(".")]
        if year_written and m2 < m1 and re.match(r"[-/–](?:\d\d)?\d\d\b", m.string[m.end() :]):
            # "October-September 2024/25", "July-March 2024-25": a season's years, the first the start's
            year_written = str(int(year_written) + 1)
        resolved = _year_for(m2, year_written, pub, f'"{label}" gives no year')
        if resolved is None:
            return None
        year, why = resolved
        kind = "year-to-date" if m1 == 1 else "other"
        # "July-January": the months run across the turn of the year, to the January of `year`
        from_year = year - 1 if m2 < m1 else year
        return Period(dt.date(from_year, m1, 1), _month_end(year, m2), kind, label, at, why or inferred_rel)
    if name == "first-quarters":
        n = {"two": 2, "three": 3}.get(groups["n"].lower()) or int(groups["n"])
        resolved = _year_for(3 * n, year_written, pub, f'"{label}" gives no year')
        if resolved is None:
            return None
        year, why = resolved
        return Period(dt.date(year, 1, 1), _month_end(year, 3 * n), "year-to-date", label, at, why or inferred_rel)
    if name == "first-months":
        n_text = groups["n"].lower()
        n = _COUNT.get(n_text) or int(n_text)
        if not 1 <= n <= 11:
            return None
        resolved = _year_for(n, year_written, pub, f'"{label}" gives no year')
        if resolved is None:
            return None
        year, why = resolved
        return Period(dt.date(year, 1, 1), _month_end(year, n), "year-to-date", label, at, why or inferred_rel)
    if name == "half":
        half = 1 if (groups.get("o") or "").lower() == "first" or groups.get("h") == "1" else 2
        end_month = 6 * half
        resolved = _year_for(end_month, year_written, pub, f'"{label}" gives no year')
        if resolved is None:
            return None
        year, why = resolved
        start = dt.date(year, 1 if half == 1 else 7, 1)
        kind = "year-to-date" if half == 1 else "other"
        return Period(start, _month_end(year, end_month), kind, label, at, why or inferred_rel)
    if name == "quarter":
        q = (
            _ORD.get((groups.get("o") or "").lower())
            or (MONTHS[groups["qm"].lower()] // 3 if groups.get("qm") else 0)
            or int(groups.get("q") or 0)
        )
        resolved = _year_for(3 * q, year_written, pub, f'"{label}" gives no year')
        if resolved is None:
            return None
        year, why = resolved
        return Period(dt.date(year, 3 * q - 2, 1), _month_end(year, 3 * q), "quarter", label, at, why or inferred_rel)
    if name == "year-to-month":
        month = MONTHS[groups["m"].lower().rstrip(".")]
        resolved = _year_for(month, year_written, pub, f'"{label}" gives no year')
        if resolved is None:
            return None
        year, why = resolved
        written = (groups.get("n") or "12").lower()
        n = {"twelve": 12, "three": 3, "six": 6, "nine": 9}.get(written) or int(written)
        if n == 12 and month == 12:
            return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), "year", label, at, why)
        # "the three months to September": July to September
        opening = month - n + 1
        start = dt.date(year, opening, 1) if opening >= 1 else dt.date(year - 1, opening + 12, 1)
        kind = "quarter" if n == 3 and month % 3 == 0 else "other"
        return Period(start, _month_end(year, month), kind, label, at, why)
    if name == "last-month":
        if pub is None or pub.precision not in ("day", "month"):
            return None
        first = pub.date.replace(day=1) - dt.timedelta(days=1)
        why = f'"{label}" is the month before publication ({pub.date.isoformat()})'
        return Period(first.replace(day=1), first, "month", label, at, why)
    if name == "last-quarter":
        if pub is None or pub.precision != "day":
            return None
        q = (pub.date.month - 1) // 3  # the quarter before publication's, 0 = the last of the previous year
        year = pub.date.year if q else pub.date.year - 1
        q = q or 4
        why = f'"{label}" is the quarter before publication ({pub.date.isoformat()})'
        return Period(dt.date(year, 3 * q - 2, 1), _month_end(year, 3 * q), "quarter", label, at, why)
    if name in ("last-year", "this-year"):
        if pub is None:
            return None
        year = pub.date.year - (1 if name == "last-year" else 0)
        why = f'"{label}" counted from the publication year ({pub.date.year})'
        # "this year" is a running year: the whole of it only for a forecast or a target (the
        # figure says so), otherwise the figure's own words say how much of it
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), "year", label, at, why, running=name == "this-year")
    if name == "month":
        month = MONTHS[groups["m"].lower().rstrip(".")]
        resolved = _year_for(month, year_written, pub, f'"{label}" gives no year')
        if resolved is None:
            return None
        year, why = resolved
        return Period(dt.date(year, month, 1), _month_end(year, month), "month", label, at, why)
    if name == "year":
        year = int(groups["y"])
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), "year", label, at)
    return None
