"""The one place that says "now": timers, guards, services and SpiffWorkflow's own timer checks.

Production uses the system clock. Tests install a MovableClock and freeze or move time through it;
in development a database-backed offset (app.devtools) lets browser tests move the clock of every
process (web and timer workers) at once.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class MovableClock:
    """Real time plus an offset, or a frozen moment. Thread-safe."""

    def __init__(self, frozen_at: datetime | None = None, offset: timedelta = timedelta(0)):
        self._lock = threading.Lock()
        self._frozen_at = _require_aware(frozen_at) if frozen_at else None
        self._offset = offset

    def now(self) -> datetime:
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return datetime.now(UTC) + self._offset

    def freeze(self, at: datetime | None = None) -> None:
        """Stop time at `at` (default: the current moment of this clock)."""
        moment = _require_aware(at) if at else self.now()
        with self._lock:
            self._frozen_at = moment.astimezone(UTC)

    def set(self, at: datetime) -> None:
        """Jump to `at`; a frozen clock stays frozen, a running one keeps running from there."""
        at = _require_aware(at).astimezone(UTC)
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = at
            else:
                self._offset = at - datetime.now(UTC)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move time forward by `delta` (or timedelta(**kwargs)) and return the new now."""
        step = delta if delta is not None else timedelta(**kwargs)
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += step
            else:
                self._offset += step
        return self.now()

    def run(self) -> None:
        """Let a frozen clock run again from where it stands."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - datetime.now(UTC)
                self._frozen_at = None

    @property
    def offset(self) -> timedelta:
        return self._offset

    @property
    def frozen_at(self) -> datetime | None:
        return self._frozen_at


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("the clock only takes timezone-aware datetimes")
    return moment


_current: Clock = SystemClock()


def now() -> datetime:
    """The current moment by the installed clock (UTC, aware)."""
    return _current.now()


def current_clock() -> Clock:
    return _current


def install_clock(clock: Clock) -> Clock:
    """Make `clock` the process-wide clock; returns the previous one."""
    global _current
    previous, _current = _current, clock
    return previous
