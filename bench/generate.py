# ruff: noqa: S311 - a seeded, deterministic generator: nothing here is secret
"""A deterministic synthetic corpus of trade news, in the project's seed format, at any size.

    python -m bench.generate --size S --out corpus-s        # YAML corpus for `tradegraph seed`
    python -m bench.generate --size M --bulk postgresql://...     # straight into a migrated database (COPY)

Sizes (articles / trade figures, ~10 figures an article): T 12/~120 (tests), S 1k/10k, M 20k/200k,
L 200k/2M. Every figure, event and mention carries evidence: exact quotes, with their offsets, of
the article text the generator writes around them. Places are real countries and ISO 3166-2
subdivisions (from pycountry) with synthetic cities inside them; organisations, people, events,
dates and amounts are synthetic. A fixed seed makes every run produce the same corpus, and both
output paths consume the very same annotation dicts, so they load the same data:

* `write_corpus_dir` writes `places.yaml`, `organisations.yaml`, `people.yaml` and one
  `NNNNNNN_<hash>.txt` + `.yaml` pair per article: the project's own format, loaded by
  `tradegraph seed DIR` (validation and all; practical up to size S);
* `bulk_sources` feeds the same data to `app.seed.bulk.bulk_load` (COPY; for M and L).

One article in 40 (in 5 for T) is a rewrite of the one before (a new headline, the last paragraph dropped),
which the seed's near-duplicate detection finds; the bulk path is told about it directly.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import random
import re
import sys
import time
import unicodedata
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pycountry
import yaml

from app.seed.dedupe import METHOD, THRESHOLD, Duplicate, overlap, shingles

SEED = 20261123
Json = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Size:
    articles: int
    organisations: int
    people: int
    cities_per_province: int
    other_countries: int  # countries besides China and Russia (with a few provinces each)
    rewrite_every: int = 40  # every n-th article rewrites the one before it (a near-duplicate)


SIZES: dict[str, Size] = {
    "T": Size(articles=12, organisations=24, people=8, cities_per_province=1, other_countries=4, rewrite_every=5),
    "S": Size(articles=1_000, organisations=300, people=100, cities_per_province=2, other_countries=12),
    "M": Size(articles=20_000, organisations=3_000, people=1_000, cities_per_province=3, other_countries=20),
    "L": Size(articles=200_000, organisations=20_000, people=5_000, cities_per_province=4, other_countries=28),
}

# Countries besides CN and RU, in the order they are taken.
OTHER_COUNTRIES = [
    "KZ",
    "MN",
    "US",
    "DE",
    "FR",
    "GB",
    "JP",
    "KR",
    "IN",
    "UZ",
    "BY",
    "UA",
    "TR",
    "IR",
    "VN",
    "TH",
    "ID",
    "MY",
    "SG",
    "PK",
    "KG",
    "TJ",
    "TM",
    "AZ",
    "GE",
    "AM",
    "IT",
    "ES",
]
MACRO_REGIONS = (("europe", "Europe"), ("central-asia", "Central Asia"), ("southeast-asia", "Southeast Asia"))
CURRENCIES = (("CNY", 40), ("USD", 35), ("RUB", 10), ("EUR", 10), ("JPY", 5))
APPROX_USD = {"CNY": Decimal("0.14"), "RUB": Decimal("0.013"), "EUR": Decimal("1.1"), "JPY": Decimal("0.0068")}
COMMODITIES = (
    "soybeans",
    "crude oil",
    "coal",
    "natural gas",
    "timber",
    "seafood",
    "machinery",
    "electronics",
    "fertiliser",
    "wheat",
    "steel",
    "cars",
)
WORDS = [
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "for",
    "on",
    "with",
    "as",
    "by",
    "at",
    "from",
    "that",
    "this",
    "its",
    "their",
    "new",
    "more",
    "than",
    "after",
    "market",
    "markets",
    "trade",
    "trading",
    "goods",
    "cargo",
    "freight",
    "rail",
    "railway",
    "port",
    "border",
    "crossing",
    "customs",
    "officials",
    "ministry",
    "government",
    "province",
    "region",
    "city",
    "company",
    "companies",
    "firm",
    "firms",
    "bank",
    "banks",
    "payment",
    "payments",
    "yuan",
    "rouble",
    "ruble",
    "currency",
    "settlement",
    "growth",
    "demand",
    "supply",
    "exports",
    "imports",
    "shipments",
    "shipment",
    "energy",
    "oil",
    "gas",
    "coal",
    "grain",
    "wheat",
    "timber",
    "machinery",
    "vehicles",
    "parts",
    "electronics",
    "logistics",
    "corridor",
    "route",
    "routes",
    "bridge",
    "terminal",
    "warehouse",
    "container",
    "containers",
    "investment",
    "investors",
    "project",
    "projects",
    "agreement",
    "cooperation",
    "partnership",
    "summit",
    "delegation",
    "visit",
    "fair",
    "exhibition",
    "forum",
    "talks",
    "sanctions",
    "tariffs",
    "quota",
    "quotas",
    "prices",
    "price",
    "volume",
    "volumes",
    "record",
    "year",
    "quarter",
    "month",
    "season",
    "strong",
    "weak",
    "steady",
    "rising",
    "falling",
    "higher",
    "lower",
    "major",
    "key",
    "local",
    "regional",
    "national",
    "federal",
    "state",
    "private",
    "public",
    "small",
    "large",
    "industrial",
    "agricultural",
    "digital",
    "cross",
    "eastern",
    "western",
    "northern",
    "southern",
    "analysts",
    "experts",
    "observers",
    "data",
    "figures",
    "report",
    "statement",
    "said",
    "noted",
    "added",
    "expects",
    "expected",
    "plans",
    "planned",
    "aims",
    "continues",
    "continued",
    "remains",
    "expanded",
    "opened",
    "launched",
    "signed",
    "announced",
    "reported",
    "increased",
    "decreased",
    "doubled",
    "recovered",
    "slowed",
]
SYLLABLES = [
    "ka",
    "ro",
    "vi",
    "lan",
    "shu",
    "mei",
    "tor",
    "gra",
    "bel",
    "zan",
    "dor",
    "kir",
    "nov",
    "pol",
    "sel",
    "tan",
    "ust",
    "yar",
    "hei",
    "jin",
    "lu",
    "xin",
    "ba",
    "ché",
    "ov",
]
EVENT_KINDS = (
    ("trade-fair", "Trade Fair"),
    ("conference", "Economic Forum"),
    ("delegation-visit", "Trade Delegation"),
    ("agreement-signing", "Cooperation Agreement Signing"),
    ("consulate-opening", "Consulate Opening"),
    ("logistics-milestone", "Freight Corridor Launch"),
    ("summit", "Regional Summit"),
)
ORG_KINDS = (
    ("company", 45),
    ("government-body", 15),
    ("business-association", 10),
    ("customs-authority", 5),
    ("diplomatic-mission", 10),
    ("business-park", 5),
    ("international-organisation", 5),
    ("other", 5),
)
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
QUARTERS = ("first", "second", "third", "fourth")
NINE = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
_N_WORDS, _K_WORDS = len(WORDS), len(WORDS).bit_length()
_N_SYLLABLES, _K_SYLLABLES = len(SYLLABLES), len(SYLLABLES).bit_length()
FIRST_DAY = dt.date(2016, 1, 1)
LAST_DAY = dt.date(2025, 6, 30)


def slugify(text: str) -> str:
    """Return a seed-format slug for `text`: ASCII lower-case words joined by `-`."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _month_end(day: dt.date) -> dt.date:
    nxt = day.replace(day=28) + dt.timedelta(days=4)
    return nxt - dt.timedelta(days=nxt.day)


