from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class DevClockSetting(Base):
    """The shared development clock: an offset from real time, or a frozen moment (one row)."""

    __tablename__ = "dev_clock"

    id: Mapped[int] = mapped_column(primary_key=True)
    offset_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
