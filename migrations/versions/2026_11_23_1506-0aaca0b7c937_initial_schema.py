"""initial schema

Revision ID: 0aaca0b7c937
Revises:
Create Date: 2026-11-23 15:06:17.989711
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0aaca0b7c937"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The database itself refuses evidence whose quote is not the article's own words, and
# refuses an edit of an article body that would orphan the evidence pointing into it.
EVIDENCE_TRIGGERS = """
CREATE FUNCTION evidence_quote_matches_body() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    actual text;
BEGIN
    SELECT substr(a.body, NEW.start_offset + 1, NEW.end_offset - NEW.start_offset)
      INTO actual FROM articles a WHERE a.id = NEW.article_id;
    IF actual IS DISTINCT FROM NEW.quote THEN
        RAISE EXCEPTION 'evidence quote does not match article % at [%, %)',
            NEW.article_id, NEW.start_offset, NEW.end_offset
            USING ERRCODE = 'check_violation',
                  DETAIL = format('quote %L, text there %L', NEW.quote, actual);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER evidence_quote_matches_body
    BEFORE INSERT OR UPDATE ON evidence
    FOR EACH ROW EXECUTE FUNCTION evidence_quote_matches_body();

CREATE FUNCTION article_body_keeps_evidence() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    broken evidence%ROWTYPE;
BEGIN
    SELECT e.* INTO broken FROM evidence e
     WHERE e.article_id = NEW.id
       AND substr(NEW.body, e.start_offset + 1, e.end_offset - e.start_offset) IS DISTINCT FROM e.quote
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'article % body change breaks evidence % at [%, %)',
            NEW.id, broken.id, broken.start_offset, broken.end_offset
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER article_body_keeps_evidence
    AFTER UPDATE OF body ON articles
    FOR EACH ROW EXECUTE FUNCTION article_body_keeps_evidence();
