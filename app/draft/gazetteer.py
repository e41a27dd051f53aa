"""Finding the registries' places, organisations and people in a text, by name and alias.

Names and aliases are matched case-sensitively on word boundaries, longest first (so
"Guizhou Daily" is the newspaper, not the province). A *weak* alias, one with no capital
letter ("the daily", "the diplomat"), a person's surname alone, or two letters ("AF"),
counts only when the same entity is also named in full in the article. A one-word person
name counts only with the person's registry title near it ("a businessman surnamed Liu").
A capital city that acts ("Beijing lifted ...") stands for its country.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from pathlib import Path

import yaml

from app.seed import format as fmt

# Demonyms: the adjective stands for the country in flows ("Chinese exports", "Russian regions").
DEMONYMS: dict[str, str] = {
    "Chinese": "CN",
    "Sino": "CN",
    "Russian": "RU",
    "American": "US",
    "U.S.": "US",
    "Japanese": "JP",
    "South Korean": "KR",
    "Korean": "KR",
    "North Korean": "KP",
    "Indian": "IN",
    "German": "DE",
    "French": "FR",
    "British": "GB",
    "Italian": "IT",
    "Spanish": "ES",
    "Kazakh": "KZ",
    "Kazakhstani": "KZ",
    "Uzbek": "UZ",
    "Kyrgyz": "KG",
    "Tajik": "TJ",
    "Mongolian": "MN",
    "Ukrainian": "UA",
    "Belarusian": "BY",
    "Turkish": "TR",
    "Iranian": "IR",
    "Vietnamese": "VN",
    "Thai": "TH",
    "Indonesian": "ID",
    "Malaysian": "MY",
    "Brazilian": "BR",
    "Canadian": "CA",
    "Australian": "AU",
    "Saudi": "SA",
    "Emirati": "AE",
    "Pakistani": "PK",
    "Polish": "PL",
    "Finnish": "FI",
    "Norwegian": "NO",
    "Dutch": "NL",
    "Swiss": "CH",
    "Chilean": "CL",
    "Argentine": "AR",
    "Argentinian": "AR",
    "Mexican": "MX",
    "Peruvian": "PE",
    "Colombian": "CO",
    "Venezuelan": "VE",
    "Egyptian": "EG",
    "Nigerian": "NG",
    "South African": "ZA",
    "Kenyan": "KE",
    "Ghanaian": "GH",
    "Moroccan": "MA",
    "Algerian": "DZ",
    "Ethiopian": "ET",
    "Israeli": "IL",
    "Qatari": "QA",
    "Kuwaiti": "KW",
    "Iraqi": "IQ",
    "Bangladeshi": "BD",
    "Sri Lankan": "LK",
    "Nepali": "NP",
    "Filipino": "PH",
    "Singaporean": "SG",
    "Taiwanese": "TW",
    "Cambodian": "KH",
    "Burmese": "MM",
    "Afghan": "AF",
    "Azerbaijani": "AZ",
    "Armenian": "AM",
    "Turkmen": "TM",
    "Greek": "GR",
    "Portuguese": "PT",
    "Swedish": "SE",
    "Danish": "DK",
    "Austrian": "AT",
    "Belgian": "BE",
    "Czech": "CZ",
    "Hungarian": "HU",
    "Romanian": "RO",
    "Bulgarian": "BG",
    "Serbian": "RS",
    "Irish": "IE",
}
_GOVERNMENT_VERB = re.compile(
    r"^\s(?:has\s|have\s|had\s)?(?:lifted|imposed|announced|said|says|urged|decided|banned|approved|signed|"
    r"agreed|warned|insisted|accused|responded|rejected|opened|closed|introduced|retaliated)\b"
)


@dataclasses.dataclass(frozen=True)
class Registries:
    places: dict[str, fmt.Place]
    organisations: dict[str, fmt.Organisation]
    people: dict[str, fmt.Person]

    def country_slug(self, code: str) -> str | None:
        """Return the slug of the registry country with ISO code `code`, if any."""
        return next(
            (s for s, p in self.places.items() if p.kind is fmt.PlaceKind.COUNTRY and p.country_code == code), None
        )

    def slugs(self) -> set[str]:
        """Return every registry slug (of any kind)."""
        return {*self.places, *self.organisations, *self.people}


def load_registries(directories: Iterable[Path]) -> Registries:
    """Return the registries in `directories` (later ones add to earlier ones)."""
    places: dict[str, fmt.Place] = {}
    orgs: dict[str, fmt.Organisation] = {}
    people: dict[str, fmt.Person] = {}
    for directory in directories:
        for name, key, model, target in (
            ("places.yaml", "places", fmt.Place, places),
            ("organisations.yaml", "organisations", fmt.Organisation, orgs),
            ("people.yaml", "people", fmt.Person, people),
        ):
            path = directory / name
            if path.is_file():
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                for entry in data.get(key) or []:
                    item = model.model_validate(entry)
                    target.setdefault(item.slug, item)  # type: ignore[arg-type]
    return Registries(places, orgs, people)


@dataclasses.dataclass(frozen=True)
class Hit:
    """A name of an entity at body[start:end]."""

    kind: str  # place | organisation | person
    slug: str
    start: int
    end: int
    weak: bool = False
    how: str = "name"  # name | alias | capital-for-country | demonym | back-reference | candidate

    @property
    def text_span(self) -> tuple[int, int]:
        return self.start, self.end


def _variants(name: str) -> set[str]:
    out = {name, name.replace("’", "'"), name.replace("'", "’")}
    if len(name) > 3 and any(c.islower() for c in name):
        out.add(name.upper())  # datelines: "SHENYANG, China (Sputnik)"
    return out


def _is_weak_alias(alias: str, kind: str, entity_name: str) -> bool:
    if not any(c.isupper() for c in alias) or len(alias) <= 2:
        return True
    if kind == "person":
        return True  # surnames, "Consul General", "the diplomat": only beside the full name
    return alias.startswith("the ") and alias.split()[1][:1].islower()


class Gazetteer:
    """Matches the registries' names and aliases in a text."""

    def __init__(self, registries: Registries) -> None:
        self.registries = registries
        self.entries: dict[str, list[tuple[str, str, bool, str]]] = {}  # text -> (kind, slug, weak, how)
        groups: list[tuple[str, dict[str, fmt.Place] | dict[str, fmt.Organisation] | dict[str, fmt.Person]]] = [
            ("place", registries.places),
            ("organisation", registries.organisations),
            ("person", registries.people),
        ]
        for kind, table in groups:
            for slug, item in table.items():
                for variant in _variants(item.name):
                    single_person = kind == "person" and " " not in item.name
                    self._add(variant, kind, slug, single_person, "name")
                for alias in item.aliases:
                    weak = _is_weak_alias(alias, kind, item.name)
                    for variant in _variants(alias):
                        self._add(variant, kind, slug, weak, "alias")
                if kind == "place" and getattr(item, "kind", None) is fmt.PlaceKind.PROVINCE:
                    for suffix in (" Province", " province"):
                        self._add(item.name + suffix, kind, slug, False, "name")
        names = sorted(self.entries, key=len, reverse=True)
        self.pattern = re.compile(r"(?<![\w])(?:" + "|".join(map(re.escape, names)) + r")(?![\w])") if names else None

    def _add(self, text: str, kind: str, slug: str, weak: bool, how: str) -> None:
        entry = (kind, slug, weak, how)
        if entry not in self.entries.setdefault(text, []):
            self.entries[text].append(entry)

    def find(self, body: str, skip: list[tuple[int, int]], capitals: dict[str, str]) -> list[Hit]:
        """Return the registry entities named in `body`, outside the `skip` spans."""
        if self.pattern is None:
            return []
        raw: list[Hit] = []
        for m in self.pattern.finditer(body):
            if any(s <= m.start() < e for s, e in skip):
                continue
            for kind, slug, weak, how in self.entries[m.group(0)]:
                hit = Hit(kind, slug, m.start(), m.end(), weak, how)
                if kind == "place" and slug in capitals and _GOVERNMENT_VERB.match(body[m.end() : m.end() + 30]):
                    hit = Hit("place", capitals[slug], m.start(), m.end(), False, "capital-for-country")
                raw.append(hit)
        strong = {(h.kind, h.slug) for h in raw if not h.weak}
        out = []
        for hit in raw:
            if hit.weak and (hit.kind, hit.slug) not in strong and not self._single_name_ok(body, hit):
                continue
            out.append(hit)
        # one name, one entity: where a text names several registry entries, keep none of them
        by_span: dict[tuple[int, int], list[Hit]] = {}
        for hit in out:
            by_span.setdefault(hit.text_span, []).append(hit)
        return [hits[0] for hits in by_span.values() if len({(h.kind, h.slug) for h in hits}) == 1]

    def _single_name_ok(self, body: str, hit: Hit) -> bool:
        # a one-word person name, with that person's title near it
        if hit.kind != "person" or hit.how != "name":
            return False
        person = self.registries.people[hit.slug]
        if not person.title:
            return False
        window = body[max(0, hit.start - 60) : hit.end + 60].lower()
        return person.title.lower() in window
