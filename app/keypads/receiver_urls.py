"""Which keypad receiver URLs a person may add in the console, and building them safely.

A receiver URL names a file (``replay://``) or a device node (``serial://``, ``sunvote://``,
``evdev://``, ``iclicker://``) that the server then opens with its own rights. From the console:

- a capture file must lie under the data directory or a directory of
  ``Settings.receiver_file_dirs`` (after following symlinks), so ``replay:///etc/passwd`` or a
  link to the secrets of another program is refused before anything is opened;
- a device path must (after following symlinks) match ``Settings.receiver_device_patterns``
  (``/dev/tty*``, ``/dev/hidraw*``, ``/dev/input/*``...), so ``serial:///dev/zero`` is refused;
- the receiver is built in a worker thread with a deadline (``capture_read_timeout_s``), and a
  capture larger than ``capture_max_bytes`` is refused (hardware/capture.py reads regular files
  only and never quotes them), so no URL can block the event loop or fill the memory.

URLs from ``Settings.keypad_urls`` are the operator's own and skip the path checks, not the
size limit. Refusals are `BadInput` with a message the facilitator can act on.
"""

from __future__ import annotations

import asyncio
import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app.core.errors import BadInput
from hardware import KeypadReceiver, ReceiverConfigError, open_receiver
from hardware.capture import MAX_CAPTURE_BYTES
from hardware.urls import DEVICE_SCHEMES, FILE_SCHEMES, target_of

__all__ = ["ReceiverPolicy"]


@dataclass(frozen=True, slots=True)
class ReceiverPolicy:
    """Where the console may open receivers from, and how much and how long it may read.

    Built from the settings by the app (app/main.py): the keypad desk does not read Settings.
    """

    file_dirs: tuple[Path, ...] = ()
    device_patterns: tuple[str, ...] = ()
    max_bytes: int = MAX_CAPTURE_BYTES
    timeout_s: float = 10.0

    def check(self, url: str) -> None:
        """BadInput unless the URL's file or device path is one the console may open."""
        try:
            scheme, target, _ = target_of(url)
        except ReceiverConfigError as e:
            raise BadInput(str(e)) from None
        if scheme in FILE_SCHEMES and target and not self._file_allowed(target):
            places = " or ".join(str(d) for d in self.file_dirs) or "(none configured)"
            raise BadInput(
                f"Capture files are read only from the data directory or "
                f"COVOTE_RECEIVER_FILE_DIRS ({places}): {target} is not there. "
                "Copy the capture into the data directory."
            )
        if scheme in DEVICE_SCHEMES and target and not self._device_allowed(target):
            raise BadInput(
                f"{target} is not a keypad receiver device: accepted are "
                f"{', '.join(self.device_patterns)} (COVOTE_RECEIVER_DEVICE_PATTERNS)."
            )

    def _file_allowed(self, target: str) -> bool:
        if not os.path.isabs(target):
            return False
        real = Path(os.path.realpath(target))
        return any(real.is_relative_to(os.path.realpath(d)) for d in self.file_dirs)

    def _device_allowed(self, target: str) -> bool:
        if "/" not in target and "\\" not in target:  # a Windows port name, like COM3
            return any(
                "/" not in p and fnmatch.fnmatchcase(target, p) for p in self.device_patterns
            )
        if not os.path.isabs(target):
            return False
        # PurePath.match: '*' never crosses a '/', so /dev/tty* cannot match /dev/tty/../x.
        real = PurePosixPath(os.path.realpath(target))
        return any(p.startswith("/") and real.match(p) for p in self.device_patterns)

    def build(self, url: str) -> KeypadReceiver:
        """The (unopened) receiver, its capture at most `max_bytes`; BadInput if it cannot be."""
        try:
            return open_receiver(url, max_capture_bytes=self.max_bytes)
        except ReceiverConfigError as e:
            raise BadInput(str(e)) from None

    async def build_checked(self, url: str) -> KeypadReceiver:
        """`check`, then `build` in a worker thread within `timeout_s` (the event loop keeps
        serving meanwhile)."""
        self.check(url)
        try:
            return await asyncio.wait_for(asyncio.to_thread(self.build, url), self.timeout_s)
        except TimeoutError:
            raise BadInput(
                f"Reading the receiver URL took longer than {self.timeout_s:g} s: not added."
            ) from None
