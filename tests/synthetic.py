"""A synthetic seed corpus for tests: valid in every respect, deterministic, as large as asked.

`write_corpus(directory, articles=N)` writes the registries (places.yaml, organisations.yaml,
people.yaml) and N article text + annotation pairs in the format of `app/seed/format.py`:
every quote is an exact passage of its article with its `start` offset, every annotation
carries the sha256 of its text, and each article is padded with words of its own so that no
two articles look like near-duplicates of each other (the seed's dedupe step marks none).
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from pathlib import Path
from typing import Any

import yaml

# (slug, name, ISO 3166-1 alpha-2): codes must be real, pycountry checks them
COUNTRIES = (
    ("china", "China", "CN"),
    ("russia", "Russia", "RU"),
    ("kazakhstan", "Kazakhstan", "KZ"),
    ("mongolia", "Mongolia", "MN"),
)
# (slug, name, country slug): cities carry no code
CITIES = (
    ("harbin", "Harbin", "china"),
    ("manzhouli", "Manzhouli", "china"),
    ("heihe", "Heihe", "china"),
    ("vladivostok", "Vladivostok", "russia"),
    ("blagoveshchensk", "Blagoveshchensk", "russia"),
    ("almaty", "Almaty", "kazakhstan"),
    ("ulaanbaatar", "Ulaanbaatar", "mongolia"),
)
ORGANISATIONS = (
    {"slug": "synthetic-wire", "name": "Synthetic Wire", "kind": "news-agency"},
    {"slug": "border-customs", "name": "Border Customs Office", "kind": "customs-authority", "country": "china"},
    {"slug": "trade-council", "name": "Northern Trade Council", "kind": "business-association", "country": "russia"},
)
PEOPLE = (
    {"slug": "anna-petrova", "name": "Anna Petrova", "title": "council chair", "organisation": "trade-council"},
    {"slug": "li-wei", "name": "Li Wei", "title": "customs spokesman", "organisation": "border-customs"},
)
SYLLABLES = ("ka", "lo", "mi", "ru", "sen", "ta", "vo", "zen", "pa", "qui", "dor", "fel", "gan", "hu", "jis", "nel")
FLOWS = ("total", "export", "import")


@dataclasses.dataclass(frozen=True)
class SyntheticCorpus:
    """Where the corpus was written and how many rows seeding it creates per table.

    `counts` covers every table but `currency_conversions`, whose rows depend on the ECB rates
    that ship with the seed's currency converter."""

    path: Path
    counts: dict[str, int]


