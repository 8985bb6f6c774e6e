"""What every `covote` command that reads files shares: its problems printed as file:line: reason
(exit 2), and an unforeseen failure reported as unreadable input, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable

from app.record import records


def print_errors(e: records.RecordError) -> int:
    for line, reason in e.errors:
        where = f"{e.filename}:{line}" if line is not None else e.filename
        print(f"{where}: {reason}", file=sys.stderr)
    if e.omitted:
        print(f"{e.filename}: ... and {e.omitted} more problems", file=sys.stderr)
    return 2


def reading(command: str, run: Callable[[], int]) -> int:
    """Run a command that reads files; an unforeseen failure is unreadable input (exit 2)."""
    try:
        return run()
    except Exception as e:  # RecursionError, MemoryError, a reader bug: not a traceback
        reason = records.quote(f"{type(e).__name__}: {e}"[:300])
        print(f"covote {command}: the input could not be read: {reason}", file=sys.stderr)
        return 2
