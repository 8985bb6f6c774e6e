"""A room vote's budget and savings in the results report (results_view's "funded" and "cuts"
keys): the pot shared by equal shares and who paid, and the savings target's cuts.

Pure: `sections` takes the round's results view and the translator; both renderers draw the
`Money` sections it returns (`templates/record/_report_body.html`, `report_pdf`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from app.core import shapes
from app.record.report_vote import heading
from app.rules.explain import Translate


@dataclass(frozen=True, slots=True)
class Money:
    """A budget round's funding or a savings target's cuts, as sentences and table rows."""

    heading: str
    summary: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str
    after: str


def money(x: object, currency: str) -> str:
    """An amount as the records write it (int, "12.5" or "100000/3"), for reading."""
    if isinstance(x, str) and "/" in x:
        text = "≈" + f"{float(Fraction(x)):,.2f}"
    elif isinstance(x, str):
        text = f"{float(x):,.2f}"
    elif isinstance(x, int | float):
        text = f"{x:,}"
    else:
        text = str(x)
    c = currency or "£"
    return f"{text} {c}" if len(c) > 1 and c.isalpha() else f"{c}{text}"


def sections(
    results: shapes.ResultsView, _: Translate, *, hypothetical: bool = False
) -> list[Money]:
    """The budget and savings sections; `hypothetical`: another round decided, so each heading
    says this is what it would have done ("if this round had decided")."""
    out = _sections(results, _)
    if not hypothetical:
        return out
    label = _("if this round had decided")
    return [
        Money(f"{m.heading} ({label})", m.summary, m.columns, m.rows, m.empty, m.after) for m in out
    ]


def _sections(results: shapes.ResultsView, _: Translate) -> list[Money]:
    currency = results.get("currency") or "£"  # there with the budget or savings keys only
    titles = {p["id"]: heading(p["kind"], p["title"], _) for p in results["proposals"]}
    out = []
    if "funded" in results:
        rows = []
        # A round record has all of the budget keys or none (shapes.MoneyKeys).
        for i, f in enumerate(results["funding"], start=1):
            if f["by"] == "greedy":
                paid = _("from what was left (most WANTs first)")
            else:
                paid = "; ".join(
                    _(
                        "%(voters)s paid %(amount)s",
                        voters=g["voters"],
                        amount=money(g["amount"], currency),
                    )
                    for g in f["paid"]
                )
            rows.append(
                (
                    str(i),
                    titles.get(f["id"], f["id"]),
                    money(f["cost"], currency),
                    str(f["supporters"]),
                    paid,
                )
            )
        greedy = _(", ").join(titles.get(pid, pid) for pid in results["greedy"]) or _("nothing")
        out.append(
            Money(
                heading=_(
                    "Budget: %(pot)s shared by equal shares", pot=money(results["budget"], currency)
                ),
                summary=_(
                    "%(n)s voters, each with a share of %(share)s. Spent %(spent)s; %(left)s left.",
                    n=results["voters"],
                    share=money(results["share"], currency),
                    spent=money(results["spent"], currency),
                    left=money(results["left"], currency),
                ),
                columns=("#", _("Funded"), _("Cost"), _("WANT"), _("Who paid")),
                rows=tuple(rows),
                empty=_("Nothing could be funded."),
                after=_("Most WANTs first would have funded:") + " " + greedy,
            )
        )
    if "cuts" in results:
        # ...and all of the savings keys or none.
        savings = results["savings"]
        cuts = [
            (str(i), titles.get(pid, pid), money(savings.get(pid, 0), currency))
            for i, pid in enumerate(results["cuts"], start=1)
        ]
        shortfall = results["shortfall"]
        after = (
            _("Total %(total)s.", total=money(results["total"], currency))
            + " "
            + (
                _("Shortfall: %(shortfall)s.", shortfall=money(shortfall, currency))
                if shortfall not in (0, "0")
                else _("The target is reached.")
            )
        )
        out.append(
            Money(
                heading=_("Savings target: %(target)s", target=money(results["target"], currency)),
                summary=_(
                    "Cuts are taken only from REJECTED Keep proposals, largest majority against "
                    "first, until the target is reached. PROTECTED services are never cut."
                ),
                columns=("#", _("Cut"), _("Saves")),
                rows=tuple(cuts),
                empty=_("The room accepted no cuts."),
                after=after,
            )
        )
    return out
