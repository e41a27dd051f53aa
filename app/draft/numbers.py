"""Money, quantities and changes as news writes them, each with its exact span in the text.

Money: a currency before the number (symbol or code: "$240.1 billion", "RMB 12.7 billion",
"USD 1.5 bn") or after it ("54.9 billion yuan", "3.2 trillion roubles"), a scale word, and
an optional conversion in brackets or parentheses ("[$7.7 billion]", "(about $5.83 bn)").
Quantities: a number, a scale and a unit ("1.5 million tonnes", "300,000 TEU").
Changes: percentages with their direction ("up 26.3%", "down 8 per cent") and multiples
("grew 6.2 times"), with the approximation words in front of them.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

# ISO 4217 codes for the words and symbols news uses; codes themselves are accepted as written.
CURRENCY_WORDS: dict[str, str] = {
    "$": "USD",
    "us$": "USD",
    "u.s.$": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "u.s. dollars": "USD",
    "us dollars": "USD",
    "€": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "£": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "pounds sterling": "GBP",
    "¥": "CNY",
    "yuan": "CNY",
    "renminbi": "CNY",
    "rmb": "CNY",
    "rouble": "RUB",
    "roubles": "RUB",
    "ruble": "RUB",
    "rubles": "RUB",
    "₽": "RUB",
    "yen": "JPY",
    "won": "KRW",
    "rupee": "INR",
    "rupees": "INR",
    "rs": "INR",
    "rs.": "INR",
    "tenge": "KZT",
    "hk$": "HKD",
    "a$": "AUD",
    "c$": "CAD",
    "nz$": "NZD",
    "au$": "AUD",
    "aus$": "AUD",
    "ca$": "CAD",
    "s$": "SGD",
    "r$": "BRL",
    "nt$": "TWD",
    "mx$": "MXN",
    "₦": "NGN",
    "₱": "PHP",
    "r": "ZAR",  # only against a number with a scale (`_SYMBOL`): "R36bn"
    "rand": "ZAR",
    "ksh": "KES",
    "kshs": "KES",
    "n": "NGN",  # only ever read against a number with a scale word or grouped digits (`_SYMBOL`)
    "₫": "VND",
    "₺": "TRY",
    "₹": "INR",
    "₩": "KRW",
    "vnđ": "VND",
    "vnd": "VND",
    "naira": "NGN",
    "đồng": "VND",
    "reais": "BRL",
    "lira": "TRY",
    "liras": "TRY",
    "ringgit": "MYR",
    "rm": "MYR",  # "RM111.4 billion": only against a number (`_SYMBOL`)
    "baht": "THB",
    "rupiah": "IDR",
    "hryvnias": "UAH",
    "hryvnia": "UAH",
    "zlotys": "PLN",
    "zloty": "PLN",
    "tugriks": "MNT",
    "tugrik": "MNT",
}
CURRENCY_CODES = (
    "USD EUR CNY RUB GBP JPY KRW INR KZT HKD AUD CAD CHF SGD MNT UZS TRY BRL ZAR VND THB MYR IDR AED SAR "  # noqa: SIM905
    "NZD TWD MXN NGN ARS CLP COP PEN EGP PKR BDT PHP UAH BYN IQD IRR KES GHS MAD PLN SEK NOK DKK CZK HUF "
    "ILS QAR KWD AZN GEL AMD KGS TJS TMT LKR MMK KHR LAK NPR UYU DOP".split()
)

SCALES: dict[str, int] = {
    "thousand": 10**3,
    "k": 10**3,
    "million": 10**6,
    "mln": 10**6,
    "mn": 10**6,
    "m": 10**6,
    "billion": 10**9,
    "bln": 10**9,
    "bn": 10**9,
    "b": 10**9,
    "trillion": 10**12,
    "crore": 10**7,
    "crores": 10**7,
    "lakh": 10**5,
    "lakh crore": 10**12,
    "lakh crores": 10**12,
    "tn": 10**12,
    "trln": 10**12,
}

UNITS: dict[str, str] = {
    "tonnes": "tonne",
    "tonne": "tonne",
    "tons": "tonne",
    "ton": "tonne",
    "metric tons": "tonne",
    "teu": "teu",
    "teus": "teu",
    "containers": "container",
    "container": "container",
    "barrels": "barrel",
    "barrels per day": "barrel-per-day",
    "barrels a day": "barrel-per-day",
    "bpd": "barrel-per-day",
    "b/d": "barrel-per-day",
    "cubic metres": "cubic-metre",
    "cubic meters": "cubic-metre",
    "bcm": "billion-cubic-metre",
    "vehicles": "vehicle",
    "cars": "vehicle",
    "wagons": "wagon",
    "head of cattle": "head",
    "kilograms": "kilogram",
    "kilogrammes": "kilogram",
    "kg": "kilogram",
    "carats": "carat",
    "bags": "bag",
    "cartons": "carton",
    "hectolitres": "hectolitre",
    "hectoliters": "hectolitre",
}

# A number: "240.1", "1,500,000", "1,62,000" (lakh grouping), "312 500" (thousands grouped by a
# space, a no-break or a thin space, as Russian and European outlets write them: "1 234,5" with a
# decimal comma), "31,2" (a decimal comma: one or two digits after it), and the stray space after
# a decimal point that copy-editing leaves ("40. 5 billion") when a scale word follows.
_GROUP_SPACE = "[ \u00a0\u202f\u2009]"
_NUMBER = (
    r"\d{1,2}(?:,\d\d)+,\d{3}(?:\.\d+)?|\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![,\d])"
    r"|\d{1,3}(?:" + _GROUP_SPACE + r"\d{3})+(?:,\d+)?(?![\d.,])|\d{1,3},\d{1,2}(?![\d,])|\d+(?:\.\s?\d+)?"
)
_NUM = r"(?P<num>" + _NUMBER + ")"
# "lakh crore" (10^5 x 10^7) before either word alone: "Rs 5 lakh crore" is 5 trillion rupees
_SCALE = (
    r"(?:\s?(?P<scale>thousand|million|billion|trillion|mln|bln|trln|bn|mn|tn|lakh\scrores?|crores?|lakh|[mbk])\b)?"
)
# a dollar sign after letters is another country's dollar ("R$" the real, "NZ$"): read as one of
# those, never as the US dollar ("R$ 67.1 billion" is no USD amount)
_SYMBOL = (
    r"(?P<sym>(?:(?<![A-Za-z.])(?:US\$|U\.S\.\$|HK\$|NZ\$|NT\$|MX\$|AUS?\$|CA\$|A\$|C\$|S\$|R\$|\$)|€|£|¥|₽|₦|₫|₺|₹|₩|₱)"
    + _GROUP_SPACE
    # the naira as Nigerian copy writes it without its sign: "N67.1 trillion", against the number
    + r"?|\bRs\.?\s?|\bRM\s?(?=\d)|\bK[Ss]hs?\.?\s?(?=\d)|(?<![\w.$-])N(?=\d)|"
    # the rand against a number with its scale: "R37.9bn"
    + r"(?<![\w.$-])R(?=\d[\d.,]*\s?(?:bn|billion|mn|million|trillion|tn)\b)|\b(?:"
    + "|".join(CURRENCY_CODES)
    # a code written against the number too ("USD67.1 billion", "VNĐ81.4 trillion")
    + r"|RMB|VNĐ)(?![A-Za-z])\s?)"
)
_WORD_CUR = (
    r"(?:\s(?P<word>U\.S\. dollars|US dollars|dollars|dollar|euros|euro|pounds sterling|pounds|yuan|renminbi|RMB|"
    r"roubles|rouble|rubles|ruble|yen|won|rupees|rupee|tenge|naira|đồng|reais|liras|lira|ringgit|baht|rupiah|"
    r"hryvnias|hryvnia|zlotys|zloty|tugriks|tugrik|pesos|peso|rand|" + "|".join(CURRENCY_CODES) + r")\b)"
)
MONEY_BEFORE = re.compile(_SYMBOL + _NUM + _SCALE)
MONEY_AFTER = re.compile(r"(?<![\w$€£¥.,/–-])" + _NUM + _SCALE + _WORD_CUR)
_UNIT_WORDS = sorted(UNITS, key=len, reverse=True)
QUANTITY = re.compile(
    r"(?<![\w$€£¥.,/–-])"
    + _NUM
    + _SCALE
    # ("1.21 million 60-kilogram bags", "165.5 million 15kg cartons")
    + r"\s(?:metric\s)?(?:\d+[- ]?(?:kilogram|kg|kilo)s?[- ])?(?P<unit>"
    + "|".join(map(re.escape, _UNIT_WORDS))
    + r")\b",
    re.IGNORECASE,
)
# what a percentage may be the level of, rather than a change: a share, a tariff, a rate
_LEVEL = re.compile(
    r"\b(?:shares?|proportion|portion|stake|accounts?\sfor|accounted\sfor|tariffs?|duty|duties|tax|VAT)\b", re.I
)
PERCENT = re.compile(
    r"(?<![\d.,])(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:[.,]\d+)?)\s?(?:%|per\s?cent\b|percent\b|pct\b)", re.IGNORECASE
)
# "doubled", and "to double trade to $6 billion" (the infinitive of a plan)
MULTIPLE = re.compile(
    r"(?P<num>\d+(?:\.\d+)?)[- ](?:times|fold)\b|\b(?P<word>doubled|tripled|(?<=\bto\s)double|(?<=\bto\s)triple|"
    r"twofold|threefold|fourfold|fivefold|sixfold|tenfold)\b",
    re.IGNORECASE,
)

_FRACTIONS = {"half": 50, "quarter": 25, "fifth": 20, "tenth": 10}
_FRACTION = re.compile(r"\bby\s(?:a|one)[- ](?P<frac>half|quarter|fifth|tenth)\b", re.IGNORECASE)
_FOLD = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10}

APPROX_BEFORE: tuple[tuple[str, str], ...] = (
    (r"(?:nearly|almost|close to|just under|just below)", "nearly"),
    (r"(?:about|around|some|approximately|roughly|an estimated|estimated at)", "about"),
    (
        r"(?:more than|over|above|in excess of|surpassing(?: the mark of)?|exceed|exceeds|exceeding|exceeded|top|"
        r"topping|topped)",
        "more-than",
    ),
    (r"(?:less than|under|below|fewer than)", "less-than"),
    # (not a movement: "edged up to £7.6bn", "crept up to")
    (
        r"(?:(?<!edged\s)(?<!edging\s)(?<!crept\s)(?<!moved\s)(?<!inched\s)(?<!ticked\s)(?<!went\s)(?<!picked\s)"
        r"up to|could reach|may reach|might reach|as much as)",
        "up-to",
    ),
)
_DECLINE = re.compile(
    r"\b(?:down|fell|fall(?:en|ing|s)?|decreas\w*|declin\w*|drop\w*|slump\w*|plung\w*|contract\w*|shr[ai]nk\w*|"
    r"lower|slid|slipp?\w*|tumbl\w*|los[st]\w*)\b",
    re.IGNORECASE,
)
_GROWTH = re.compile(
    r"\b(?:growth|grew|grow\w*|up|ris\w*|rose|increas\w*|jump\w*|surg\w*|soar\w*|climb\w*|more)\b", re.I
)
DIRECTION = re.compile(_DECLINE.pattern + "|" + _GROWTH.pattern, re.IGNORECASE)  # any word of direction
_YOY = re.compile(
    r"year[- ]on[- ]year|year[- ]over[- ]year|from a year (?:earlier|ago|before)|than a year (?:earlier|ago|before)|"
    r"compared (?:with|to) the same period|over the same period|\by/y\b|\byoy\b",
    re.IGNORECASE,
)


@dataclasses.dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str
    start: int
    end: int
    conversion: Money | None = None  # the article's own conversion in brackets after it
    approximation: str = "exact"

    @property
    def full_end(self) -> int:
        """Return where the amount ends, its stated conversion included."""
        return self.conversion.full_end if self.conversion is not None else self.end


@dataclasses.dataclass(frozen=True)
class Quantity:
    value: Decimal
    unit: str
    start: int
    end: int
    approximation: str = "exact"


@dataclasses.dataclass(frozen=True)
class Change:
    pct: Decimal | None
    multiple: Decimal | None
    start: int
    end: int
    approximation: str = "exact"
    year_on_year: bool = False


def to_decimal(num: str, scale: str | None) -> Decimal:
    """Return the value of a number as written with its scale word ("40. 5", "billion")."""
    value = number_value(num)
    if scale:
        value *= SCALES[scale.lower()]
    return value.normalize() if value == value.to_integral_value() else value


def number_value(num: str) -> Decimal:
    """Return the value of a number as `_NUMBER` reads it: commas group thousands (or lakhs), unless
    the number is grouped by spaces or its only comma has one or two digits after it (a decimal comma)."""
    grouped = re.search(_GROUP_SPACE + r"\d{3}", num) is not None
    digits = re.sub(r"\s", "", num)
    if grouped or re.fullmatch(r"\d+,\d{1,2}", digits):
        return Decimal(digits.replace(",", "."))
    return Decimal(digits.replace(",", ""))


def _plain(value: Decimal) -> Decimal:
    # 5.4E+10 -> 54000000000: the seed files write amounts out in full
    return Decimal(format(value, "f"))


def approximation_before(text: str, start: int) -> str:
    """Return the approximation written just before `start` ("more than $5 bn" -> more-than)."""
    window = text[max(0, start - 40) : start]
    for pattern, name in APPROX_BEFORE:
        m = re.search(r"\b" + pattern + r"\s(?P<the>the\s)?(?:mark of\s)?(?:a\s)?$", window, re.IGNORECASE)
        if m:
            # "still below the £14.9bn shipped in 2019": a comparison with an amount stated as it was
            return "exact" if m.group("the") and name in ("less-than", "more-than") else name
    return "exact"


_YEN = re.compile(r"\b(?:yen|JPY)\b")
_YUAN = re.compile(r"\b(?:yuan|renminbi|RMB|CNY)\b", re.IGNORECASE)
_COUNTRY = re.compile(r"\b(?:(?P<japan>Japan|Japanese|Tokyo)|(?P<china>China|Chinese|Beijing))\b")


def yen_sign(text: str, *, story: str | None = None) -> str:
    """Return the currency "¥" stands for in `text`, a story or (`story`: the story's own choice) one
    of its sentences: its currency words (yen, yuan) if they say one; else the first of Japan and China
    it names other than as a partner ("to China", "with Japan"), as the country whose statistics are
    quoted is (the sign is both currencies'); else the story's choice, and for a story the yuan."""
    yen, yuan = bool(_YEN.search(text)), bool(_YUAN.search(text))
    if yen != yuan:
        return "JPY" if yen else "CNY"
    for m in _COUNTRY.finditer(text):
        if not re.search(
            r"\b(?:to|from|with|and|than|against)\s(?:the\s)?$", text[max(0, m.start() - 12) : m.start()], re.I
        ):
            return "JPY" if m.group("japan") else "CNY"
    return story or "CNY"


_RUPEE_COUNTRIES = (
    ("PKR", re.compile(r"\b(?:Pakistan|Pakistani|Islamabad|Karachi|Lahore|ISLAMABAD|KARACHI|LAHORE)\b")),
    ("LKR", re.compile(r"\b(?:Sri Lanka|Sri Lankan|Colombo|COLOMBO)\b")),
    ("NPR", re.compile(r"\b(?:Nepal|Nepali|Nepalese|Kathmandu|KATHMANDU)\b")),
)
_PESO_COUNTRIES = (
    ("PHP", re.compile(r"\b(?:Philippines|Philippine|Filipino|Manila|MANILA)\b")),
    ("MXN", re.compile(r"\b(?:Mexico|Mexican|MEXICO CITY)\b")),
    ("ARS", re.compile(r"\b(?:Argentina|Argentine|Argentinian|Buenos Aires|BUENOS AIRES)\b")),
    ("CLP", re.compile(r"\b(?:Chile|Chilean|Santiago|SANTIAGO)\b")),
    ("COP", re.compile(r"\b(?:Colombia|Colombian|Bogota|Bogotá|BOGOTA)\b")),
    ("UYU", re.compile(r"\b(?:Uruguay|Uruguayan|Montevideo|MONTEVIDEO)\b")),
    ("DOP", re.compile(r"\b(?:Dominican Republic|Santo Domingo|SANTO DOMINGO)\b")),
)

# the peso of each of those countries (an ISO 4217 code begins with its country's ISO 3166 code)
PESO_OF = {code[:2]: code for code, _ in _PESO_COUNTRIES}


def peso_currency(text: str) -> str | None:
    """Return the currency "pesos" stand for in a story: that of the first peso country it names (its
    dateline's city counts), else none (many countries count in pesos)."""
    named = [(m.start(), code) for code, pattern in _PESO_COUNTRIES if (m := pattern.search(text))]
    return min(named)[1] if named else None


_INDIA = re.compile(
    r"\b(?:India|Indian|New Delhi|Mumbai|Chennai|Kolkata|Bengaluru|Hyderabad|NEW DELHI|MUMBAI|CHENNAI|KOLKATA"
    r"|BENGALURU|HYDERABAD)\b"
)


def rupee_currency(text: str) -> str:
    """Return the currency "Rs" and "rupees" stand for in a story: that of the first of India, Pakistan,
    Sri Lanka and Nepal it names (its dateline's city counts), else India's."""
    # the first of the rupee's countries the story names is the one whose rupee it counts in ("Nepal's
    # imports from India rose to Rs 1.1 trillion")
    named = [(m.start(), code) for code, pattern in (*_RUPEE_COUNTRIES, ("INR", _INDIA)) if (m := pattern.search(text))]
    return min(named)[1] if named else "INR"


_DOLLAR_COUNTRIES = (
    ("USD", re.compile(r"(?<!\w)(?:United States|U\.S\.|US|America|American|Washington|WASHINGTON)(?![\w$])"), None),
    ("NZD", re.compile(r"\b(?:New Zealand|Wellington|Auckland|WELLINGTON|AUCKLAND)\b"), "NZ$"),
    (
        "AUD",
        re.compile(r"\b(?:Australia|Australian|Canberra|Sydney|Melbourne|Perth|CANBERRA|SYDNEY|MELBOURNE)\b"),
        "A$",
    ),
    ("CAD", re.compile(r"\b(?:Canada|Canadian|Ottawa|Toronto|Vancouver|OTTAWA|TORONTO|VANCOUVER)\b"), "C$"),
    ("SGD", re.compile(r"\b(?:Singapore|SINGAPORE)\b"), "S$"),
)
# the story marks the US dollar where it means it with its sign ("US$4,300 a tonne"); "the U.S. dollar"
# as a currency's name marks nothing (Reuters writes "$" for it and "C$" for Canada's)
_US_MARKED = re.compile(r"(?<![A-Za-z])(?:US\$|U\.S\.\s?\$)")


def dollar_currency(text: str) -> str:
    """Return the currency "$" alone stands for in a story: the US dollar, unless the story marks the
    US dollar with its sign where it means it ("US$4,300 a tonne") and never its own country's dollar
    ("NZ$"), and the first of the dollar's countries it names is that other country (a Stats NZ
    release: "New Zealand's goods exports rose ... to $8.2 billion"). Taiwan and Hong Kong count
    their trade in US dollars."""
    if not _US_MARKED.search(text):
        return "USD"
    named = [(m.start(), code, prefix) for code, pattern, prefix in _DOLLAR_COUNTRIES if (m := pattern.search(text))]
    if not named:
        return "USD"
    _, code, prefix = min(named)
    if prefix is None or prefix.lower() in text.lower().replace("us$", ""):
        return "USD"
    return code


RAND_STORY = re.compile(
    r"\b(?:South Africa|South African|Johannesburg|Pretoria|Cape Town|JOHANNESBURG|PRETORIA|CAPE TOWN)\b"
)


def find_money(
    text: str,
    *,
    yen_sign: str = "CNY",
    rupee: str = "INR",
    dollar: str = "USD",
    peso: str | None = None,
    rand: bool = False,
) -> list[Money]:
    """Return every money amount in `text`, conversions in brackets attached to the amount before them
    (`yen_sign`: the currency "¥" stands for in the story; `rupee`: what "Rs" and "rupees" do;
    `dollar`: what "$" alone does; `peso`: what "pesos" do, if the story says; `rand`: whether "R" before
    a number is the rand)."""
    raw: list[Money] = []
    for m in MONEY_BEFORE.finditer(text):
        sym = m.group("sym").strip()
        currency = sym.upper() if sym.upper() in CURRENCY_CODES else CURRENCY_WORDS.get(sym.lower())
        if sym == "R" and not rand:
            continue  # "R2 trillion" outside a South African story: whose money is not said
        if sym == "¥":
            currency = yen_sign
        elif sym == "$":
            currency = dollar
        elif currency == "INR" and sym != "₹" and not re.match(r"(?i)lakh|crore", m.group("scale") or ""):
            currency = rupee  # "Rs 780 billion" in a Pakistani story ("Rs 90,000 crore" counts as India does)
        if currency is None or (_STRAY.search(m.group("num")) and not m.group("scale")):
            continue
        if not m.group("scale") and not _bare_amount_ok(m.group("num")):
            continue
        if sym == "N" and not (m.group("scale") or "," in m.group("num")):
            # "N2 billion" and "N5,000,000" are the naira; "N95" alone is a mask's name
            continue
        if sym[:1].isalpha() and not m.group("scale") and m.group("num").isdigit():
            # a code before a plain whole number is a name or a year ("COP29", "AMD 2024"), not money;
            # "USD 21,000" and "USD 2.6 bn" are
            continue
        value = _plain(to_decimal(m.group("num"), m.group("scale")))
        raw.append(Money(value, currency, m.start(), m.end(), approximation=approximation_before(text, m.start())))
    for m in MONEY_AFTER.finditer(text):
        word = m.group("word")
        currency = word if word in CURRENCY_CODES else CURRENCY_WORDS.get(word.lower())
        if currency == "INR" and word.lower().startswith("rupee"):
            currency = rupee
        if word.lower().startswith("peso"):
            currency = peso  # whose peso the story's country says, or none
        if currency is None or (_STRAY.search(m.group("num")) and not m.group("scale")):
            continue
        if any(r.start <= m.start() < r.end for r in raw):
            continue
        value = _plain(to_decimal(m.group("num"), m.group("scale")))
        raw.append(Money(value, currency, m.start(), m.end(), approximation=approximation_before(text, m.start())))
    raw.sort(key=lambda money: money.start)
    return _attach_conversions(text, raw)


_STRAY = re.compile(r"\.\s")  # "40. 5": read as 40.5 only with a scale word after it


def _bare_amount_ok(num: str) -> bool:
    # "$21,000" is money; "$5" alone in trade news is rare and usually a price: keep both, but
    # refuse a lone digit with no scale
    return len(re.sub(r"\D", "", num)) > 1


_CONVERSION_OR = re.compile(r"^,?\s(?:or|or about|or around|or roughly|or some|equivalent to|or nearly)\s$", re.I)
_CONVERSION_GAP = re.compile(
    r"^\s?[\[(]\s?(?:about|around|approximately|some|roughly|or|equivalent to|nearly)?\s?$", re.I
)


def _attach_conversions(text: str, found: list[Money]) -> list[Money]:
    out: list[Money] = []
    skip: set[int] = set()
    for i, money in enumerate(found):
        if i in skip:
            continue
        nxt = found[i + 1] if i + 1 < len(found) else None
        if nxt is not None and nxt.currency != money.currency:
            gap = text[money.end : nxt.start]
            closing = text[nxt.end : nxt.end + 1]
            if _CONVERSION_GAP.match(gap) and closing in ")]":
                conv = dataclasses.replace(nxt, end=nxt.end + 1)
                out.append(dataclasses.replace(money, conversion=conv))
                skip.add(i + 1)
                continue
            if _CONVERSION_OR.match(gap):
                # "54.9 billion yuan, or about $7.7 billion"
                out.append(dataclasses.replace(money, conversion=nxt))
                skip.add(i + 1)
                continue
        out.append(money)
    return out


def find_quantities(text: str, taken: list[tuple[int, int]]) -> list[Quantity]:
    """Return quantities with units in `text`, leaving out spans already `taken` by money."""
    out = []
    for m in QUANTITY.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        value = _plain(to_decimal(m.group("num"), m.group("scale")))
        unit = UNITS[re.sub(r"^metric\s", "", m.group("unit").lower())]
        out.append(Quantity(value, unit, m.start(), m.end(), approximation_before(text, m.start())))
    return out


def find_changes(text: str) -> list[Change]:
    """Return percentage changes and multiples in `text`, signed by the words before them."""
    out: list[Change] = []
    for m in PERCENT.finditer(text):
        before = text[max(0, m.start() - 45) : m.start()]
        after = text[m.end() : m.end() + 40]
        # "a share of 30%", "30% of" are proportions, not changes
        if re.match(r"\s(?:of|share)\b", after) or re.search(
            r"\b(?:share|stake|accounted for|tariffs?|duty|rate of)\s*$", before
        ):
            continue
        # "raised its key rate to 18%", "a 25% tariff", "VAT of 20%": levels of a rate, not changes
        if re.search(
            r"\b(?:(?<!growth\s)rates?|tariffs?|duty|duties|tax|VAT|margin|yield|inflation|interest)\b[^.,;]{0,15}$",
            before,
            re.I,
        ):
            continue
        if re.match(r"\s(?:tariffs?|duty|duties|tax|rate|interest)\b", after, re.I):
            continue
        # "its share fell to 17.6% from 19.1%", "accounts for 21% of trade, up from 18%": a level of a
        # share or a tariff reached, and its base, not changes ("growth slowed to 4.7 percent",
        # "rose close to 10%", "accelerating from 3.1% in April" are changes)
        if re.search(
            r"(?:(?<!\bclose\s)(?<!\bup\s)\bto|\bfrom)\s(?:about\s|around\s|nearly\s|almost\s|just\s)?$", before, re.I
        ) and _LEVEL.search(text, 0, m.start()):
            continue
        # a change is told by a word of direction near it ("rose 7%", "up 5%", "a 9 per cent jump")
        near = before[-30:] + " " + after[:20]
        if not (
            _DECLINE.search(near)
            or _GROWTH.search(near)
            or re.search(r"\b(?:less|fewer)\b", near)
            or re.search(r"(?:^|[\s(])[+−]\s?$|\(\s?[–-]\s?$|\bby\s$", before)
        ):
            continue
        sign = Decimal(1)
        # the words of its own clause when they tell a direction ("Despite lower output, exports rose 10%")
        local = re.split(r"[,;]\s", before)[-1]
        before = local if DIRECTION.search(local) else before
        direction = before + " " + re.split(r"[,;]", after[:25])[0]  # (", while imports fell 2%" is another's)
        if _DECLINE.search(direction) and not re.search(r"\bgrowth\b|\bgrew\b", before, re.IGNORECASE):
            sign = Decimal(-1)
        # "(-8%)", "(−8%)": a minus sign written before the number
        if re.search(r"\(\s?[-−–]\s?$", before):
            sign = Decimal(-1)
        # "2.2% less than a year earlier", "9 per cent more than": the words right after say it
        if re.match(r"\s(?:less|lower|fewer|below)\b", after, re.IGNORECASE):
            sign = Decimal(-1)
        elif re.match(r"\s(?:more|higher|above)\b", after, re.IGNORECASE):
            sign = Decimal(1)
        yoy = bool(_YOY.search(text[max(0, m.start() - 60) : m.end() + 60]))
        approx = approximation_before(text, m.start())
        out.append(Change(number_value(m.group("num")) * sign, None, m.start(), m.end(), approx, yoy))
    for m in _FRACTION.finditer(text):
        # "declined by a fifth", "rose by a quarter": a change told as a fraction
        before = text[max(0, m.start() - 40) : m.start()]
        if not DIRECTION.search(before):
            continue
        sign = Decimal(-1) if _DECLINE.search(re.split(r"[,;]\s", before)[-1]) else Decimal(1)
        pct = Decimal(_FRACTIONS[m.group("frac").lower()])
        yoy = bool(_YOY.search(text[max(0, m.start() - 60) : m.end() + 60]))
        out.append(Change(pct * sign, None, m.start(), m.end(), "exact", yoy))
    for m in MULTIPLE.finditer(text):
        if approximation_before(text, m.start()) != "exact":
            continue  # "more than doubled": by how much is not said
        if m.group("num"):
            multiple = Decimal(m.group("num"))
        else:
            word = m.group("word").lower()
            multiple = Decimal(_FOLD.get(word.removesuffix("fold"), 2 if word.startswith("doubl") else 3))
        yoy = bool(_YOY.search(text[max(0, m.start() - 60) : m.end() + 60]))
        out.append(Change(None, multiple, m.start(), m.end(), approximation_before(text, m.start()), yoy))
    out.sort(key=lambda c: c.start)
    return out