class _Text:
    """An article body built piece by piece, remembering where each quote starts."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0

    def add(self, text: str) -> dict[str, Any]:
        """Append `text`; return it as an evidence quote with its offset."""
        quote = {"quote": text, "start": self.length}
        self.parts.append(text)
        self.length += len(text)
        return quote

    def body(self) -> str:
        return "".join(self.parts)


def _filler(rng: random.Random, words: int) -> str:
    """Words no other article is likely to share, so articles do not look like duplicates."""
    return " ".join("".join(rng.choice(SYLLABLES) for _ in range(4)) for _ in range(words))


def _article(index: int, figures: int, events: int) -> tuple[str, dict[str, Any]]:
    """Return one article's text and its annotation."""
    rng = random.Random(index)
    text = _Text()
    title = text.add(f"Synthetic trade report number {index}")
    text.add("\n\n")
    mentions: list[dict[str, Any]] = []
    trade_figures: list[dict[str, Any]] = []
    event_entries: list[dict[str, Any]] = []
    org = text.add(ORGANISATIONS[0]["name"])
    mentions.append({"organisation": ORGANISATIONS[0]["slug"], "evidence": [org]})
    text.add(f" reports. {_filler(rng, 30)}.\n")
    for j in range(figures):
        reporter_slug, reporter_name, _ = COUNTRIES[(index + j) % 2]  # china or russia
        partner_slug, partner_name, _ = COUNTRIES[2 + (index + j) % 2]
        year = 2010 + (index + j) % 14
        amount = 100 + (index * 31 + j * 17) % 9000
        flow = FLOWS[j % 3]
        label = f"in {year}"
        text.add("Customs data show that ")
        reporter = text.add(reporter_name)
        text.add(" ")
        stated = text.add(f"{flow} trade with {partner_name} came to {amount} million yuan {label}")
        text.add(f". {_filler(rng, 12)}.\n")
        if j == 0:
            mentions.append({"place": reporter_slug, "evidence": [reporter]})
        trade_figures.append(
            {
                "slug": f"synthetic-figure-{index}-{j}",
                "reporter": reporter_slug,
                "partner": partner_slug,
                "flow": flow,
                "amount": {"amount": amount * 1_000_000, "currency": "CNY"},
                # a year: the seed computes each conversion from a year of daily ECB rates,
                # which keeps the writing transaction open for a while at little validation cost
                "period": {"start": f"{year}-01-01", "end": f"{year}-12-31", "type": "year", "label": label},
                "source": "border-customs",
                "evidence": [stated],
            }
        )
    for k in range(events):
        city_slug, city_name, _ = CITIES[(index + k) % len(CITIES)]
        day = 1 + (index + k) % 27
        name = f"Synthetic Trade Fair {index}-{k}"
        text.add("The ")
        said = text.add(f"{name} opened in ")
        city = text.add(city_name)
        text.add(f" on 2023-06-{day:02d}, said ")
        person = text.add(PEOPLE[0]["name"])
        text.add(f". {_filler(rng, 12)}.\n")
        if k == 0:
            mentions.append({"place": city_slug, "evidence": [city]})
            mentions.append({"person": PEOPLE[0]["slug"], "evidence": [person]})
        event_entries.append(
            {
                "slug": f"synthetic-fair-{index}-{k}",
                "name": name,
                "kind": "trade-fair",
                "date": {"start": f"2023-06-{day:02d}", "end": f"2023-06-{day + 1:02d}", "precision": "day"},
                "places": [city_slug],
                "participants": [{"organisation": "trade-council", "role": "organiser"}],
                "evidence": [said],
            }
        )
    body = text.body()
    annotation = {
        "article": {
            "slug": f"synthetic-article-{index}",
            "title": title["quote"],
            "publisher": ORGANISATIONS[0]["slug"],
            "authors": [],
            "published": {"date": "2024-01-15", "precision": "day", "basis": "stated"},
            "sha256": hashlib.sha256(body.encode()).hexdigest(),
        },
        "mentions": mentions,
        "trade_figures": trade_figures,
        "events": event_entries,
    }
    return body, annotation


def _dump(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000), encoding="utf-8")


def write_corpus(directory: Path, *, articles: int, figures: int = 8, events: int = 1) -> SyntheticCorpus:
    """Write a valid corpus of `articles` articles, each with `figures` trade figures and `events` events."""
    directory.mkdir(parents=True, exist_ok=True)
    places = [{"slug": s, "name": n, "kind": "country", "code": c, "country_code": c} for s, n, c in COUNTRIES]
    codes = {slug: code for slug, _, code in COUNTRIES}
    places += [
        {"slug": s, "name": n, "kind": "city", "country_code": codes[parent], "parent": parent}
        for s, n, parent in CITIES
    ]
    _dump(directory / "places.yaml", {"places": places})
    _dump(directory / "organisations.yaml", {"organisations": [dict(o) for o in ORGANISATIONS]})
    _dump(directory / "people.yaml", {"people": [dict(p) for p in PEOPLE]})
    evidence = 0
    for index in range(articles):
        body, annotation = _article(index, figures, events)
        stem = f"{index:05d}_synthetic"
        (directory / f"{stem}.txt").write_bytes(body.encode())
        _dump(directory / f"{stem}.yaml", annotation)
        evidence += sum(
            len(entry["evidence"]) for key in ("mentions", "trade_figures", "events") for entry in annotation[key]
        )
    counts = {
        "places": len(places),
        "organisations": len(ORGANISATIONS),
        "people": len(PEOPLE),
        "articles": articles,
        "trade_figures": articles * figures,
        "events": articles * events,
        "event_places": articles * events,
        "event_participants": articles * events,
        "evidence": evidence,
    }
    return SyntheticCorpus(directory, counts)
