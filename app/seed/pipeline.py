"""The `seed` operation: validate everything first, then write it all in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from sqlalchemy import Engine

from app.db import transaction
from app.seed.corpus import build_corpus
from app.seed.load import Summary, acquire_seed_lock, reset, write_corpus


def seed(
    engine: Engine,
    paths: Iterable[Path],
    *,
    reset_first: bool = False,
    on_wait: Callable[[], None] | None = None,
    progress: Callable[[str], None] | None = None,
    on_file: Callable[[int, int], None] | None = None,
) -> Summary:
    """Load the corpus under `paths`; return what changed. Raises SeedError before any write."""
    corpus = build_corpus(paths, on_file=on_file)
    summary = Summary()
    with transaction(engine) as conn:
        acquire_seed_lock(conn, on_wait=on_wait)
        if reset_first:
            summary.reset_rows = reset(conn)
        write_corpus(conn, corpus, summary=summary, progress=progress)
    return summary
