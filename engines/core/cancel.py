"""Cooperative cancellation shared between the UI thread and the worker."""

from __future__ import annotations

import threading


class Cancelled(Exception):
    """Raised inside an engine run when its token was cancelled; not an error for the user."""


class CancelToken:
    """A thread-safe flag. The worker's engine checks it between steps/tiles."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()
