"""search snippet from a word found: the words of the query too far apart are shown from one written as a word

When no fragment of the whole text holds every word of the query, `search_snippet` (migration
a3c9e5f1b7d4) takes the text from just before the first place one of the query's lexemes is
written. A lexeme is a word's stem and may begin another word ("consul" of "consultation"), and a
query's excluded words are lexemes too: the snippet then started at a word it does not mark. It
now starts at the first place a word of the query, not an excluded one, is written as a word of
its own (the word there reduces to the lexeme), looking at up to 20 places per lexeme.

Revision ID: c6e2a8f4d0b5
Revises: a3c9e5f1b7d4
Create Date: 2026-12-05 01:00:00.000000
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op

revision: str = "c6e2a8f4d0b5"
down_revision: str | None = "a3c9e5f1b7d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _previous() -> Any:
    """Return migration a3c9e5f1b7d4, whose function this one changes (and a downgrade restores)."""
    path = Path(__file__).with_name("2026_12_04_2345-a3c9e5f1b7d4_search_snippet_keeps_its_marks.py")
    spec = importlib.util.spec_from_file_location("search_snippet_keeps_its_marks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# (old, new) passages of the previous function; each occurs exactly once
_CHANGES = [
    ("    near int;\nBEGIN", "    near int;\n    word int;\n    at int;\n    written text;\nBEGIN"),
    (
        "            near := greatest(1, first - 60);\n"
        "            near := first - length(substring(substr(doc, near, first - near) FROM '((?:\\S+\\s+){0,3})$'));",
        "            -- where a word of the query (not an excluded one) is first written as a word of its\n"
        '            -- own: a lexeme may begin another word ("consul" of "consultation")\n'
        "            FOR lexeme IN SELECT replace(m[2], '''''', '''')\n"
        "                FROM regexp_matches(q::text, '(!?)''((?:[^'']|'''')+)''', 'g') AS m WHERE m[1] = '' LOOP\n"
        "                at := 0;\n"
        "                FOR tries IN 1..20 LOOP\n"
        "                    found := strpos(substr(low, at + 1), lexeme);\n"
        "                    EXIT WHEN found = 0 OR (word IS NOT NULL AND at + found >= word);\n"
        "                    at := at + found;\n"
        "                    near := greatest(1, at - 40);\n"
        "                    near := at - length(substring(substr(low, near, at - near) FROM '[[:alnum:]_]*$'));\n"
        "                    written := substring(substr(low, near, 80) FROM '^[[:alnum:]_''-]+');\n"
        "                    IF lexeme = ANY(tsvector_to_array(to_tsvector('english', coalesce(written, '')))) THEN\n"
        "                        word := near;\n"
        "                        EXIT;\n"
        "                    END IF;\n"
        "                END LOOP;\n"
        "            END LOOP;\n"
        "            word := coalesce(word, first);\n"
        "            near := greatest(1, word - 60);\n"
        "            near := word - length(substring(substr(doc, near, word - near) FROM '((?:\\S+\\s+){0,3})$'));",
    ),
]


def _function(*, changed: bool) -> str:
    previous = _previous()
    text: str = previous._function(previous._previous().UP, changed=True)
    for old, new in _CHANGES if changed else []:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def upgrade() -> None:
    op.execute(_function(changed=True))


def downgrade() -> None:
    op.execute(_function(changed=False))
