"""Draft figures stated more than once become one, with all their evidence; the parts of a total."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.draft.figures import DraftFigure


def merge(figures: list[DraftFigure]) -> list[DraftFigure]:
    merged: dict[tuple[object, ...], DraftFigure] = {}
    for fig in figures:
        key = fig.key()
        if key in merged:
            have = merged[key]
            for q in fig.evidence:
                if all((q.start, q.text) != (e.start, e.text) for e in have.evidence):
                    have.evidence.append(q)
        else:
            merged[key] = fig
    out = list(merged.values())
    # a change stated alone that an amount figure also carries is more evidence for that figure
    final: list[DraftFigure] = []
    for fig in out:
        if fig.money is None and fig.quantity is None and fig.change is not None:
            host = next(
                (
                    f
                    for f in out
                    if (f.money or f.quantity)
                    and f.change is not None
                    and f.change.pct == fig.change.pct
                    and f.change.multiple == fig.change.multiple
                    and f.key()[0] == fig.key()[0]
                    and f.flow == fig.flow
                    and f.period.start == fig.period.start
                ),
                None,
            )
            if host is None:
                # "That was a nearly 9 per cent jump": the change of the amount stated just before
                # (a change of named goods only of the same goods: "Seafood ..., with shipments of fish to
                # China up by 12%" is no change of the total exports stated earlier)
                host = next(
                    (
                        f
                        for f in reversed(final)
                        if (f.money or f.quantity)
                        and (fig.commodity is None or f.commodity == fig.commodity)
                        and f.change is None
                        and f.key()[0] == fig.key()[0]
                        and f.flow == fig.flow
                        and (f.period.start, f.period.end) == (fig.period.start, fig.period.end)
                        and f.status == fig.status
                        and any("previous statement" in w for w in fig.inferred)
                    ),
                    None,
                )
                if host is not None:
                    host.change = fig.change
            if host is not None:
                host.evidence += [q for q in fig.evidence if all(q.start != e.start for e in host.evidence)]
                continue
        final.append(fig)
    return final


def part_of(figures: list[DraftFigure]) -> dict[int, int]:
    """Return index of an import/export figure -> index of the total of the same sides and period."""
    links = {}
    for i, fig in enumerate(figures):
        if fig.flow == "total" or fig.money is None:
            continue
        for j, total in enumerate(figures):
            if (
                total.flow == "total"
                and total.money is not None
                and total.money.currency == fig.money.currency
                and {total.reporter, total.partner} == {fig.reporter, fig.partner}
                and total.period.start == fig.period.start
                and total.period.end == fig.period.end
                and total.money.amount >= fig.money.amount
                and total.status == fig.status == "actual"
            ):
                links[i] = j
    return links
