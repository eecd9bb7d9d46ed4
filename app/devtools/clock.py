"""A MovableClock whose setting lives in the database, so web and timer workers move together."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.clock import MovableClock
from app.db import Database
from app.devtools.models import DevClockSetting


class SharedDevClock(MovableClock):
    """Reads the shared setting on `sync()` (start of each request or worker iteration)."""

    def __init__(self, database: Database):
        super().__init__()
        self._database = database

    def sync(self) -> None:
        with self._database.new_session() as session:
            setting = session.scalar(select(DevClockSetting).where(DevClockSetting.id == 1))
        if setting is None:
            self._apply(timedelta(0), None)
        else:
            self._apply(timedelta(seconds=setting.offset_seconds), setting.frozen_at)

    def _apply(self, offset: timedelta, frozen_at: datetime | None) -> None:
        with self._lock:
            self._offset = offset
            self._frozen_at = frozen_at

    def store(self, *, offset: timedelta | None = None, frozen_at: datetime | None = None) -> None:
        """Write a new setting for every process and apply it here."""
        with self._database.transaction() as session:
            setting = session.get(DevClockSetting, 1) or DevClockSetting(id=1)
            setting.offset_seconds = (offset or timedelta(0)).total_seconds()
            setting.frozen_at = frozen_at
            session.add(setting)
        self._apply(offset or timedelta(0), frozen_at)
