"""Weighting a survey's respondents to the population: raking (iterative proportional fitting)
over the margins given, and Kish's effective sample size.

Pure: no I/O, no clock. Respondents come grouped in cells (`Cell`: their area, or None, and
their segments); every respondent of a cell gets the same weight, so the work grows with the
number of cells, not of respondents (100,000 respondents fall in a few hundred cells).

Raking (Deming and Stephan 1940) scales the weights to match each margin in turn (the areas'
shares, then each segment's share) and repeats until every margin holds to within
`TOLERANCE`, or `MAX_ITERATIONS` passes. It is written here rather than taken from a library:
`ipfn` (last release 2021) and `weightipy` work on pandas DataFrames of respondents, a large
dependency for what is 30 lines over a few hundred cells, and neither is pure in our sense.

* The area margin is a partition of the respondents who named an area that the population
  lists; the others (no area given) are outside it and keep their share of the weight. Areas
  nobody in the sample named are left out and the others' shares scaled to add up to 1: a
  weight cannot make up people who did not answer.
* A segment's margin has two classes: in the segment (its share p) and not (1 - p), since
  segments overlap and not everyone is in one. A segment nobody (or everybody) in the sample
  is in cannot be matched and is skipped (`Weights.skipped`).
* The weights are scaled to average 1 over all respondents, so a weighted count reads as
  "respondents, had the sample looked like the population", and kept to `DIGITS` significant
  digits.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

Cell = tuple[str | None, frozenset[str]]  # (area or None, segments)

MAX_ITERATIONS = 200  # raking converges in tens of passes; a margin that cannot be met stops here
TOLERANCE = 1e-10  # the largest gap between a margin's weighted share and its target
# Significant digits a weight keeps: raking's last bits are noise, and cells that the margins do
# not tell apart must share one weight exactly (a sample that already matches the population
# gets weights of exactly 1, so its weighted figures are its unweighted ones).
DIGITS = 10


@dataclass(frozen=True, slots=True)
class Population:
    """The population's shares: each area's (adding up to 1 over the areas given) and each
    segment's (0 < p < 1 each; segments overlap). Either may be empty."""

    areas: Mapping[str, float] = field(default_factory=dict)
    segments: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Weights:
    """Each cell's weight (every respondent in it has this weight), what was matched and how."""

    weights: Mapping[Cell, float]
    margins: list[str]  # "area", "segment:ID", in the order they were matched
    skipped: list[str]
    iterations: int
    converged: bool
    effective_n: float


@dataclass(frozen=True, slots=True)
class _Margin:
    name: str
    base: tuple[Cell, ...]  # the cells the margin divides
    classes: tuple[tuple[float, tuple[Cell, ...]], ...]  # (target share of the base, cells)


def cell_order(cell: Cell) -> tuple[str, list[str]]:
    """A total order on cells (None area first), so every sum runs in one order."""
    return (cell[0] or "", sorted(cell[1]))


def _margins(cells: Iterable[Cell], population: Population) -> tuple[list[_Margin], list[str]]:
    ordered = sorted(cells, key=cell_order)
    margins: list[_Margin] = []
    skipped: list[str] = []
    if population.areas:
        named = [a for a in population.areas if any(c[0] == a for c in ordered)]
        total = math.fsum(population.areas[a] for a in named)
        if named and total > 0:
            classes = tuple(
                (population.areas[a] / total, tuple(c for c in ordered if c[0] == a))
                for a in sorted(named)
            )
            base = tuple(c for c in ordered if c[0] in population.areas)
            margins.append(_Margin("area", base, classes))
        else:
            skipped.append("area")
    for seg, share in sorted(population.segments.items()):
        inside = tuple(c for c in ordered if seg in c[1])
        outside = tuple(c for c in ordered if seg not in c[1])
        if inside and outside:
            margins.append(
                _Margin(f"segment:{seg}", tuple(ordered), ((share, inside), (1 - share, outside)))
            )
        else:
            skipped.append(f"segment:{seg}")
    return margins, skipped


def rake(sizes: Mapping[Cell, int], population: Population) -> Weights:
    """Weights for cells of `sizes` respondents that match the population's margins.

    Every cell in `sizes` must have at least one respondent; shares must be positive (a
    segment's below 1): `survey_files.read_population` checks both for a file's.
    """
    weight = {c: 1.0 for c in sizes}
    margins, skipped = _margins(sizes, population)

    def total(cells: Iterable[Cell]) -> float:
        return math.fsum(weight[c] * sizes[c] for c in cells)

    iterations, converged = 0, not margins
    while margins and iterations < MAX_ITERATIONS and not converged:
        iterations += 1
        worst = 0.0
        for margin in margins:
            base = total(margin.base)
            for share, cells in margin.classes:
                now = total(cells)
                worst = max(worst, abs(now - share * base) / base)
                factor = share * base / now
                for c in cells:
                    weight[c] *= factor
        converged = worst < TOLERANCE
    n = sum(sizes.values())
    scale = n / total(sizes) if n else 1.0
    weight = {c: float(f"{w * scale:.{DIGITS}g}") for c, w in weight.items()}
    return Weights(
        weight,
        [m.name for m in margins],
        skipped,
        iterations,
        converged,
        kish((weight[c], sizes[c]) for c in sorted(sizes, key=cell_order)),
    )


def kish(weighted: Iterable[tuple[float, int]]) -> float:
    """Kish's effective sample size of `(weight, respondents)` pairs, (sum w)^2 / sum w^2: n
    for equal weights, less the more the weights vary (0 for nobody)."""
    pairs = list(weighted)
    squares = math.fsum(w * w * k for w, k in pairs)
    return math.fsum(w * k for w, k in pairs) ** 2 / squares if squares else 0.0
