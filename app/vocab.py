"""The vocabularies of the knowledge base: the values a kind, a flow, a status or a state may take.

The lowest layer: the table models (`app.models`, as CHECK constraints), the seed format
(`app.seed.format`, as validated fields) and the API's enums all take them from here.
"""

from __future__ import annotations

from enum import StrEnum


class PlaceKind(StrEnum):
    COUNTRY = "country"
    PROVINCE = "province"  # also regions, oblasts, krais: ISO 3166-2 subdivisions
    CITY = "city"
    TOWN = "town"
    PORT = "port"
    MACRO_REGION = "macro-region"


class OrganisationKind(StrEnum):
    COMPANY = "company"
    MEDIA = "media"
    GOVERNMENT_BODY = "government-body"
    CUSTOMS_AUTHORITY = "customs-authority"
    DIPLOMATIC_MISSION = "diplomatic-mission"
    BUSINESS_ASSOCIATION = "business-association"
    INTERNATIONAL_ORGANISATION = "international-organisation"
    NEWS_AGENCY = "news-agency"
    BUSINESS_PARK = "business-park"
    OTHER = "other"


class EventKind(StrEnum):
    TRADE_FAIR = "trade-fair"
    DELEGATION_VISIT = "delegation-visit"
    CONFERENCE = "conference"
    STATE_VISIT = "state-visit"
    DIPLOMATIC_VISIT = "diplomatic-visit"
    SUMMIT = "summit"
    CONSULATE_OPENING = "consulate-opening"
    AGREEMENT_SIGNING = "agreement-signing"
    POLICY_CHANGE = "policy-change"
    POLICY_STATEMENT = "policy-statement"
    LOGISTICS_MILESTONE = "logistics-milestone"
    BUSINESS_ESTABLISHMENT = "business-establishment"
    ARMED_CONFLICT = "armed-conflict"
    OTHER = "other"


class DatePrecision(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class DateBasis(StrEnum):
    STATED = "stated"  # the text gives the date outright
    INFERRED = "inferred"  # deduced from the text; `inference` says how


class TradeFlow(StrEnum):
    TOTAL = "total"
    EXPORT = "export"
    IMPORT = "import"


class FigureStatus(StrEnum):
    ACTUAL = "actual"
    ESTIMATE = "estimate"
    FORECAST = "forecast"
    TARGET = "target"


class PeriodType(StrEnum):
    DAY = "day"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    YEAR_TO_DATE = "year-to-date"  # January to some month of one year
    OTHER = "other"


class Approximation(StrEnum):
    EXACT = "exact"
    ABOUT = "about"  # "around", "some", "about"
    NEARLY = "nearly"  # "nearly", "almost": the true value is a little below
    MORE_THAN = "more-than"  # "more than", "over", "surpassing"
    LESS_THAN = "less-than"
    UP_TO = "up-to"  # "could reach"


class ReviewStatus(StrEnum):
    PENDING = "pending"  # drafted by `tradegraph draft`, not yet checked by a person
    ACCEPTED = "accepted"  # checked against the text (the curated corpus)


class ParticipantRole(StrEnum):
    ORGANISER = "organiser"
    HOST = "host"
    PARTICIPANT = "participant"
    DELEGATION = "delegation"
    SIGNATORY = "signatory"
    SPEAKER = "speaker"
    EXHIBITOR = "exhibitor"
    VISITOR = "visitor"
    REPORTER = "reporter"  # the body that announced or reported the event


class ConversionKind(StrEnum):
    STATED = "stated"  # the article gives the amount in another currency
    COMPUTED = "computed"  # from the ECB's reference rates
