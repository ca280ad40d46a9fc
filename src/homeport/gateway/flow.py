"""Write-side flow control, shared by the client and the upstream protocols.

The transport calls ``pause_writing`` when its buffer passes the high-water mark and
``resume_writing`` once it has drained; a writer that finds ``_can_write`` false waits on
``_drain``. When the connection is lost, ``_fail_drain`` wakes that writer with the error.
"""

from __future__ import annotations

import asyncio


class WriteFlow:
    """``pause_writing``/``resume_writing`` and the future a paused writer waits on."""

    _can_write: bool = True
    _drain: asyncio.Future[None] | None = None

    def pause_writing(self) -> None:
        """The peer reads slower than we write."""
        self._can_write = False

    def resume_writing(self) -> None:
        """The peer caught up."""
        self._can_write = True
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def _fail_drain(self, error: Exception) -> None:
        """Wake a paused writer with ``error`` (marked retrieved: nobody may be waiting)."""
        if self._drain is not None and not self._drain.done():
            self._drain.set_exception(error)
            self._drain.exception()
