"""Checks of single annotated values against the world: ISO codes, currencies, period shapes."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import InvalidOperation

import pycountry

from app.seed import convert
from app.seed import format as fmt
from app.seed.files import SeedIssue
from app.seed.rows import stated_conversion
from app.seed.source import Loc, SourceFile


def check_place_codes(src: SourceFile, loc: Loc, place: fmt.Place) -> list[SeedIssue]:
    issues = []
    if place.country_code is not None and pycountry.countries.get(alpha_2=place.country_code) is None:
        issues.append(src.issue((*loc, "country_code"), f"{place.country_code!r} is not an ISO 3166-1 alpha-2 code"))
    if place.code is not None:
        if "-" in place.code:
            sub = pycountry.subdivisions.get(code=place.code)  # type: ignore[no-untyped-call]
            if sub is None:
                issues.append(src.issue((*loc, "code"), f"{place.code!r} is not an ISO 3166-2 code"))
            elif place.country_code is not None and sub.country_code != place.country_code:
                issues.append(
                    src.issue((*loc, "code"), f"{place.code!r} lies in {sub.country_code}, not {place.country_code}")
                )
        elif pycountry.countries.get(alpha_2=place.code) is None:
            issues.append(src.issue((*loc, "code"), f"{place.code!r} is not an ISO 3166-1 alpha-2 code"))
    return issues


def check_currency(src: SourceFile, loc: Loc, fig: fmt.TradeFigure) -> list[SeedIssue]:
    issues = []
    for field, money in (("amount", fig.amount), ("stated_conversion", fig.stated_conversion)):
        if money is not None and pycountry.currencies.get(alpha_3=money.currency) is None:
            issues.append(src.issue((*loc, field, "currency"), f"{money.currency!r} is not an ISO 4217 currency"))
    if fig.amount and fig.stated_conversion and fig.amount.currency == fig.stated_conversion.currency:
        issues.append(src.issue((*loc, "stated_conversion", "currency"), "a conversion must change the currency"))
    return issues


_RATE_PLACES = -int(convert.RATE_PLACES.as_tuple().exponent)
_RATE_BELOW = "10^18"  # a rate kept to 10 places in the seed's 28 significant digits


def check_conversions(
    src: SourceFile, loc: Loc, fig: fmt.TradeFigure, published: fmt.PublishedDate | None
) -> list[SeedIssue]:
    """Return an issue for each conversion of the figure's amount that could not be stored: computed
    here as the seed computes it, one that comes to nothing (the database keeps only positive amounts
    and rates) or that the seed's arithmetic cannot hold. Its currencies are valid ISO 4217 codes."""
    if fig.amount is None:
        return []
    money = fig.amount
    issues = []
    stated = fig.stated_conversion
    if stated is not None:
        implied = f"{stated.amount} {stated.currency} for {money.amount} {money.currency}"
        ratio = f"{stated.amount / money.amount:.2E} {stated.currency} per {money.currency}"
        try:
            conv = stated_conversion(fig, stated, published)
        except InvalidOperation:
            reason = f"{implied} implies a rate of {ratio}: a rate must be less than {_RATE_BELOW}"
            issues.append(src.issue((*loc, "stated_conversion", "amount"), reason))
        else:
            if conv.rate <= 0:
                reason = (
                    f"{implied} implies a rate of {ratio}, which is 0 at the {_RATE_PLACES} decimal places a rate keeps"
                )
                issues.append(src.issue((*loc, "stated_conversion", "amount"), reason))
    for target in convert.TARGET_CURRENCIES:
        try:
            computed = convert.computed(money.amount, money.currency, target, fig.period.start, fig.period.end)
        except InvalidOperation:
            issues.append(src.issue((*loc, "amount", "amount"), f"too large to convert into {target}"))
            continue
        if computed is not None and (computed.amount <= 0 or computed.rate <= 0):
            reason = (
                f"{money.amount} {money.currency} is {computed.amount} {target} at the ECB rate ({computed.rate}):"
                f" a conversion is kept to the cent, and must be at least {convert.AMOUNT_PLACES} {target}"
            )
            issues.append(src.issue((*loc, "amount", "amount"), reason))
    return issues


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def check_period(src: SourceFile, loc: Loc, period: fmt.Period) -> list[SeedIssue]:
    start, end, kind = period.start, period.end, period.type
    problem = None
    if kind is fmt.PeriodType.DAY and start != end:
        problem = "a day period starts and ends on the same date"
    elif kind is fmt.PeriodType.MONTH and (start.day != 1 or end != month_end(start)):
        problem = "a month period runs from the 1st to the last day of one month"
    elif kind is fmt.PeriodType.QUARTER and (
        start.day != 1 or start.month not in (1, 4, 7, 10) or end != month_end(start.replace(month=start.month + 2))
    ):
        problem = "a quarter period runs from the 1st of Jan/Apr/Jul/Oct to the end of its third month"
    elif kind is fmt.PeriodType.YEAR and (start != dt.date(start.year, 1, 1) or end != dt.date(start.year, 12, 31)):
        problem = "a year period runs from 1 January to 31 December"
    elif kind is fmt.PeriodType.YEAR_TO_DATE and (
        start != dt.date(start.year, 1, 1) or end.year != start.year or end != month_end(end)
    ):
        problem = "a year-to-date period runs from 1 January to the end of a month of the same year"
    return [src.issue(loc, problem)] if problem else []