# --- registries --------------------------------------------------------------------------------


@dataclasses.dataclass
class Registries:
    places: list[Json]
    organisations: list[Json]
    people: list[Json]
    # for the article generator
    countries: list[Json]
    provinces: dict[str, list[Json]]  # by country code
    cities: dict[str, list[Json]]  # by province slug
    publishers: list[Json]
    customs: list[Json]


def _names(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < count:
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
        name += rng.choice(("sk", "an", "ovo", "ing", "hai", "grad", "zhou", ""))
        if name not in taken and len(name) > 3:
            taken.add(name)
            out.append(name)
    return out


def _province_name(name: str) -> str:
    for suffix in (" Sheng", " Zizhiqu", " Shi"):
        name = name.removesuffix(suffix)
    return name


def make_registries(size: Size, rng: random.Random) -> Registries:
    places: list[Json] = [{"slug": s, "name": n, "kind": "macro-region"} for s, n in MACRO_REGIONS]
    countries: list[Json] = []
    provinces: dict[str, list[Json]] = {}
    cities: dict[str, list[Json]] = {}
    taken: set[str] = set()
    geonames = 9_000_000
    for code in ("CN", "RU", *OTHER_COUNTRIES[: size.other_countries]):
        country = pycountry.countries.get(alpha_2=code)
        assert country is not None, code
        name = getattr(country, "common_name", None) or country.name
        if code == "RU":
            name = "Russia"
        entry: Json = {"slug": slugify(name), "name": name, "kind": "country", "code": code, "country_code": code}
        places.append(entry)
        countries.append(entry)
        subs = sorted(
            (s for s in pycountry.subdivisions.get(country_code=code) if s.parent_code is None),  # type: ignore[no-untyped-call]
            key=lambda s: s.code,
        )
        if code not in ("CN", "RU"):
            subs = subs[:4]
        provinces[code] = []
        for sub in subs:
            pname = _province_name(sub.name)
            prov: Json = {
                "slug": f"{slugify(pname)}-{sub.code.lower()}",
                "name": pname,
                "kind": "province",
                "code": sub.code,
                "country_code": code,
                "parent": entry["slug"],
            }
            places.append(prov)
            provinces[code].append(prov)
            cities[prov["slug"]] = []
            for cname in _names(rng, size.cities_per_province, taken):
                geonames += 1
                city: Json = {
                    "slug": f"{slugify(cname)}-{code.lower()}",
                    "name": cname,
                    "kind": rng.choice(("city", "city", "city", "port", "town")),
                    "country_code": code,
                    "parent": prov["slug"],
                    "geonames_id": geonames,
                    "latitude": round(rng.uniform(20, 60), 5),
                    "longitude": round(rng.uniform(30, 135), 5),
                }
                if rng.random() < 0.2:
                    city["aliases"] = [f"{cname} City"]
                places.append(city)
                cities[prov["slug"]].append(city)

    organisations: list[Json] = []
    publishers: list[Json] = []
    customs: list[Json] = []
    org_names: set[str] = set()
    n_publishers = max(4, size.organisations // 10)
    for i in range(size.organisations):
        base = " ".join(rng.choice(SYLLABLES) for _ in range(2)).title().replace(" ", "")
        if i < n_publishers:
            kind = rng.choice(("media", "news-agency"))
            name = f"{base} {rng.choice(('Times', 'News', 'Daily', 'Herald', 'Wire'))}"
        else:
            kind = _weighted(rng, ORG_KINDS)
            suffix = {
                "company": rng.choice(("Group", "Holdings", "Trading Co", "Logistics", "Energy")),
                "government-body": "Commerce Department",
                "business-association": "Chamber of Commerce",
                "customs-authority": "Customs",
                "diplomatic-mission": "Consulate General",
                "business-park": "Industrial Park",
                "international-organisation": "Cooperation Council",
                "other": "Institute",
            }[kind]
            name = f"{base} {suffix}"
        while name in org_names:
            name += " II"
        org_names.add(name)
        org: Json = {"slug": f"{slugify(name)}-{i}", "name": name, "kind": kind}
        if rng.random() < 0.8:
            org["country"] = rng.choice(countries[:6])["slug"]
        if i >= n_publishers and rng.random() < 0.1 and organisations:
            org["parent"] = rng.choice(organisations[n_publishers:] or organisations)["slug"]
        if rng.random() < 0.15:
            org["aliases"] = ["".join(w[0] for w in name.split()).upper()]
        organisations.append(org)
        (publishers if i < n_publishers else customs if kind == "customs-authority" else []).append(org)

    people: list[Json] = []
    for i in range(size.people):
        first, last = _names(rng, 2, taken)
        person: Json = {"slug": f"{slugify(first)}-{slugify(last)}-{i}", "name": f"{first} {last}"}
        if rng.random() < 0.8:
            person["title"] = rng.choice(("Minister of Commerce", "Governor", "Chief Executive", "Consul General"))
        if rng.random() < 0.5:
            person["organisation"] = rng.choice(organisations)["slug"]
        if rng.random() < 0.5:
            person["country"] = rng.choice(countries[:6])["slug"]
        people.append(person)
    return Registries(places, organisations, people, countries, provinces, cities, publishers, customs)


# --- articles -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class GeneratedArticle:
    stem: str  # file name without suffix: NNNNNNN_<sha prefix>
    body: str
    annotation: Json  # the YAML document, as `yaml.safe_load` of the written file returns it
    duplicate: Duplicate | None  # set on a rewrite that the seed's dedupe marks as a near-duplicate


@dataclasses.dataclass
class _Quote:
    start: int
    text: str

    def as_yaml(self, shift: int = 0) -> Json:
        return {"quote": self.text, "start": self.start + shift}


class _Text:
    """Builds an article body, recording where each quoted passage lands."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0

    def add(self, text: str) -> int:
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        return start

    def quote(self, sentence: str, passage: str | None = None) -> _Quote:
        """Append `sentence` (and a space); return the quote of `passage` within it (default: all)."""
        start = self.add(sentence)
        self.add(" ")
        passage = sentence if passage is None else passage
        return _Quote(start + sentence.index(passage), passage)

    def value(self) -> str:
        return "".join(self.parts)


def _amount_text(amount: Decimal, currency: str) -> str:
    billions = amount >= 1_000_000_000
    scaled = amount / (Decimal(1_000_000_000) if billions else Decimal(1_000_000))
    number = f"{scaled.normalize():f}"
    unit = "billion" if billions else "million"
    if currency == "USD":
        return f"${number} {unit}"
    word = {"CNY": "yuan", "RUB": "rubles", "EUR": "euros", "JPY": "yen"}[currency]
    return f"{number} {unit} {word}"


def _round3(value: Decimal) -> Decimal:
    """Round to three significant digits, as a whole number."""
    digits = len(str(int(value)))
    q = Decimal(10) ** max(digits - 3, 0)
    return (value / q).quantize(Decimal(1)) * q


class ArticleGenerator:
    def __init__(self, size: Size, reg: Registries, rng: random.Random) -> None:
        self.size = size
        self.reg = reg
        self.rng = rng
        self.events: list[tuple[str, str]] = []  # (slug, name) of events defined so far
        cn, ru = reg.countries[0], reg.countries[1]
        self.cn, self.ru = cn, ru
        self.all_cities = [c for cs in reg.cities.values() for c in cs]
        self.place_names = {p["slug"]: p["name"] for p in reg.places}

    # -- pieces of text

    def filler(self, words: tuple[int, int] = (8, 18)) -> str:
        # mostly made-up words: enough variety that unrelated articles share few
        # word pairs (the seed's near-duplicate detection compares word 2-shingles)
        rng = self.rng
        n = rng.randint(*words)
        # `rng.choice(WORDS) if rng.random() < 0.4 else "".join(rng.choice(SYLLABLES) for _ in range(3))`
        # per word, spelled out: the very same draws (`choice` is `seq[_randbelow(len(seq))]`, which
        # draws `getrandbits(len(seq).bit_length())` until below len(seq)), without the call overhead
        # of the hottest loop of the generator
        random_, bits = rng.random, rng.getrandbits
        n_words, k_words, n_syl, k_syl = _N_WORDS, _K_WORDS, _N_SYLLABLES, _K_SYLLABLES
        out: list[str] = []
        for _ in range(n):
            if random_() < 0.4:
                r = bits(k_words)
                while r >= n_words:
                    r = bits(k_words)
                out.append(WORDS[r])
            else:
                r = bits(k_syl)
                while r >= n_syl:
                    r = bits(k_syl)
                s = bits(k_syl)
                while s >= n_syl:
                    s = bits(k_syl)
                t = bits(k_syl)
                while t >= n_syl:
                    t = bits(k_syl)
                out.append(SYLLABLES[r] + SYLLABLES[s] + SYLLABLES[t])
        text = " ".join(out)
        return text[0].upper() + text[1:] + "."

    def _side(self) -> tuple[Json, Json | None]:
        """Return (reporter, partner): China or Russia, one of their provinces, or another country."""
        rng, reg = self.rng, self.reg
        roll = rng.random()
        if roll < 0.45:
            home, other = self.cn, self.ru
        elif roll < 0.7:
            home, other = self.ru, self.cn
        else:
            home = rng.choice(reg.countries[2:] or reg.countries)
            other = rng.choice((self.cn, self.ru))
        reporter = home
        provinces = reg.provinces[home["code"]]
        if provinces and rng.random() < 0.5:
            reporter = rng.choice(provinces)
        partner: Json | None = other
        if rng.random() < 0.1:
            partner = None
        elif rng.random() < 0.1:
            partner = rng.choice([c for c in reg.countries if c is not home])
        return reporter, partner

    def _period(self, published: dt.date) -> tuple[Json, str]:
        rng = self.rng
        end_before = published - dt.timedelta(days=rng.randint(10, 400))
        end_before = max(end_before, FIRST_DAY)
        kind = rng.choices(("month", "quarter", "year", "year-to-date"), weights=(50, 20, 20, 10))[0]
        year = end_before.year
        if kind == "month":
            start = end_before.replace(day=1)
            end = _month_end(start)
            label = f"in {MONTHS[start.month - 1]} {year}"
        elif kind == "quarter":
            q = (end_before.month - 1) // 3
            start = dt.date(year, 3 * q + 1, 1)
            end = _month_end(dt.date(year, 3 * q + 3, 1))
            label = f"in the {QUARTERS[q]} quarter of {year}"
        elif kind == "year":
            start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
            label = f"in {year}"
        else:
            month = max(end_before.month, 2)
            start, end = dt.date(year, 1, 1), _month_end(dt.date(year, month, 1))
            label = f"in the first {NINE[month - 1]} months of {year}"
        return {"start": start, "end": end, "type": kind, "label": label}, label

    def figure(self, text: _Text, slug: str, published: dt.date, totals: list[Json]) -> Json:
        rng = self.rng
        reporter, partner = self._side()
        flow = rng.choices(("total", "export", "import"), weights=(40, 30, 30))[0]
        period, label = self._period(published)
        commodity = rng.choice(COMMODITIES) if rng.random() < 0.2 else None
        measure = rng.choices(("money", "quantity", "change"), weights=(85, 10, 5))[0]
        if measure == "quantity" and commodity is None:
            commodity = rng.choice(COMMODITIES)
        r, p = reporter["name"], partner["name"] if partner else None
        goods = f"{commodity} " if commodity else ""
        if flow == "total":
            subject = f"Trade in {commodity} between {r} and {p}" if commodity and p else None
            subject = subject or (f"Trade between {r} and {p}" if p else f"{r}'s foreign trade")
        elif flow == "export":
            subject = f"{r}'s {goods}exports" + (f" to {p}" if p else "")
        else:
            subject = f"{r}'s {goods}imports" + (f" from {p}" if p else "")
        fig: Json = {"slug": slug, "reporter": reporter["slug"]}
        if partner:
            fig["partner"] = partner["slug"]
        fig["flow"] = flow
        if commodity:
            fig["commodity"] = commodity
        status = rng.choices(("actual", "forecast", "target"), weights=(90, 5, 5))[0]
        approx = rng.choices(("exact", "about", "nearly", "more-than"), weights=(70, 15, 5, 10))[0]
        if status != "actual":
            approx = "up-to" if rng.random() < 0.5 else approx
        approx_word = {"exact": "", "about": "about ", "nearly": "nearly ", "more-than": "more than "}.get(
            approx, "up to "
        )
        verb = rng.choice(("reached", "totalled", "stood at", "amounted to", "hit"))
        if status == "forecast":
            verb = "is expected to reach"
        elif status == "target":
            verb = "is targeted to reach"
        change = Decimal(rng.randint(-300, 800)) / 10 if rng.random() < 0.6 else None
        stated: Json | None = None
        conversion_phrase = ""
        if measure == "money":
            currency = _weighted(rng, CURRENCIES)
            billions = rng.random() < 0.6
            amount = Decimal(rng.randint(10, 999)) * (Decimal(100_000_000) if billions else Decimal(100_000))
            phrase = _amount_text(amount, currency)
            fig["amount"] = {"amount": str(amount), "currency": currency}
            if rng.random() < 0.15:
                if currency == "USD":
                    to, converted = "CNY", _round3(amount * Decimal("7.1"))
                else:
                    to, converted = "USD", _round3(amount * APPROX_USD[currency])
                conversion_phrase = f"{phrase} (about {_amount_text(converted, to)})"
                stated = {"amount": str(converted), "currency": to, "quote": conversion_phrase}
                phrase = conversion_phrase
            body = f"{subject} {verb} {approx_word}{phrase} {label}"
        elif measure == "quantity":
            unit = rng.choice(("tonne", "container"))
            value = Decimal(rng.randint(1, 999)) * 1000
            fig["quantity"] = {"value": str(value), "unit": unit}
            body = f"{subject} {verb} {approx_word}{value:,} {unit}s {label}"
        else:
            change = change if change not in (None, Decimal(0)) else Decimal("12.5")
            assert change is not None
            word = "grew" if change > 0 else "fell"
            body = f"{subject} {word} {abs(change)} percent year-on-year {label}"
            approx = "exact"
        if change is not None and measure != "change":
            body += f", {'up' if change >= 0 else 'down'} {abs(change)} percent year-on-year"
        sentence = body + "."
        fig["period"] = period
        if change is not None:
            fig["change_pct"] = str(change)
            fig["change_basis"] = "year-on-year"
        fig["approximation"] = approx
        fig["status"] = status
        if flow != "total" and measure == "money":
            parent = next(
                (
                    t
                    for t in totals
                    if t["reporter"] == fig["reporter"]
                    and t.get("partner") == fig.get("partner")
                    and t["period"] == period
                    and t.get("commodity") == fig.get("commodity")
                ),
                None,
            )
            if parent is not None:
                fig["part_of"] = parent["slug"]
        if self.reg.customs and rng.random() < 0.2:
            fig["source"] = rng.choice(self.reg.customs)["slug"]
        quote = text.quote(sentence)
        evidence = [quote.as_yaml()]
        if stated is not None:
            stated["start"] = quote.start + sentence.index(conversion_phrase)
            fig["stated_conversion"] = stated
        if rng.random() < 0.3:
            when = label.removeprefix("in ").removeprefix("the ")
            follow = f"The figure for {when} was confirmed by {rng.choice(WORDS)} data."
            evidence.append(text.quote(follow).as_yaml())
        fig["evidence"] = evidence
        if flow == "total" and measure == "money":
            totals.append(fig)
        return fig

    def event(self, text: _Text, slug: str, published: dt.date) -> Json:
        rng = self.rng
        kind, words = rng.choice(EVENT_KINDS)
        city = rng.choice(self.all_cities)
        start = published - dt.timedelta(days=rng.randint(-30, 120))
        start = min(max(start, FIRST_DAY), LAST_DAY)
        if kind == "consulate-opening":
            name = f"Opening of the {rng.choice(self.reg.countries)['name']} consulate in {city['name']} {start.year}"
        else:
            name = f"{city['name']} {words} {start.year}"
        name += f" ({slug})"
        event: Json = {"slug": slug, "name": name, "kind": kind}
        if rng.random() < 0.85:
            end = start + dt.timedelta(days=rng.randint(0, 5))
            event["date"] = {"start": start, "end": end, "precision": "day"}
            when = f"from {start:%B} {start.day} to {end:%B} {end.day}, {end.year}"
        else:
            first = start.replace(day=1)
            event["date"] = {
                "start": first,
                "precision": "month",
                "basis": "inferred",
                "inference": "the article dates it to the month only",
            }
            when = f"in {first:%B %Y}"
        places = [city["slug"]]
        if rng.random() < 0.3:
            places.append(rng.choice(self.all_cities)["slug"])
        event["places"] = places
        participants: list[Json] = []
        for org in rng.sample(self.reg.organisations, k=rng.randint(1, 3)):
            participants.append({"organisation": org["slug"], "role": rng.choice(("organiser", "participant", "host"))})
        if self.reg.people and rng.random() < 0.3:
            participants.append({"person": rng.choice(self.reg.people)["slug"], "role": "speaker"})
        event["participants"] = participants
        if kind == "trade-fair":
            event["participant_count"] = rng.randint(50, 500)
            event["participant_unit"] = "companies"
            event["participant_approximation"] = "more-than"
        if self.events and rng.random() < 0.1:
            event["parent"] = rng.choice(self.events[-200:])[0]
        sentence = f"The {name} took place in {city['name']} {when}."
        event["evidence"] = [text.quote(sentence).as_yaml()]
        self.events.append((slug, name))
        return event

    def article(self, index: int) -> tuple[str, Json]:
        """Return the body and the annotation of a fresh article."""
        rng, reg = self.rng, self.reg
        published = FIRST_DAY + dt.timedelta(days=rng.randint(0, (LAST_DAY - FIRST_DAY).days))
        text = _Text()
        headline_place = rng.choice(reg.countries[:2] + reg.provinces["CN"][:8] + reg.provinces["RU"][:8])
        title = f"{headline_place['name']} {rng.choice(WORDS)} {rng.choice(WORDS)} trade report {index}"
        text.add(title + "\n\n")
        slug = f"{slugify(headline_place['name'])}-trade-{index:07d}"
        meta: Json = {"slug": slug, "title": title}
        if reg.publishers and rng.random() < 0.9:
            meta["publisher"] = rng.choice(reg.publishers)["slug"]
        meta["authors"] = [" ".join(_names(rng, 2, set()))] if rng.random() < 0.5 else []
        if rng.random() < 0.9:
            meta["published"] = {"date": published, "precision": "day", "basis": "stated"}
        else:
            meta["published"] = {
                "date": published.replace(day=1),
                "precision": "month",
                "basis": "inferred",
                "inference": "the text names the month of the figures it reports as last month",
            }
        figures: list[Json] = []
        events: list[Json] = []
        mentions: dict[tuple[str, str], list[Json]] = {}
        totals: list[Json] = []
        n_figures = max(1, min(20, round(rng.gauss(10, 3))))
        paragraphs = rng.randint(4, 7)
        fig_no = ev_no = 0
        for para in range(paragraphs):
            text.add(" ".join(self.filler() for _ in range(3)) + " ")
            share = n_figures // paragraphs + (1 if para < n_figures % paragraphs else 0)
            for _ in range(share):
                figures.append(self.figure(text, f"{slug}-f{fig_no}", published, totals))
                fig_no += 1
                text.add(self.filler() + " ")
            if rng.random() < 0.6:
                place = rng.choice(self.all_cities if rng.random() < 0.6 else reg.countries)
                q = text.quote(f"Officials in {place['name']} welcomed the {rng.choice(WORDS)} news.", place["name"])
                mentions.setdefault(("place", place["slug"]), []).append(q.as_yaml())
            if rng.random() < 0.6:
                org = rng.choice(reg.organisations)
                q = text.quote(f"{org['name']} said {self.filler()[:-1].lower()}.", org["name"])
                mentions.setdefault(("organisation", org["slug"]), []).append(q.as_yaml())
            if reg.people and rng.random() < 0.25:
                person = rng.choice(reg.people)
                q = text.quote(f"{person['name']} told reporters the outlook was {rng.choice(WORDS)}.", person["name"])
                mentions.setdefault(("person", person["slug"]), []).append(q.as_yaml())
            if rng.random() < 0.5 / paragraphs * 2:
                events.append(self.event(text, f"{slug}-e{ev_no}", published))
                ev_no += 1
            if self.events and rng.random() < 0.05:
                ref_slug, ref_name = rng.choice(self.events[:-1] or self.events)
                if not any(e.get("ref") == ref_slug or e.get("slug") == ref_slug for e in events):
                    q = text.quote(f"Organisers of the {ref_name} reported strong interest.")
                    events.append({"ref": ref_slug, "evidence": [q.as_yaml()]})
            text.add(self.filler() + "\n\n")
        # every place a figure names is mentioned where its sentence names it
        body = text.value()
        for fig in figures:
            for field in ("reporter", "partner"):
                ref = fig.get(field)
                if ref is None or ("place", ref) in mentions:
                    continue
                name = self.place_names[ref]
                start = body.find(name, fig["evidence"][0]["start"])
                mentions[("place", ref)] = [{"quote": name, "start": start}]
        annotation: Json = {
            "article": {**meta, "sha256": hashlib.sha256(body.encode()).hexdigest()},
            "mentions": [{kind: s, "evidence": ev} for (kind, s), ev in mentions.items()],
            "trade_figures": figures,
            "events": events,
        }
        return body, annotation


def _rewrite(original_body: str, original: Json, index: int) -> tuple[str, Json]:
    """Return a shorter rewrite of an article: new headline, the last paragraph dropped.

    Its annotation points at the original's figures and events (refs) with the quotes it keeps."""
    old_title: str = original["article"]["title"]
    head = len(old_title) + 2
    cut = original_body.rstrip("\n").rfind("\n\n")
    kept = original_body[head:cut] + "\n"
    title = f"{old_title} (rewritten, {index})"
    body = f"{title}\n\n{kept}"
    shift = len(title) + 2 - head
    limit = cut

    def moved(quotes: list[Json]) -> list[Json]:
        return [
            {"quote": q["quote"], "start": q["start"] + shift} for q in quotes if q["start"] + len(q["quote"]) <= limit
        ]

    meta = dict(original["article"])
    meta["slug"] = f"{original['article']['slug']}-rewrite"
    meta["title"] = title
    meta["sha256"] = hashlib.sha256(body.encode()).hexdigest()
    mentions = []
    for m in original["mentions"]:
        ev = moved(m["evidence"])
        if ev:
            mentions.append({**{k: v for k, v in m.items() if k != "evidence"}, "evidence": ev})
    figures = [{"ref": f["slug"], "evidence": ev} for f in original["trade_figures"] if (ev := moved(f["evidence"]))]
    events = []
    for e in original["events"]:
        ev = moved(e["evidence"])
        if ev:
            events.append({"ref": e.get("slug") or e["ref"], "evidence": ev})
    return body, {"article": meta, "mentions": mentions, "trade_figures": figures, "events": events}


@dataclasses.dataclass
class Synthetic:
    size_name: str
    registries: Registries
    seed: int

    def articles(self) -> Iterator[GeneratedArticle]:
        """Yield every article, in order (lazily: size L does not fit comfortably in memory)."""
        size = SIZES[self.size_name]
        rng = random.Random(self.seed + 1)
        gen = ArticleGenerator(size, self.registries, rng)
        previous: tuple[str, Json] | None = None
        for i in range(size.articles):
            duplicate = None
            if i % size.rewrite_every == size.rewrite_every - 1 and previous is not None:
                body, annotation = _rewrite(previous[0], previous[1], i)
                a, b = annotation["article"]["slug"], previous[1]["article"]["slug"]
                sa, sb = shingles(body), shingles(previous[0])
                score = overlap(sa, sb)
                if score >= THRESHOLD:
                    dup, orig = (a, b) if (len(sa), a) < (len(sb), b) else (b, a)
                    duplicate = Duplicate(dup, orig, score, METHOD)
                previous = None  # a rewrite is never rewritten again
            else:
                body, annotation = gen.article(i)
                previous = (body, annotation)
            stem = f"{i:07d}_{annotation['article']['sha256'][:16]}"
            yield GeneratedArticle(stem, body, annotation, duplicate)


def synthesize(size: str, seed: int = SEED) -> Synthetic:
    """Return the synthetic corpus of `size` (T, S, M or L); articles are generated on demand."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}: one of {', '.join(SIZES)}")
    return Synthetic(size, make_registries(SIZES[size], random.Random(seed)), seed)


# --- output paths --------------------------------------------------------------------------------


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000)


def write_corpus_dir(corpus: Synthetic, out: Path) -> int:
    """Write the corpus in the seed format under `out` (created); return the number of articles."""
    out.mkdir(parents=True, exist_ok=True)
    reg = corpus.registries
    (out / "places.yaml").write_text(_dump({"places": reg.places}), encoding="utf-8")
    (out / "organisations.yaml").write_text(_dump({"organisations": reg.organisations}), encoding="utf-8")
    (out / "people.yaml").write_text(_dump({"people": reg.people}), encoding="utf-8")
    count = 0
    for article in corpus.articles():
        (out / f"{article.stem}.txt").write_bytes(article.body.encode("utf-8"))
        (out / f"{article.stem}.yaml").write_text(_dump(article.annotation), encoding="utf-8")
        count += 1
    return count


def bulk_sources(corpus: Synthetic, source_dir: str = "synthetic") -> Any:
    """Return the keyword arguments of `app.seed.bulk.bulk_load` for this corpus.

    `source_dir` stands where the text files would be (the `source_file` of each article)."""
    from app.seed import format as fmt
    from app.seed.bulk import ArticleSource

    reg = corpus.registries

    def articles() -> Iterator[ArticleSource]:
        for a in corpus.articles():
            yield ArticleSource(
                annotation=fmt.ArticleFile.model_validate(a.annotation),
                body=a.body,
                source_file=f"{source_dir}/{a.stem}.txt",
                duplicate=a.duplicate,
            )

    return {
        "places": [fmt.Place.model_validate(p) for p in reg.places],
        "organisations": [fmt.Organisation.model_validate(o) for o in reg.organisations],
        "people": [fmt.Person.model_validate(p) for p in reg.people],
        "articles": articles(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=list(SIZES), default="S")
    parser.add_argument("--seed", type=int, default=SEED)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", type=Path, help="write a seed-format corpus directory here")
    target.add_argument("--bulk", metavar="DATABASE_URL", help="COPY into this migrated database")
    parser.add_argument("--keep-constraints", action="store_true", help="bulk: check FKs row by row during COPY")
    parser.add_argument("--keep-trigger", action="store_true", help="bulk: keep the evidence trigger on")
    args = parser.parse_args(argv)
    corpus = synthesize(args.size, args.seed)
    started = time.perf_counter()
    if args.out is not None:
        count = write_corpus_dir(corpus, args.out)
        print(f"wrote {count} articles to {args.out} in {time.perf_counter() - started:.1f}s")
        return 0
    import psycopg

    from app.seed.bulk import bulk_load

    with psycopg.connect(args.bulk) as conn:
        report = bulk_load(
            conn,
            **bulk_sources(corpus),
            defer_constraints=not args.keep_constraints,
            verify_evidence_in_sql=not args.keep_trigger,
            progress=lambda msg: print(f"  {msg}", file=sys.stderr, flush=True),
        )
    print(report.describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
