"""Signing the Community Charter (issue 17): what a signature is, its bounds, and the drawn
signature's form.

Pure (plain values in and out). The storage and the audit links are app/voting/charter_signing.py.

A signature is a party's representative's name, role and organisation, as typed (public by
nature: they sign a public document), for one version of the charter, with an optional drawn
signature. The drawing is kept as a small SVG path of whole numbers on the pad's 600 x 200 grid,
only `M x y` (pen down) and `L x y` (draw to): nothing a browser could run, nothing the PDF
cannot draw as lines. `parse_drawing` is the one way in: anything else is refused.
"""

from __future__ import annotations

import hashlib
import re

MAX_NAME = 120  # a person's name as they sign it
MAX_ROLE = 120  # "Cabinet member for adult social care"
MAX_ORGANISATION = 200  # a party's own name's bound (charter_doc.MAX_NAME)
PAD_W, PAD_H = 600, 200  # the drawing pad's grid (console/charter.html's <canvas>)
MAX_DRAWING = 40_000  # characters: a few thousand points, ample for a signature
MAX_POINTS = 4_000

_STEP = re.compile(r"\s*([ML])\s*(\d{1,4})[ ,]+(\d{1,4})")

Stroke = tuple[tuple[int, int], ...]


class DrawingError(ValueError):
    """The drawn signature is not a path this product writes (see the module doc)."""


def parse_drawing(text: str) -> tuple[Stroke, ...]:
    """The strokes of a drawn signature: each starts at an `M` and goes on through its `L`s.

    Raises:
        DrawingError: too long, a command other than M or L, a number off the pad, an `L`
            before any `M`, more than MAX_POINTS points, or no line drawn at all.
    """
    if len(text) > MAX_DRAWING:
        raise DrawingError("too long")
    strokes: list[list[tuple[int, int]]] = []
    pos, points = 0, 0
    end = len(text.rstrip())
    while pos < end:
        m = _STEP.match(text, pos)
        if m is None:
            raise DrawingError(f"not a drawing at character {pos}")
        cmd, x, y = m.group(1), int(m.group(2)), int(m.group(3))
        if x > PAD_W or y > PAD_H:
            raise DrawingError(f"a point off the pad: {x}, {y}")
        if cmd == "M":
            strokes.append([])
        elif not strokes:
            raise DrawingError("a line before the pen is put down")
        strokes[-1].append((x, y))
        points += 1
        if points > MAX_POINTS:
            raise DrawingError("too many points")
        pos = m.end()
    drawn = tuple(tuple(s) for s in strokes if len(s) > 1)
    if not drawn:
        raise DrawingError("nothing drawn")
    return drawn


def drawing_text(strokes: tuple[Stroke, ...]) -> str:
    """The canonical text of a drawing (what is stored and hashed): `M x y L x y ...`, one
    space between parts; single points dropped (they draw nothing)."""
    parts: list[str] = []
    for stroke in strokes:
        (x0, y0), rest = stroke[0], stroke[1:]
        parts.append(f"M {x0} {y0}")
        parts += [f"L {x} {y}" for x, y in rest]
    return " ".join(parts)


def drawing_sha256(text: str) -> str:
    """The SHA-256 of a stored drawing, as the audit link carries it (the drawing itself is
    not in the public chain: it is a likeness of a hand, and the PDF shows it)."""
    return hashlib.sha256(text.encode()).hexdigest()
