"""Watermarks of incremental sources, kept per source and partition in the catalog database.

Values are stored as JSON with their type ({"type": "datetime", "value": "..."}) so that the
next query binds a datetime, a number or a string as the column expects, on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json

from sqlalchemy import select

from yishu.db.database import Database
from yishu.db.models import SourceWatermark

_TYPES = {"datetime": dt.datetime.fromisoformat, "date": dt.date.fromisoformat, "int": int,
          "decimal": decimal.Decimal, "float": float, "str": str}


def encode(value) -> str | None:
    if value is None:
        return None
    kind = next((name for name, cls in (("datetime", dt.datetime), ("date", dt.date),
                                        ("int", int), ("decimal", decimal.Decimal),
                                        ("float", float)) if isinstance(value, cls)), "str")
    text = value.isoformat() if kind in ("datetime", "date") else str(value)
    return json.dumps({"type": kind, "value": text})


def decode(stored: str | None):
    if stored is None:
        return None
    data = json.loads(stored)
    return _TYPES[data["type"]](data["value"])


class Watermarks:
    """The watermark range of each partition of each incremental source."""

    def __init__(self, db: Database):
        self.db = db

    def bounds(self, source: str, partition: str) -> tuple[object, object, bool]:
        """(low, high, known): a partition read before keeps its range (a rerun reads the
        same rows); a new one starts above the highest value read before it and stops below
        the first partition after it, if any."""
        with self.db.session() as s:
            rows = s.scalars(select(SourceWatermark).where(SourceWatermark.source == source)
                             .order_by(SourceWatermark.partition)).all()
        for row in rows:
            if row.partition == partition:
                return decode(row.low), decode(row.high), True
        before = [r for r in rows if r.partition < partition]
        after = [r for r in rows if r.partition > partition]
        return (decode(before[-1].high) if before else None,
                decode(after[0].low) if after else None, False)

    def record(self, source: str, partition: str, low, high) -> None:
        self.db.upsert(SourceWatermark, {"source": source, "partition": partition},
                       low=encode(low), high=encode(high), updated_at=dt.datetime.now(dt.UTC))
