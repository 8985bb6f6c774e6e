"""`covote keypads simulate`: a room of virtual keypads behind a real (emulated) KPL/1 receiver.

For rehearsals and demos without hardware. It starts a KPL/1 receiver on a pseudo-terminal
(`hardware.emulator`), so a running Covote reads it through the same `serial://` driver as a
real USB receiver; it can write the keypads' registration CSV. While the receiver is armed (a
keypad round is open) each virtual keypad presses 1, 2 or 3 a few seconds after each new
question, now and then changes its mind, and the radio sometimes retransmits, as real keypads
do. POSIX only, like the emulator. Knows nothing about meetings.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path
from typing import TextIO

from .emulator import KplEmulator

__all__ = ["simulate"]

TICK_S = 0.1
FIRST_PRESS_S = (0.5, 4.0)  # people read the projector, then press
CHANGE_MIND = 0.1  # share of keypads that press again on the same question
RETRANSMIT = 0.05  # share of presses the radio sends twice (same seq)


def keypad_ids(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    ids: set[str] = set()
    while len(ids) < n:
        ids.add(f"{rng.randrange(1 << 24):06X}")
    return sorted(ids)


def write_csv(path: Path, ids: list[str]) -> None:
    lines = ["keypad,label,segments"] + [f"kpl:{k},{i}," for i, k in enumerate(ids, 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def simulate(
    keypads: int = 30,
    *,
    seed: int = 1,
    csv: Path | None = None,
    duration: float | None = None,
    out: TextIO | None = None,
) -> int:
    """Run until Ctrl-C (or `duration` seconds); returns the exit code."""
    out = out or sys.stdout
    rng = random.Random(seed)
    ids = keypad_ids(keypads, seed)
    if csv is not None:
        write_csv(csv, ids)
    seq = dict.fromkeys(ids, 0)
    due: dict[str, float] = {}  # keypad -> when it presses for the current question
    with KplEmulator() as emu:
        print(f"Virtual KPL/1 receiver with {keypads} keypads: {emu.url}", file=out)
        print(
            f"Add it in the console (Keypads > Receivers) or start Covote with --keypads {emu.url}",
            file=out,
        )
        if csv is not None:
            print(f"Registration CSV for Keypads > Import: {csv}", file=out)
        out.flush()
        question: object = None
        presses = 0
        started = time.monotonic()
        try:
            while duration is None or time.monotonic() - started < duration:
                time.sleep(TICK_S)
                now = time.monotonic()
                if not emu.accepting:
                    question, due = None, {}
                    continue
                if emu.question != question or not due:
                    question = emu.question
                    due = {k: now + rng.uniform(*FIRST_PRESS_S) for k in ids}
                for k, when in list(due.items()):
                    if when > now:
                        continue
                    seq[k] = (seq[k] + 1) % 256
                    key = str(rng.randint(1, emu.choices or 3))
                    emu.press(k, key, seq=seq[k])
                    if rng.random() < RETRANSMIT:
                        emu.press(k, key, seq=seq[k])
                    presses += 1
                    if rng.random() < CHANGE_MIND:
                        due[k] = now + rng.uniform(*FIRST_PRESS_S)
                    else:
                        due[k] = float("inf")
        except KeyboardInterrupt:
            pass
        print(f"{presses} presses sent", file=out)
    return 0
