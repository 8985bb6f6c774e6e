"""Command-line tools for checking a receiver before a meeting (wired up as
``covote keypads monitor URL`` and ``covote keypads record URL FILE``).

``monitor`` prints one JSON object per decoded press on ``out``::

    {"receiver": "serial:/dev/ttyACM0", "keypad": "kpl:1A2B3C", "key": "B", "choice": 2,
     "seq": 17, "at": 812.25, "dup": false, "raw": "KP1 P 1A2B3C B 17 t=1234*23"}

``dup`` marks what the manager would drop as a transport duplicate (it is printed anyway:
seeing retransmissions is part of checking a receiver). ``raw`` is the wire text, or hex for
binary protocols. Notes and errors go to ``err`` (stderr), prefixed with ``#``/``error:``.

``record`` writes a kpcap/1 file: a header, every wire line/frame/report both ways, ``plug``
after open, ``unplug`` on loss, and a golden ``press`` event per decoded press.

Both stop at ``limit`` presses, after ``duration`` seconds, at the end of a finite source, or
on Ctrl-C. Exit codes: 0 done, 1 the receiver failed, 2 bad URL or configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from .base import KeypadPress, KeypadReceiver, ReceiverConfigError, ReceiverError
from .capture import CaptureWriter
from .dedupe import Deduplicator
from .urls import open_receiver

__all__ = ["amonitor", "arecord", "monitor", "press_json", "record"]


def press_json(press: KeypadPress, *, dup: bool = False) -> dict[str, Any]:
    raw: str | None = None
    if press.raw is not None:
        printable = all(0x20 <= b < 0x7F for b in press.raw)
        raw = press.raw.decode("ascii") if printable else press.raw.hex()
    return {
        "receiver": press.receiver,
        "keypad": press.keypad,
        "key": press.key,
        "choice": press.choice,
        "seq": press.seq,
        "at": round(press.at, 6),
        "dup": dup,
        "raw": raw,
    }


async def _pump(
    receiver: KeypadReceiver,
    *,
    arm: int | None,
    limit: int | None,
    duration: float | None,
    on_press: Callable[[KeypadPress, bool], None],
    err: TextIO,
    on_open: Callable[[], None] | None = None,
) -> int:
    """Open, optionally arm, read until done; shared by monitor and record."""
    dedupe = Deduplicator()
    count = 0
    deadline = asyncio.timeout(duration)
    try:
        async with deadline:
            await receiver.open()
            try:
                if on_open is not None:
                    on_open()
                details = ", ".join(f"{k}={v}" for k, v in receiver.info.items())
                print(f"# {receiver.name} ({receiver.kind}) open; {details}", file=err, flush=True)
                if receiver.capabilities.experimental:
                    print("# EXPERIMENTAL driver: not yet verified on real hardware", file=err)
                if arm is not None:
                    await receiver.arm(choices=arm)
                async for press in receiver.presses():
                    debounce = receiver.capabilities.debounce_s
                    on_press(press, not dedupe.accept(press, debounce_s=debounce))
                    count += 1
                    if limit is not None and count >= limit:
                        break
            finally:
                await receiver.aclose()
    except TimeoutError as exc:
        if not deadline.expired():  # a driver's own timeout, not the end of ``duration``
            print(f"error: {exc or 'timed out'}", file=err)
            return 1
    except ReceiverConfigError as exc:
        print(f"error: {exc}", file=err)
        return 2
    except ReceiverError as exc:
        print(f"error: {exc}", file=err)
        return 1
    print(f"# {count} presses, {dedupe.duplicates} duplicates", file=err)
    return 0


async def amonitor(
    url: str,
    out: TextIO,
    *,
    arm: int | None = None,
    limit: int | None = None,
    duration: float | None = None,
    err: TextIO | None = None,
) -> int:
    """Async `monitor`, for callers that already run a loop."""
    err = err or sys.stderr
    try:
        receiver = open_receiver(url)
    except ReceiverConfigError as exc:
        print(f"error: {exc}", file=err)
        return 2

    def show(press: KeypadPress, dup: bool) -> None:
        out.write(json.dumps(press_json(press, dup=dup)) + "\n")
        out.flush()

    return await _pump(receiver, arm=arm, limit=limit, duration=duration, on_press=show, err=err)


def monitor(
    url: str,
    out: TextIO,
    *,
    arm: int | None = None,
    limit: int | None = None,
    duration: float | None = None,
    err: TextIO | None = None,
) -> int:
    """Print decoded presses from ``url`` as JSON lines; returns the exit code.

    ``arm=N`` opens a vote with N choices first (SunVote and iClicker send nothing until then).
    """
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(amonitor(url, out, arm=arm, limit=limit, duration=duration, err=err))
    return 0


async def arecord(
    url: str,
    file: str | Path,
    *,
    note: str | None = None,
    arm: int | None = None,
    limit: int | None = None,
    duration: float | None = None,
    err: TextIO | None = None,
) -> int:
    """Async `record`."""
    err = err or sys.stderr
    writer: CaptureWriter | None = None

    def tap(direction: str, data: bytes) -> None:
        if writer is not None:
            writer.chunk(direction, data)

    try:
        receiver = open_receiver(url, tap=tap)
    except ReceiverConfigError as exc:
        print(f"error: {exc}", file=err)
        return 2
    try:
        fp = open(file, "w", encoding="utf-8")  # noqa: SIM115 (closed in the finally below)
    except OSError as exc:
        print(f"error: cannot write {file}: {exc}", file=err)
        return 2
    try:
        driver = receiver.info.get("wire", receiver.kind)
        writer = recorder = CaptureWriter(
            fp, driver=driver, device={"url": url, **receiver.info}, note=note
        )
        code = await _pump(
            receiver,
            arm=arm,
            limit=limit,
            duration=duration,
            on_open=lambda: recorder.event("plug"),
            on_press=lambda press, dup: recorder.press(press),
            err=err,
        )
        if code == 1:
            writer.event("unplug")
        return code
    finally:
        fp.close()


def record(
    url: str,
    file: str | Path,
    *,
    note: str | None = None,
    arm: int | None = None,
    limit: int | None = None,
    duration: float | None = None,
    err: TextIO | None = None,
) -> int:
    """Capture ``url`` into a kpcap/1 ``file``; returns the exit code."""
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(
            arecord(url, file, note=note, arm=arm, limit=limit, duration=duration, err=err)
        )
    return 0
