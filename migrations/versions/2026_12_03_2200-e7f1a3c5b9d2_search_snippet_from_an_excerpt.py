"""search snippet from an excerpt: a hit's snippet parses EXCERPT characters, not the whole article

A search hit's snippet was ts_headline over the whole article (title and body): it parses and
stems every word, ~1.3 ms for a 5.5 kB article, and a page of 20 hits spent 20-30 ms on snippets
alone, more than finding and ranking them. `search_snippet` first takes the fragments of an
excerpt of EXCERPT characters: the opening, or, when none of the query's words is written there,
from a little before the first place one is (a lexeme is a word's stem, mostly how the word
starts: `consul` of "consulate"). It keeps them when the words they mark match the query by
themselves (every word of `trade russia`, the phrase of `"trade deal"`); else the query's words
are further apart, and the snippet is taken from the whole text as before. It returns safe
HTML: `&`, `<` and `>` escaped, the matches wrapped in <mark>…</mark>.

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
BEFORE = 200  # characters of context before the first place a word of the query is written

# chr(2) and chr(3) delimit a match inside ts_headline's text (no article holds them), swapped
# for the tags once the text is escaped. The marked words are what remains once the text from the
# start or a match's end up to the next match's start or the end is replaced by a space.
UP = """
CREATE FUNCTION search_snippet(doc text, q tsquery) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 1000 AS $$
DECLARE
    options constant text := 'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxFragments=2, MaxWords=30, MinWords=12';
    low constant text := lower(doc);
    lexeme text;
    found int;
    first int;
    start int := 1;
    shown text;
    marked text;
BEGIN
    -- the query's lexemes, as its text quotes them ('it''s' for it's)
    FOR lexeme IN SELECT replace(m[1], '''''', '''') FROM regexp_matches(q::text, '''((?:[^'']|'''')+)''', 'g') AS m LOOP
        found := strpos(low, lexeme);
        IF found > 0 AND (first IS NULL OR found < first) THEN
            first := found;
        END IF;
    END LOOP;
    IF first > {EXCERPT} - {BEFORE} THEN
        start := first - {BEFORE};
        start := start + strpos(substr(doc, start, {BEFORE}), ' ');  -- from the start of a word
    END IF;
    shown := ts_headline('english', substr(doc, start, {EXCERPT}), q, options);
    marked := regexp_replace(shown, '(^|' || chr(3) || ')[^' || chr(2) || ']*(' || chr(2) || '|$)', ' ', 'g');
    IF (start > 1 OR length(doc) > {EXCERPT}) AND NOT to_tsvector('english', marked) @@ q THEN
        shown := ts_headline('english', doc, q, options);
    END IF;
    RETURN replace(replace(replace(replace(replace(
        shown, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), chr(2), '<mark>'), chr(3), '</mark>');
END
$$;
"""
# (constants of this file only)
UP = UP.replace("{EXCERPT}", str(EXCERPT)).replace("{BEFORE}", str(BEFORE))


def upgrade() -> None:
    op.execute(UP)


def downgrade() -> None:
    op.execute("DROP FUNCTION search_snippet(text, tsquery)")
