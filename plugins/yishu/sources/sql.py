"""The SQL connector: a table or a query of a department database, through SQLAlchemy.

Rows become JSON Lines (every value as text, NULL as null), which is what the raw zone keeps.
With `watermark:` the read is incremental: a new partition takes the rows whose watermark
column is above the highest value read for the partitions before it; the range each partition
read is kept in the catalog database, so rerunning a partition reads the same rows again.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from yishu.definitions import Source
from yishu.settings import Settings
from yishu.sources.delivery import Delivery, SourceUnavailable
from yishu.sources.readers import cell_text, read_table

BATCH_ROWS = 10_000


def _url(source: Source, settings: Settings) -> str:
    spec = source.sql
    if spec.url_env:
        url = settings.credential(spec.url_env)
        if not url:
            raise SourceUnavailable(f"{source.file}: sql.url_env: the environment variable "
                                    f"{spec.url_env} is not set: set it to the database's "
                                    "SQLAlchemy URL")
        return url
    return spec.url.format(home=settings.home, repo=settings.repo)


def _statement(source: Source, engine: sa.Engine, low, high):
    """The read: all rows, or the rows in the watermark range (low, high], in watermark order."""
    spec = source.sql
    if spec.table:
        schema, _, name = spec.table.rpartition(".")
        table = sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=engine)
        query = sa.select(table)
        if not spec.watermark:
            return query
        column = table.c[spec.watermark]
        query = query.where(column > low) if low is not None else query
        query = query.where(column <= high) if high is not None else query
        return query.order_by(column)
    if not spec.watermark:
        return sa.text(spec.query)
    column = f"q.{engine.dialect.identifier_preparer.quote(spec.watermark)}"
    conditions = [f"{column} > :low"] * (low is not None) + [f"{column} <= :high"] * (
        high is not None)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    params = {k: v for k, v in (("low", low), ("high", high)) if v is not None}
    return sa.text(f"SELECT * FROM ({spec.query}) AS q{where} ORDER BY {column}").bindparams(
        **params)


def fetch(source: Source, partition: str, settings: Settings, watermarks) -> Delivery:
    spec = source.sql
    if spec.watermark and watermarks is None:
        raise SourceUnavailable(f"{source.file}: sql.watermark: an incremental source needs "
                                "the catalog database's watermarks (run it through its DAG)")
    low, high, _ = watermarks.bounds(source.name, partition) if spec.watermark else (
        None, None, False)
    where = f"{source.sql.table or 'query'} of {source.file.name if source.file else source.name}"
    url = _url(source, settings)
    reached = [low]  # the highest watermark streamed so far

    def rows() -> Iterator[bytes]:
        """JSON Lines straight from the cursor into the raw zone (memory stays flat)."""
        engine = sa.create_engine(url)
        try:
            with engine.connect() as connection:
                result = connection.execution_options(stream_results=True,
                                                      yield_per=BATCH_ROWS).execute(
                    _statement(source, engine, low, high))
                names = list(result.keys())
                for part in result.partitions():
                    lines = []
                    for row in part:
                        record = dict(zip(names, row, strict=True))
                        lines.append(_line(record))
                        # rows come in watermark order; a NULL watermark never moves it back
                        if spec.watermark and record[spec.watermark] is not None:
                            reached[0] = record[spec.watermark]
                    yield b"".join(lines)
        except (SQLAlchemyError, KeyError) as exc:
            reason = getattr(exc, "orig", None) or exc
            raise SourceUnavailable(f"{source.file}: sql: the database refused the read "
                                    f"({type(reason).__name__}: {str(reason).splitlines()[0]}"
                                    "): check `table:`/`query:`, `watermark:` and the URL") \
                from None
        finally:
            engine.dispose()

    stored = None
    if spec.watermark:
        def stored():
            watermarks.record(source.name, partition, low, reached[0] if high is None else high)
    return Delivery(chunks=rows(), suffix=".jsonl", where=where, stored=stored,
                    read=functools.partial(read_table, fmt="jsonl", where=where))


def _line(record: dict) -> bytes:
    return (json.dumps({k: cell_text(v) for k, v in record.items()}, ensure_ascii=False)
            + "\n").encode("utf-8")

