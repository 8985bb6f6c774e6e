"""HID device access for vendor-HID receivers: the `HidDevice` seam, the hidapi opener, and
`FakeHidDevice` for tests.

``hidapi`` (``pip install hidapi==0.15.0``, module ``hid``) is optional and imported only when
a real device is opened; without it opening raises `ReceiverConfigError` with the install hint.
Report-ID convention: drivers pass the report payload (64 bytes for the iClicker base, which
has no report IDs); the hidapi adapter prepends the report ID 0 that hidapi expects.
On Linux, hidapi's hidraw backend needs a udev rule for non-root access to ``/dev/hidraw*``.
"""

from __future__ import annotations

import importlib
import queue
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from .base import ReceiverConfigError, ReceiverUnavailable

__all__ = ["FakeHidDevice", "HidDevice", "hidapi_opener"]


class HidDevice(Protocol):
    """The calls a driver makes. ``read`` waits at most ``timeout_ms`` and returns an empty
    value when nothing came; it raises OSError when the device is gone."""

    def read(self, size: int, timeout_ms: int) -> Sequence[int] | bytes: ...
    def write(self, data: bytes) -> int: ...
    def close(self) -> None: ...


class _Hidapi:
    """Adapts a ``hid.device`` (hidapi) to `HidDevice`: adds the report-ID prefix 0."""

    def __init__(self, device: Any) -> None:
        self._device = device

    def read(self, size: int, timeout_ms: int) -> Sequence[int] | bytes:
        data: Sequence[int] = self._device.read(size, timeout_ms)
        return data

    def write(self, data: bytes) -> int:
        # No OUT endpoint on the iClicker base: hidapi turns this into a SET_REPORT control
        # transfer, which is why the report-ID byte 0 must lead (keypads.md 1.2).
        written: int = self._device.write(b"\x00" + data)
        if written < 0:
            raise OSError("hidapi write failed")
        return written

    def close(self) -> None:
        self._device.close()


def _import_hidapi() -> Any:
    try:
        return importlib.import_module("hid")
    except ImportError as exc:
        raise ReceiverConfigError(
            "this receiver needs the optional 'hidapi' package: pip install hidapi==0.15.0"
        ) from exc


def hidapi_opener(
    vid: int, pid: int, *, path: str | None = None, serial: str | None = None
) -> Callable[[], HidDevice]:
    """An opener (blocking; run it in a thread) for the first ``vid:pid`` device found, or
    the one at ``path`` / with ``serial``. Raises `ReceiverUnavailable` if none is there."""

    def open_device() -> HidDevice:
        hid = _import_hidapi()
        found = [
            d
            for d in hid.enumerate(vid, pid)
            if (path is None or d["path"].decode(errors="replace") == path)
            and (serial is None or d.get("serial_number") == serial)
        ]
        if not found:
            raise ReceiverUnavailable(f"no HID device {vid:04x}:{pid:04x} found")
        device = hid.device()
        try:
            device.open_path(found[0]["path"])
        except OSError as exc:  # on Linux usually a missing udev rule for /dev/hidraw*
            raise ReceiverUnavailable(f"cannot open HID device {vid:04x}:{pid:04x}: {exc}") from exc
        return _Hidapi(device)

    return open_device


class FakeHidDevice:
    """A scripted device: hands out queued input reports, records every written report in
    ``written``, and queues ``respond(report)`` (when not None) as the device's answer.
    ``unplug()`` makes reads raise OSError from then on. Thread-safe."""

    def __init__(
        self,
        reports: Iterable[bytes] = (),
        *,
        respond: Callable[[bytes], bytes | None] | None = None,
    ) -> None:
        self.written: list[bytes] = []
        self.closed = False
        self._respond = respond
        self._inbox: queue.Queue[bytes | None] = queue.Queue()
        for report in reports:
            self.push(report)

    def push(self, report: bytes) -> None:
        self._inbox.put(bytes(report))

    def unplug(self) -> None:
        self._inbox.put(None)

    def read(self, size: int, timeout_ms: int) -> bytes:
        try:
            report = self._inbox.get(timeout=timeout_ms / 1000)
        except queue.Empty:
            return b""
        if report is None:
            self._inbox.put(None)  # stays unplugged
            raise OSError("device disconnected")
        return report[:size]

    def write(self, data: bytes) -> int:
        self.written.append(bytes(data))
        answer = self._respond(data) if self._respond is not None else None
        if answer is not None:
            self.push(answer)
        return len(data)

    def close(self) -> None:
        self.closed = True
