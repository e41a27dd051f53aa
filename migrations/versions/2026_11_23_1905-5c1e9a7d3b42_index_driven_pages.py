"""index-driven pages: keyset sort keys, filter lookups and covering counts

Revision ID: 5c1e9a7d3b42
Revises: 0aaca0b7c937
Create Date: 2026-11-23 19:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e9a7d3b42"
down_revision: str | None = "0aaca0b7c937"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The last day an event lasts, exactly as the queries write it (app/queries/common.last_day):
# the planner matches an expression index only with the very same expression.
EVENT_ENDS = (
    "COALESCE(ends_on, CASE"
    " WHEN (date_precision = 'week') THEN starts_on + 6"
    " WHEN (date_precision = 'month') THEN CAST((date_trunc('month', CAST(starts_on AS TIMESTAMP WITHOUT TIME ZONE))"
    " + interval '1 month') - interval '1 day' AS DATE)"
    " WHEN (date_precision = 'quarter') THEN CAST((date_trunc('quarter', CAST(starts_on AS TIMESTAMP WITHOUT TIME ZONE))"
    " + interval '3 months') - interval '1 day' AS DATE)"
    " WHEN (date_precision = 'year') THEN CAST((date_trunc('year', CAST(starts_on AS TIMESTAMP WITHOUT TIME ZONE))"
    " + interval '1 year') - interval '1 day' AS DATE)"
    " ELSE starts_on END)"
)


def upgrade() -> None:
    # articles.ORDERINGS: PUBLISHED_ON_DESC and PUBLISHED_ON_ASC (the constants as the queries write them)
    op.create_index(
        "ix_articles_published_desc_key",
        "articles",
        [sa.text("COALESCE(published_on, '0001-01-01'::date)"), "id"],
    )
    op.create_index(
        "ix_articles_published_asc_key",
        "articles",
        [sa.text("COALESCE(published_on, '9999-12-31'::date)"), "id"],
    )
    # events.ORDERINGS and the overlap filter (events.filtered)
    op.create_index(
        "ix_events_starts_asc_key",
        "events",
        [sa.text("COALESCE(starts_on, '9999-12-31'::date)"), "id", sa.text(EVENT_ENDS)],
        postgresql_include=["starts_on", "ends_on", "date_precision"],  # a count reads the index alone
    )
    op.create_index("ix_events_starts_desc_key", "events", [sa.text("COALESCE(starts_on, '0001-01-01'::date)"), "id"])
    op.create_index("ix_events_span", "events", [sa.text(f"({EVENT_ENDS} - starts_on)")])
    # the events of a place: (place_id, event_id) replaces (place_id)
    op.create_index("ix_event_places_place_id_event_id", "event_places", ["place_id", "event_id"])
    op.drop_index("ix_event_places_place_id", table_name="event_places")
    # the articles that mention an organisation or a place: (x_id, article_id) replaces (x_id)
    op.create_index("ix_evidence_organisation_id_article_id", "evidence", ["organisation_id", "article_id"])
    op.drop_index("ix_evidence_organisation_id", table_name="evidence")
    op.create_index("ix_evidence_place_id_article_id", "evidence", ["place_id", "article_id"])
    op.drop_index("ix_evidence_place_id", table_name="evidence")
    # figures.ORDERINGS (period end), and a reporter's figures by flow and period, covering what
    # a filter asks of them besides: replaces (reporter_id)
    op.create_index("ix_trade_figures_period_end_id", "trade_figures", ["period_end", "id"])
    op.create_index(
        "ix_trade_figures_reporter_id_flow_period_end",
        "trade_figures",
        ["reporter_id", "flow", "period_end"],
        postgresql_include=["partner_id", "period_start"],
    )
    op.drop_index("ix_trade_figures_reporter_id", table_name="trade_figures")


def downgrade() -> None:
    op.create_index("ix_trade_figures_reporter_id", "trade_figures", ["reporter_id"])
    op.drop_index("ix_trade_figures_reporter_id_flow_period_end", table_name="trade_figures")
    op.drop_index("ix_trade_figures_period_end_id", table_name="trade_figures")
    op.create_index("ix_evidence_place_id", "evidence", ["place_id"])
    op.drop_index("ix_evidence_place_id_article_id", table_name="evidence")
    op.create_index("ix_evidence_organisation_id", "evidence", ["organisation_id"])
    op.drop_index("ix_evidence_organisation_id_article_id", table_name="evidence")
    op.create_index("ix_event_places_place_id", "event_places", ["place_id"])
    op.drop_index("ix_event_places_place_id_event_id", table_name="event_places")
    op.drop_index("ix_events_span", table_name="events")
    op.drop_index("ix_events_starts_desc_key", table_name="events")
    op.drop_index("ix_events_starts_asc_key", table_name="events")
    op.drop_index("ix_articles_published_asc_key", table_name="articles")
    op.drop_index("ix_articles_published_desc_key", table_name="articles")
