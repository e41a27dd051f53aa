"""Documents and values that attack the API: shared by the hardening tests and scripts/hostile_load.py.

Only the standard library: scripts import it without the test suite's fixtures.
"""

from __future__ import annotations

import base64


def b64(raw: bytes) -> str:
    """Return `raw` as unpadded URL-safe base64, as cursors and ids are written."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def single_object_tree(levels: int, roots: int, first: int = 1) -> str:
    """`levels` levels of single objects (partOf, reporter, partner, source, parent, country) through fragments."""
    fragments = [f"fragment F{levels} on TradeFigure {{ slug }}", f"fragment P{levels} on Place {{ slug }}"]
    for i in range(levels - 1, -1, -1):
        fragments.append(
            f"fragment F{i} on TradeFigure {{ slug partOf {{ ...F{i + 1} }} reporter {{ ...P{i + 1} }}"
            f" partner {{ ...P{i + 1} }} source {{ name country {{ ...P{i + 1} }} }} }}"
        )
        if i > 0:
            fragments.append(f"fragment P{i} on Place {{ slug parent {{ ...P{i + 1} }} }}")
    root = " ".join(f"r{r}: tradeFigures(first: {first}) {{ nodes {{ ...F0 }} }}" for r in range(roots))
    return "{ " + root + " } " + " ".join(fragments)


def connection_tree(levels: int, roots: int) -> str:
    """Connections of zero items (no cost) nested through fragments: planning work, no nodes."""
    fragments = [f"fragment O{levels} on Organisation {{ slug }}"]
    for i in range(levels - 1, -1, -1):
        fragments.append(
            f"fragment O{i} on Organisation {{ slug name kind articles(first: 0) {{ totalCount"
            f" nodes {{ slug title publisher {{ ...O{i + 1} }} organisations {{ ...O{i + 1} }} }} }} }}"
        )
    names = ["organisations", "places", "articles", "events", "tradeFigures"][:roots]
    root = " ".join(
        f"{n}(first: 0) {{ nodes {{ ...O0 }} }}" if n == "organisations" else f"{n}(first: 0) {{ totalCount }}"
        for n in names
    )
    return "{ " + root + " } " + " ".join(fragments)


def big_document(i: int) -> str:
    # 1,600 aliases of __typename and a long comment: ~150 KB, which once held 2.4 MB each in the cache
    return "# " + "x" * 140_000 + "\n{ " + " ".join(f"a{j}: __typename" for j in range(1600)) + f" b{i}: __typename }}"