"""

DROP_EVIDENCE_TRIGGERS = """
DROP TRIGGER IF EXISTS article_body_keeps_evidence ON articles;
DROP FUNCTION IF EXISTS article_body_keeps_evidence();
DROP TRIGGER IF EXISTS evidence_quote_matches_body ON evidence;
DROP FUNCTION IF EXISTS evidence_quote_matches_body();
"""


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("date_precision", sa.String(length=10), nullable=True),
        sa.Column("date_basis", sa.String(length=10), nullable=True),
        sa.Column("date_inference", sa.Text(), nullable=True),
        sa.Column("participant_count", sa.Integer(), nullable=True),
        sa.Column("participant_unit", sa.Text(), nullable=True),
        sa.Column("participant_approximation", sa.String(length=20), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "date_basis <> 'inferred' OR date_inference IS NOT NULL", name=op.f("ck_events_date_inference")
        ),
        sa.CheckConstraint("date_basis IN ('stated', 'inferred')", name=op.f("ck_events_date_basis")),
        sa.CheckConstraint(
            "date_precision IN ('day', 'week', 'month', 'quarter', 'year')",
            name=op.f("ck_events_date_precision"),
        ),
        sa.CheckConstraint(
            "kind IN ('trade-fair', 'delegation-visit', 'conference', 'state-visit', 'diplomatic-visit', 'summit', 'consulate-opening', 'agreement-signing', 'policy-change', 'policy-statement', 'logistics-milestone', 'business-establishment', 'armed-conflict', 'other')",
            name=op.f("ck_events_kind"),
        ),
        sa.CheckConstraint(
            "participant_approximation IN ('exact', 'about', 'nearly', 'more-than', 'less-than', 'up-to')",
            name=op.f("ck_events_participant_approximation"),
        ),
        sa.CheckConstraint(
            "(participant_count IS NULL) = (participant_unit IS NULL)", name=op.f("ck_events_count_has_unit")
        ),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_events_dates_ordered")),
        sa.CheckConstraint("parent_id <> id", name=op.f("ck_events_not_own_parent")),
        sa.CheckConstraint("participant_count >= 0", name=op.f("ck_events_count_nonnegative")),
        sa.ForeignKeyConstraint(["parent_id"], ["events.id"], name=op.f("fk_events_parent_id_events")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("slug", name=op.f("uq_events_slug")),
    )
    op.create_index("ix_events_dates", "events", ["starts_on", "ends_on"], unique=False)
    op.create_index(op.f("ix_events_kind"), "events", ["kind"], unique=False)
    op.create_index(op.f("ix_events_parent_id"), "events", ["parent_id"], unique=False)
    op.create_table(
        "places",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=6), nullable=True),
        sa.Column("country_code", sa.String(length=2), nullable=True),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("geonames_id", sa.Integer(), nullable=True),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("aliases", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("code ~ '^[A-Z]{2}(-[A-Z0-9]{1,3})?$'", name=op.f("ck_places_code_iso")),
        sa.CheckConstraint("country_code ~ '^[A-Z]{2}$'", name=op.f("ck_places_country_code_iso")),
        sa.CheckConstraint(
            "kind IN ('country', 'province', 'city', 'town', 'port', 'macro-region')",
            name=op.f("ck_places_kind"),
        ),
        sa.CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name=op.f("ck_places_coordinates_paired")),
        sa.CheckConstraint(
            "latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180",
            name=op.f("ck_places_coordinates_range"),
        ),
        sa.CheckConstraint("parent_id <> id", name=op.f("ck_places_not_own_parent")),
        sa.ForeignKeyConstraint(["parent_id"], ["places.id"], name=op.f("fk_places_parent_id_places")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places")),
        sa.UniqueConstraint("code", name=op.f("uq_places_code")),
        sa.UniqueConstraint("geonames_id", name=op.f("uq_places_geonames_id")),
        sa.UniqueConstraint("slug", name=op.f("uq_places_slug")),
    )
    op.create_index(op.f("ix_places_country_code"), "places", ["country_code"], unique=False)
    op.create_index(op.f("ix_places_kind"), "places", ["kind"], unique=False)
    op.create_index(op.f("ix_places_parent_id"), "places", ["parent_id"], unique=False)
    op.create_table(
        "event_places",
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("place_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_places_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["place_id"], ["places.id"], name=op.f("fk_event_places_place_id_places")),
        sa.PrimaryKeyConstraint("event_id", "place_id", name=op.f("pk_event_places")),
    )
    op.create_index(op.f("ix_event_places_place_id"), "event_places", ["place_id"], unique=False)
    op.create_table(
        "organisations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("country_id", sa.BigInteger(), nullable=True),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("aliases", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('company', 'media', 'government-body', 'customs-authority', 'diplomatic-mission', 'business-association', 'international-organisation', 'news-agency', 'business-park', 'other')",
            name=op.f("ck_organisations_kind"),
        ),
        sa.CheckConstraint("parent_id <> id", name=op.f("ck_organisations_not_own_parent")),
        sa.ForeignKeyConstraint(["country_id"], ["places.id"], name=op.f("fk_organisations_country_id_places")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["organisations.id"], name=op.f("fk_organisations_parent_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("slug", name=op.f("uq_organisations_slug")),
    )
    op.create_index(op.f("ix_organisations_country_id"), "organisations", ["country_id"], unique=False)
    op.create_index(op.f("ix_organisations_kind"), "organisations", ["kind"], unique=False)
    op.create_index(op.f("ix_organisations_parent_id"), "organisations", ["parent_id"], unique=False)
    op.create_table(
        "articles",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("publisher_id", sa.BigInteger(), nullable=True),
        sa.Column("publisher_basis", sa.Text(), nullable=True),
        sa.Column("authors", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("published_precision", sa.String(length=10), nullable=True),
        sa.Column("published_basis", sa.String(length=10), nullable=True),
        sa.Column("published_inference", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("word_count", sa.Integer(), nullable=False),
        sa.Column("duplicate_of_id", sa.BigInteger(), nullable=True),
        sa.Column("duplicate_score", sa.Numeric(precision=5, scale=4), nullable=True),
        sa.Column("duplicate_method", sa.Text(), nullable=True),
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || setweight(to_tsvector('english'::regconfig, body), 'B')",
                persisted=True,
            ),
            nullable=True,
        ),
        sa.CheckConstraint(
            "body_sha256 = encode(sha256(convert_to(body, 'UTF8')), 'hex')",
            name=op.f("ck_articles_body_sha256_matches"),
        ),
        sa.CheckConstraint("language ~ '^[a-z]{2}$'", name=op.f("ck_articles_language_iso")),
        sa.CheckConstraint(
            "published_basis <> 'inferred' OR published_inference IS NOT NULL",
            name=op.f("ck_articles_published_inference"),
        ),
        sa.CheckConstraint("published_basis IN ('stated', 'inferred')", name=op.f("ck_articles_published_basis")),
        sa.CheckConstraint(
            "published_precision IN ('day', 'week', 'month', 'quarter', 'year')",
            name=op.f("ck_articles_published_precision"),
        ),
        sa.CheckConstraint(
            "(duplicate_of_id IS NULL) = (duplicate_score IS NULL) AND (duplicate_of_id IS NULL) = (duplicate_method IS NULL)",
            name=op.f("ck_articles_duplicate_complete"),
        ),
        sa.CheckConstraint(
            "(published_on IS NULL) = (published_precision IS NULL) AND (published_on IS NULL) = (published_basis IS NULL)",
            name=op.f("ck_articles_published_complete"),
        ),
        sa.CheckConstraint("duplicate_of_id <> id", name=op.f("ck_articles_not_own_duplicate")),
        sa.CheckConstraint("duplicate_score BETWEEN 0 AND 1", name=op.f("ck_articles_duplicate_score_range")),
        sa.CheckConstraint("word_count >= 0", name=op.f("ck_articles_word_count_nonnegative")),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"], ["articles.id"], name=op.f("fk_articles_duplicate_of_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["publisher_id"], ["organisations.id"], name=op.f("fk_articles_publisher_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
        sa.UniqueConstraint("slug", name=op.f("uq_articles_slug")),
        sa.UniqueConstraint("source_file", name=op.f("uq_articles_source_file")),
    )
    op.create_index(op.f("ix_articles_duplicate_of_id"), "articles", ["duplicate_of_id"], unique=False)
    op.create_index(op.f("ix_articles_published_on"), "articles", ["published_on"], unique=False)
    op.create_index(op.f("ix_articles_publisher_id"), "articles", ["publisher_id"], unique=False)
    op.create_index("ix_articles_search", "articles", ["search"], unique=False, postgresql_using="gin")
    op.create_table(
        "people",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("organisation_id", sa.BigInteger(), nullable=True),
        sa.Column("country_id", sa.BigInteger(), nullable=True),
        sa.Column("aliases", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
        sa.ForeignKeyConstraint(["country_id"], ["places.id"], name=op.f("fk_people_country_id_places")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_people_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("slug", name=op.f("uq_people_slug")),
    )
    op.create_index(op.f("ix_people_country_id"), "people", ["country_id"], unique=False)
    op.create_index(op.f("ix_people_organisation_id"), "people", ["organisation_id"], unique=False)
    op.create_table(
        "trade_figures",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("reporter_id", sa.BigInteger(), nullable=False),
        sa.Column("partner_id", sa.BigInteger(), nullable=True),
        sa.Column("flow", sa.String(length=10), nullable=False),
        sa.Column("commodity", sa.Text(), nullable=True),
        sa.Column("amount", sa.Numeric(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("quantity", sa.Numeric(), nullable=True),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("period_type", sa.String(length=20), nullable=False),
        sa.Column("period_label", sa.Text(), nullable=False),
        sa.Column("period_basis", sa.String(length=10), nullable=False),
        sa.Column("period_inference", sa.Text(), nullable=True),
        sa.Column("change_pct", sa.Numeric(), nullable=True),
        sa.Column("change_multiple", sa.Numeric(), nullable=True),
        sa.Column("change_basis", sa.Text(), nullable=True),
        sa.Column("approximation", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("part_of_id", sa.BigInteger(), nullable=True),
        sa.Column("source_id", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "approximation IN ('exact', 'about', 'nearly', 'more-than', 'less-than', 'up-to')",
            name=op.f("ck_trade_figures_approximation"),
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_trade_figures_currency_iso4217")),
        sa.CheckConstraint("flow IN ('total', 'export', 'import')", name=op.f("ck_trade_figures_flow")),
        sa.CheckConstraint(
            "period_basis <> 'inferred' OR period_inference IS NOT NULL",
            name=op.f("ck_trade_figures_period_inference"),
        ),
        sa.CheckConstraint("period_basis IN ('stated', 'inferred')", name=op.f("ck_trade_figures_period_basis")),
        sa.CheckConstraint(
            "period_type IN ('day', 'month', 'quarter', 'year', 'year-to-date', 'other')",
            name=op.f("ck_trade_figures_period_type"),
        ),
        sa.CheckConstraint(
            "status IN ('actual', 'estimate', 'forecast', 'target')", name=op.f("ck_trade_figures_status")
        ),
        sa.CheckConstraint("(amount IS NULL) = (currency IS NULL)", name=op.f("ck_trade_figures_amount_has_currency")),
        sa.CheckConstraint("(quantity IS NULL) = (unit IS NULL)", name=op.f("ck_trade_figures_quantity_has_unit")),
        sa.CheckConstraint(
            "amount > 0 AND quantity > 0 AND change_multiple > 0", name=op.f("ck_trade_figures_positive")
        ),
        sa.CheckConstraint("amount IS NULL OR quantity IS NULL", name=op.f("ck_trade_figures_amount_or_quantity")),
        sa.CheckConstraint(
            "num_nonnulls(amount, quantity, change_pct, change_multiple) > 0",
            name=op.f("ck_trade_figures_something_measured"),
        ),
        sa.CheckConstraint("part_of_id <> id", name=op.f("ck_trade_figures_not_part_of_itself")),
        sa.CheckConstraint("partner_id <> reporter_id", name=op.f("ck_trade_figures_partner_not_reporter")),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_trade_figures_period_ordered")),
        sa.ForeignKeyConstraint(
            ["part_of_id"], ["trade_figures.id"], name=op.f("fk_trade_figures_part_of_id_trade_figures")
        ),
        sa.ForeignKeyConstraint(["partner_id"], ["places.id"], name=op.f("fk_trade_figures_partner_id_places")),
        sa.ForeignKeyConstraint(["reporter_id"], ["places.id"], name=op.f("fk_trade_figures_reporter_id_places")),
        sa.ForeignKeyConstraint(
            ["source_id"], ["organisations.id"], name=op.f("fk_trade_figures_source_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trade_figures")),
        sa.UniqueConstraint("slug", name=op.f("uq_trade_figures_slug")),
    )
    op.create_index(op.f("ix_trade_figures_part_of_id"), "trade_figures", ["part_of_id"], unique=False)
    op.create_index(op.f("ix_trade_figures_partner_id"), "trade_figures", ["partner_id"], unique=False)
    op.create_index("ix_trade_figures_period", "trade_figures", ["period_start", "period_end"], unique=False)
    op.create_index(op.f("ix_trade_figures_reporter_id"), "trade_figures", ["reporter_id"], unique=False)
    op.create_index(op.f("ix_trade_figures_source_id"), "trade_figures", ["source_id"], unique=False)
    op.create_index(op.f("ix_trade_figures_status"), "trade_figures", ["status"], unique=False)
    op.create_table(
        "event_participants",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("organisation_id", sa.BigInteger(), nullable=True),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "role IN ('organiser', 'host', 'participant', 'delegation', 'signatory', 'speaker', 'exhibitor', 'visitor', 'reporter')",
            name=op.f("ck_event_participants_role"),
        ),
        sa.CheckConstraint(
            "num_nonnulls(organisation_id, person_id) = 1", name=op.f("ck_event_participants_one_participant")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_participants_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_event_participants_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_event_participants_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_participants")),
        sa.UniqueConstraint(
            "event_id",
            "organisation_id",
            "person_id",
            "role",
            name=op.f("uq_event_participants_event_id_organisation_id_person_id_role"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index(op.f("ix_event_participants_event_id"), "event_participants", ["event_id"], unique=False)
    op.create_index(
        op.f("ix_event_participants_organisation_id"), "event_participants", ["organisation_id"], unique=False
    )
    op.create_index(op.f("ix_event_participants_person_id"), "event_participants", ["person_id"], unique=False)
    op.create_table(
        "evidence",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("start_offset", sa.Integer(), nullable=False),
        sa.Column("end_offset", sa.Integer(), nullable=False),
        sa.Column("trade_figure_id", sa.BigInteger(), nullable=True),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("organisation_id", sa.BigInteger(), nullable=True),
        sa.Column("place_id", sa.BigInteger(), nullable=True),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("char_length(quote) = end_offset - start_offset", name=op.f("ck_evidence_quote_length")),
        sa.CheckConstraint(
            "num_nonnulls(trade_figure_id, event_id, organisation_id, place_id, person_id) = 1",
            name=op.f("ck_evidence_one_subject"),
        ),
        sa.CheckConstraint("start_offset >= 0 AND end_offset > start_offset", name=op.f("ck_evidence_span_ordered")),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_evidence_article_id_articles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_evidence_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_evidence_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_evidence_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["place_id"], ["places.id"], name=op.f("fk_evidence_place_id_places"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["trade_figure_id"],
            ["trade_figures.id"],
            name=op.f("fk_evidence_trade_figure_id_trade_figures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
        sa.UniqueConstraint(
            "article_id",
            "start_offset",
            "end_offset",
            "trade_figure_id",
            "event_id",
            "organisation_id",
            "place_id",
            "person_id",
            name=op.f(
                "uq_evidence_article_id_start_offset_end_offset_trade_figure_id_event_id_organisation_id_place_id_person_id"
            ),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index(op.f("ix_evidence_article_id"), "evidence", ["article_id"], unique=False)
    op.create_index(op.f("ix_evidence_event_id"), "evidence", ["event_id"], unique=False)
    op.create_index(op.f("ix_evidence_organisation_id"), "evidence", ["organisation_id"], unique=False)
    op.create_index(op.f("ix_evidence_person_id"), "evidence", ["person_id"], unique=False)
    op.create_index(op.f("ix_evidence_place_id"), "evidence", ["place_id"], unique=False)
    op.create_index(op.f("ix_evidence_trade_figure_id"), "evidence", ["trade_figure_id"], unique=False)
    op.create_table(
        "currency_conversions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("trade_figure_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("from_currency", sa.String(length=3), nullable=False),
        sa.Column("to_currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("rate", sa.Numeric(), nullable=False),
        sa.Column("rate_date", sa.Date(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("evidence_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "(kind = 'stated') = (evidence_id IS NOT NULL)",
            name=op.f("ck_currency_conversions_stated_has_evidence"),
        ),
        sa.CheckConstraint(
            "from_currency ~ '^[A-Z]{3}$' AND to_currency ~ '^[A-Z]{3}$'",
            name=op.f("ck_currency_conversions_currencies_iso4217"),
        ),
        sa.CheckConstraint("kind IN ('stated', 'computed')", name=op.f("ck_currency_conversions_kind")),
        sa.CheckConstraint("from_currency <> to_currency", name=op.f("ck_currency_conversions_different_currencies")),
        sa.CheckConstraint("rate > 0 AND amount > 0", name=op.f("ck_currency_conversions_positive")),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["evidence.id"],
            name=op.f("fk_currency_conversions_evidence_id_evidence"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trade_figure_id"],
            ["trade_figures.id"],
            name=op.f("fk_currency_conversions_trade_figure_id_trade_figures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_currency_conversions")),
        sa.UniqueConstraint(
            "trade_figure_id",
            "kind",
            "to_currency",
            name=op.f("uq_currency_conversions_trade_figure_id_kind_to_currency"),
        ),
    )
    op.create_index(op.f("ix_currency_conversions_evidence_id"), "currency_conversions", ["evidence_id"], unique=False)
    op.create_index(
        op.f("ix_currency_conversions_trade_figure_id"),
        "currency_conversions",
        ["trade_figure_id"],
        unique=False,
    )
    op.execute(EVIDENCE_TRIGGERS)


def downgrade() -> None:
    op.execute(DROP_EVIDENCE_TRIGGERS)
    op.drop_index(op.f("ix_currency_conversions_trade_figure_id"), table_name="currency_conversions")
    op.drop_index(op.f("ix_currency_conversions_evidence_id"), table_name="currency_conversions")
    op.drop_table("currency_conversions")
    op.drop_index(op.f("ix_evidence_trade_figure_id"), table_name="evidence")
    op.drop_index(op.f("ix_evidence_place_id"), table_name="evidence")
    op.drop_index(op.f("ix_evidence_person_id"), table_name="evidence")
    op.drop_index(op.f("ix_evidence_organisation_id"), table_name="evidence")
    op.drop_index(op.f("ix_evidence_event_id"), table_name="evidence")
    op.drop_index(op.f("ix_evidence_article_id"), table_name="evidence")
    op.drop_table("evidence")
    op.drop_index(op.f("ix_event_participants_person_id"), table_name="event_participants")
    op.drop_index(op.f("ix_event_participants_organisation_id"), table_name="event_participants")
    op.drop_index(op.f("ix_event_participants_event_id"), table_name="event_participants")
    op.drop_table("event_participants")
    op.drop_index(op.f("ix_trade_figures_status"), table_name="trade_figures")
    op.drop_index(op.f("ix_trade_figures_source_id"), table_name="trade_figures")
    op.drop_index(op.f("ix_trade_figures_reporter_id"), table_name="trade_figures")
    op.drop_index("ix_trade_figures_period", table_name="trade_figures")
    op.drop_index(op.f("ix_trade_figures_partner_id"), table_name="trade_figures")
    op.drop_index(op.f("ix_trade_figures_part_of_id"), table_name="trade_figures")
    op.drop_table("trade_figures")
    op.drop_index(op.f("ix_people_organisation_id"), table_name="people")
    op.drop_index(op.f("ix_people_country_id"), table_name="people")
    op.drop_table("people")
    op.drop_index("ix_articles_search", table_name="articles", postgresql_using="gin")
    op.drop_index(op.f("ix_articles_publisher_id"), table_name="articles")
    op.drop_index(op.f("ix_articles_published_on"), table_name="articles")
    op.drop_index(op.f("ix_articles_duplicate_of_id"), table_name="articles")
    op.drop_table("articles")
    op.drop_index(op.f("ix_organisations_parent_id"), table_name="organisations")
    op.drop_index(op.f("ix_organisations_kind"), table_name="organisations")
    op.drop_index(op.f("ix_organisations_country_id"), table_name="organisations")
    op.drop_table("organisations")
    op.drop_index(op.f("ix_event_places_place_id"), table_name="event_places")
    op.drop_table("event_places")
    op.drop_index(op.f("ix_places_parent_id"), table_name="places")
    op.drop_index(op.f("ix_places_kind"), table_name="places")
    op.drop_index(op.f("ix_places_country_code"), table_name="places")
    op.drop_table("places")
    op.drop_index(op.f("ix_events_parent_id"), table_name="events")
    op.drop_index(op.f("ix_events_kind"), table_name="events")
    op.drop_index("ix_events_dates", table_name="events")
    op.drop_table("events")
