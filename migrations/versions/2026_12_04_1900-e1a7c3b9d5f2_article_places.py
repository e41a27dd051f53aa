"""article places: which places each article mentions, in publication order per place

A page of the articles that mention a place (or a place inside it) walked the articles from the
newest and looked up each one's evidence for the subtree's places: at size L, 275 articles for
one province to find 20, and more for rarer places, the cost growing with the corpus. This table
holds each (place, article) pair the evidence names, with how many pieces name it and the
article's publication date, and two indexes give a place's articles in the order of a page
(undated last, then by id, as ix_articles_published_desc_key and _asc_key), so the page merges
the first rows of each place (app.queries.articles.article_page).

Statement triggers on evidence keep the pairs (a pair goes when its last piece does) and on
articles copy a new publication date, in the writer's own transaction (COPY included).

Revision ID: e1a7c3b9d5f2
Revises: d9f3b5a7c2e4
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e1a7c3b9d5f2"
down_revision: str | None = "d9f3b5a7c2e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# `{ROWS}`: (article_id, place_id, +1 or -1) per piece of evidence naming a place, written or
# removed. A pair whose count drops to zero is deleted; each pair is in one branch, so the three
# writes never meet; inserts go in key order, as concurrent writers' do.
APPLY = """
        WITH delta AS (
            SELECT article_id, place_id, sum(d) AS n FROM ({ROWS}) AS r (article_id, place_id, d)
             GROUP BY 1, 2 HAVING sum(d) <> 0
        ), dropped AS (
            DELETE FROM article_places c USING delta d
             WHERE c.place_id = d.place_id AND c.article_id = d.article_id AND c.mentions + d.n = 0 RETURNING 1
        ), lowered AS (
            UPDATE article_places c SET mentions = c.mentions + d.n FROM delta d
             WHERE c.place_id = d.place_id AND c.article_id = d.article_id AND d.n < 0 AND c.mentions + d.n > 0
            RETURNING 1
        )
        INSERT INTO article_places AS c (place_id, article_id, published_on, mentions)
        SELECT d.place_id, d.article_id, a.published_on, d.n FROM delta d JOIN articles a ON a.id = d.article_id
         WHERE d.n > 0 ORDER BY 1, 2
        ON CONFLICT (place_id, article_id) DO UPDATE SET mentions = c.mentions + excluded.mentions;"""

ADDED = "SELECT article_id, place_id, 1 FROM new_rows WHERE place_id IS NOT NULL"
REMOVED = "SELECT article_id, place_id, -1 FROM old_rows WHERE place_id IS NOT NULL"

KEEP = """
CREATE FUNCTION article_places_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE article_places;
    ELSIF TG_OP = 'INSERT' THEN{ADDED}
    ELSIF TG_OP = 'DELETE' THEN{REMOVED}
    ELSE{CHANGED}
    END IF;
    RETURN NULL;
END
$$;
"""

DATED = """
CREATE FUNCTION article_places_dated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE article_places ap SET published_on = n.published_on
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE ap.article_id = n.id AND n.published_on IS DISTINCT FROM o.published_on;
    RETURN NULL;
END
$$;
"""

FILL = """
INSERT INTO article_places (place_id, article_id, published_on, mentions)
SELECT e.place_id, e.article_id, a.published_on, count(*)
  FROM evidence e JOIN articles a ON a.id = e.article_id
 WHERE e.place_id IS NOT NULL
 GROUP BY e.place_id, e.article_id, a.published_on
"""


def _sql(template: str) -> str:
    # the templates' text is constants of this file only
    return (
        template.replace("{ADDED}", APPLY.replace("{ROWS}", ADDED))
        .replace("{REMOVED}", APPLY.replace("{ROWS}", REMOVED))
        .replace("{CHANGED}", APPLY.replace("{ROWS}", f"{ADDED} UNION ALL {REMOVED}"))
    )


EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    op.create_table(
        "article_places",
        sa.Column("place_id", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("mentions", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("place_id", "article_id", name=op.f("pk_article_places")),
    )
    op.execute(FILL)
    op.create_index(op.f("ix_article_places_article_id"), "article_places", ["article_id"])
    for name, bound in (("desc", "0001-01-01"), ("asc", "9999-12-31")):
        op.create_index(
            f"ix_article_places_place_id_published_{name}_key",
            "article_places",
            ["place_id", sa.text(f"COALESCE(published_on, '{bound}'::date)"), "article_id"],
        )
    op.execute(_sql(KEEP))
    for event in EVENTS:
        transition = {
            "INSERT": "NEW TABLE AS new_rows",
            "DELETE": "OLD TABLE AS old_rows",
            "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        }[event]
        op.execute(
            f"CREATE TRIGGER article_places_{event.lower()} AFTER {event} ON evidence "
            f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION article_places_keep()"
        )
    op.execute(
        "CREATE TRIGGER article_places_truncate AFTER TRUNCATE ON evidence "
        "FOR EACH STATEMENT EXECUTE FUNCTION article_places_keep()"
    )
    op.execute(DATED)
    op.execute(
        "CREATE TRIGGER article_places_dated AFTER UPDATE ON articles "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION article_places_dated()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER article_places_dated ON articles")
    op.execute("DROP FUNCTION article_places_dated()")
    for event in (*EVENTS, "TRUNCATE"):
        op.execute(f"DROP TRIGGER article_places_{event.lower()} ON evidence")
    op.execute("DROP FUNCTION article_places_keep()")
    op.drop_table("article_places")
