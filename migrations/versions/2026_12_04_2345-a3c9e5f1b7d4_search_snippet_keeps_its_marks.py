"""search snippet keeps its marks: words too far apart for one fragment are shown where the first is

`search_snippet` takes the fragments of an excerpt, and when the words they mark do not match the
query by themselves, the fragments of the whole text. Postgres looks for the whole text's
fragments only where every word of the query is at most MaxWords x 10 words (300) from the others;
when they are further apart than that it returns the text's first words, often none of them
marked (an article's opening, for `Harbin consulate` with "consulate" in the tenth paragraph and
"Harbin" in the fortieth). The snippet is then taken from the three words before the first place a
word of the query is written, so that word is marked.

Revision ID: a3c9e5f1b7d4
Revises: f2b8d4c6a9e1
Create Date: 2026-12-04 23:45:00.000000
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op

revision: str = "a3c9e5f1b7d4"
down_revision: str | None = "f2b8d4c6a9e1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _previous() -> Any:
    """Return migration e7f1a3c5b9d2, whose function this one changes (and a downgrade restores)."""
    path = Path(__file__).with_name("2026_12_03_2200-e7f1a3c5b9d2_search_snippet_from_an_excerpt.py")
    spec = importlib.util.spec_from_file_location("search_snippet_from_an_excerpt", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# (old, new) passages of the previous function; each occurs exactly once
_CHANGES = [
    ("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"),
    ("    marked text;\nBEGIN", "    marked text;\n    near int;\nBEGIN"),
    (
        "        shown := ts_headline('english', doc, q, options);\n    END IF;",
        "        shown := ts_headline('english', doc, q, options);\n"
        "        IF strpos(shown, chr(2)) = 0 AND first IS NOT NULL THEN\n"
        "            -- no fragment: from (at most) the three words before the first word found,\n"
        "            -- which the text's first words then show\n"
        "            near := greatest(1, first - 60);\n"
        "            near := first - length(substring(substr(doc, near, first - near) FROM '((?:\\S+\\s+){0,3})$'));\n"
        "            shown := ts_headline('english', substr(doc, near, 400), q, options);\n"
        "        END IF;\n"
        "    END IF;",
    ),
]


def _function(previous: str, *, changed: bool) -> str:
    text = previous
    for old, new in _CHANGES if changed else _CHANGES[:1]:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def upgrade() -> None:
    op.execute(_function(_previous().UP, changed=True))


def downgrade() -> None:
    op.execute(_function(_previous().UP, changed=False))
