"""A KPL/1 receiver emulated on a pseudo-terminal, so the real ``serial://`` driver (pyserial,
reader thread, framing, commands) runs end to end without hardware. POSIX only (``os.openpty``).

The emulator owns a pty pair and publishes the slave under a stable symlink (``path``), the way
udev publishes ``/dev/serial/by-id/...``; ``unplug()`` closes the master (the host's pending
read fails with pyserial's ``SerialException``, exactly like pulling a USB cable) and removes
the symlink; ``plug()`` makes a new pty behind the same path.

Firmware behaviour (keypads.md 5.6): HELLO at boot and on ``KP1 ?``; heartbeat every
``heartbeat_s``; ``ACK <cmd>`` for every valid command; bad-checksum lines ignored; OPEN/CLOSE
set ``accepting``. Every valid command received is kept in ``commands`` (thread-safe) and can be
awaited with `KplEmulator.wait_for`. Everything runs on one daemon thread; the public methods are
safe to call from any thread, including the event loop (they do not block for long).
"""

from __future__ import annotations

import contextlib
import os
import select
import tempfile
import threading
import time
import tty
from pathlib import Path
from types import TracebackType
from typing import Self

from .kpl import KplCommand, LineFramer, frame, parse_command

__all__ = ["KplEmulator"]

_POLL_S = 0.05  # command latency of the emulated firmware; also its stop latency
_WRITE_GIVE_UP_S = 1.0  # a host that reads nothing for 1 s: drop output like a full UART FIFO


class KplEmulator:
    """A scriptable KPL/1 receiver. Use as a context manager (plugs on enter)."""

    def __init__(
        self,
        *,
        rx: str = "EMU1",
        fw: str = "1.0",
        heartbeat_s: float | None = 2.0,
        path: str | os.PathLike[str] | None = None,
        proto: int = 1,
    ) -> None:
        self.rx = rx
        self.fw = fw
        self.proto = proto
        self.heartbeat_s = heartbeat_s
        self._own_dir: str | None = None
        if path is None:
            self._own_dir = tempfile.mkdtemp(prefix="covote-kpl-")
            path = Path(self._own_dir) / "ttyKPL0"
        self.path = str(path)
        self.commands: list[KplCommand] = []
        self.accepting = False
        self.choices: int | None = None
        self.question: str | None = None
        self.dropped_writes = 0
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._master: int | None = None
        self._slave: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._booted_at = time.monotonic()
        self._silent = False

    @property
    def url(self) -> str:
        return f"serial://{self.path}"

    @property
    def plugged(self) -> bool:
        return self._master is not None

    # -- cable ---------------------------------------------------------------------------

    def plug(self) -> None:
        """Create a fresh pty behind ``path`` and boot the firmware (sends HELLO)."""
        if self.plugged:
            return
        master, slave = os.openpty()
        # Raw at once: a cooked slave would echo our own output back to us as "commands".
        tty.setraw(slave)
        os.set_blocking(master, False)
        tmp = f"{self.path}.new"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self.path)
        self._master, self._slave = master, slave
        self.accepting, self._silent = False, False
        self._booted_at = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="covote-kpl-emulator", daemon=True)
        self._thread.start()
        self.hello()

    def unplug(self) -> None:
        """Pull the cable: the host's read fails and the port path disappears."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)
        self._thread = None
        with self._write_lock:
            for fd in (self._master, self._slave):  # master first: that is what the host sees
                if fd is not None:
                    os.close(fd)
            self._master = self._slave = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def close(self) -> None:
        self.unplug()
        if self._own_dir is not None:
            with contextlib.suppress(FileNotFoundError):
                os.rmdir(self._own_dir)

    def __enter__(self) -> Self:
        self.plug()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- what the firmware says ----------------------------------------------------------

    def send(self, body: str) -> None:
        """Send one framed line, e.g. ``send("KP1 E RADIO")``."""
        self.send_raw(frame(body))

    def send_raw(self, data: bytes) -> None:
        """Send bytes as they are (bad checksums, garbage, partial lines)."""
        fd = self._master
        if fd is None:
            return
        deadline = time.monotonic() + _WRITE_GIVE_UP_S
        view = memoryview(data)
        with self._write_lock:
            while view and self._master is not None:
                try:
                    view = view[os.write(fd, view) :]
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        self.dropped_writes += 1
                        return
                    select.select([], [fd], [], _POLL_S)

    def press(self, keypad: str, key: str, seq: int | None = None, **fields: object) -> None:
        """A keypad press: ``KP1 P <keypad> <key> <seq|-> [k=v...]``."""
        extra = "".join(f" {k}={v}" for k, v in fields.items())
        self.send(f"KP1 P {keypad} {key} {'-' if seq is None else seq}{extra}")

    def hello(self) -> None:
        self.send(f"KP1 HELLO proto={self.proto} fw={self.fw} rx={self.rx} radio=nrf24")

    def reboot(self) -> None:
        """Power-cycle the firmware without unplugging: state is lost, HELLO is sent."""
        self.accepting = False
        self._booted_at = time.monotonic()
        self.hello()

    def wedge(self) -> None:
        """Stop talking (no heartbeats, no answers) while the port stays open."""
        self._silent = True

    # -- what the host said --------------------------------------------------------------

    def wait_for(self, name: str, timeout: float = 5.0, *, count: int = 1) -> KplCommand:
        """Block until ``count`` commands called ``name`` arrived; return the last one."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                hits = [c for c in self.commands if c.name == name]
                if len(hits) >= count:
                    return hits[count - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    got = [c.name for c in self.commands]
                    raise TimeoutError(f"no {count}x {name} within {timeout} s (got {got})")
                self._cond.wait(left)

    # -- firmware loop -------------------------------------------------------------------

    def _run(self) -> None:
        framer = LineFramer()
        fd = self._master
        assert fd is not None
        last_hb = time.monotonic()
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([fd], [], [], _POLL_S)
                data = os.read(fd, 4096) if ready else b""
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:  # fd closed under us by unplug()
                return
            for line in framer.feed(data):
                command = parse_command(line)
                if command is not None:
                    self._handle(command)
            now = time.monotonic()
            if self.heartbeat_s is not None and now - last_hb >= self.heartbeat_s:
                last_hb = now
                if not self._silent:
                    self.send(f"KP1 HB {int((now - self._booted_at) * 1000)}")

    def _handle(self, command: KplCommand) -> None:
        with self._cond:
            self.commands.append(command)
            self._cond.notify_all()
        if self._silent:
            return
        if command.name == "?":
            self.hello()
            return
        if command.name == "OPEN":
            self.accepting = True
            self.choices = (
                int(command.args[0]) if command.args and command.args[0].isdigit() else None
            )
            self.question = command.fields.get("q")
        elif command.name == "CLOSE":
            self.accepting = False
        elif command.name not in ("FB", "CH"):
            self.send(f"KP1 E CMD {command.name}")
            return
        self.send(f"KP1 ACK {command.name}")
