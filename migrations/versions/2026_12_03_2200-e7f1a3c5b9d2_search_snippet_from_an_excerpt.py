"""search snippet from an excerpt: a hit's snippet parses the article's opening, not all of it

A search hit's snippet was ts_headline over the whole article (title and body): it parses and
stems every word, ~1.3 ms for a 5.5 kB article, and a page of 20 hits spent 20-30 ms on snippets
alone, more than finding and ranking them. `search_snippet` first takes the fragments of the
article's opening (EXCERPT characters) and keeps them when the words they mark match the query
by themselves (every word of `trade russia`, the phrase of `"trade deal"`); else the article
has the query's words further on, and its snippet is taken from the whole text as before. It
returns safe HTML: `&`, `<` and `>` escaped, the matches wrapped in <mark>…</mark>.

Revision ID: e7f1a3c5b9d2
Revises: d4a8c2e6f1b3
Create Date: 2026-12-03 22:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e7f1a3c5b9d2"
down_revision: str | None = "d4a8c2e6f1b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXCERPT = 1500  # characters: the title and the opening paragraphs

# chr(2) and chr(3) delimit a match inside ts_headline's text (no article holds them), swapped
# for the tags once the text is escaped. The marked words are what remains once the text from the
# start or a match's end up to the next match's start or the end is replaced by a space.
UP = f"""
CREATE FUNCTION search_snippet(doc text, q tsquery) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 1000 AS $$
DECLARE
    options constant text := 'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxFragments=2, MaxWords=30, MinWords=12';
    shown text := ts_headline('english', left(doc, {EXCERPT}), q, options);
    marked text := regexp_replace(shown, '(^|' || chr(3) || ')[^' || chr(2) || ']*(' || chr(2) || '|$)', ' ', 'g');
BEGIN
    IF length(doc) > {EXCERPT} AND NOT to_tsvector('english', marked) @@ q THEN
        shown := ts_headline('english', doc, q, options);
    END IF;
    RETURN replace(replace(replace(replace(replace(
        shown, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), chr(2), '<mark>'), chr(3), '</mark>');
END
$$;
"""


def upgrade() -> None:
    op.execute(UP)


def downgrade() -> None:
    op.execute("DROP FUNCTION search_snippet(text, tsquery)")
