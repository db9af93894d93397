"""Validate one raw snapshot in chunks of Parquet record batches, never as one whole frame.

Each chunk (`Settings.validate_chunk_rows` rows, YISHU_VALIDATE_CHUNK_ROWS) is read as text,
measured for retyped columns, typed, and handed to Great Expectations (`standard.chunks`);
the measures that need the whole table are summed over chunks (retyped shares, timeliness) or
read as single columns (uniqueness of a key, example keys, consistency), so peak memory is
one chunk plus a few columns, whatever the snapshot's size.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from yishu.definitions import Catalog, Source
from yishu.parquet_files import open_parquet, parquet_batches
from yishu.sources.drift import retyped_counts, retyped_from_counts
from yishu.standard.suites import NUMERIC_TYPES


@dataclass
class Checked:
    outcome: object  # ValidationOutcome
    retyped: list[dict]
    timeliness: float | None
    chunks: int


def typed(cat: Catalog, source: Source, df: pd.DataFrame) -> pd.DataFrame:
    """Numbers parsed in place (unparseable numbers become missing); other columns stay text."""
    for col in source.columns.values():
        if col.name in df and cat.elements[col.element].type in NUMERIC_TYPES:
            df[col.name] = pd.to_numeric(df[col.name], errors="coerce")
    return df


def typed_chunks(cat: Catalog, source: Source, snapshot: str, columns: list[str],
                 chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Only `columns` of the snapshot, typed, a chunk at a time, indexed by row position."""
    start = 0
    for batch in parquet_batches(snapshot, chunk_rows, columns):
        df = batch.to_pandas()
        df.index = pd.RangeIndex(start, start + len(df))
        start += len(df)
        yield typed(cat, source, df)


def typed_rows(cat: Catalog, source: Source, snapshot: str, column: str, rows: set[int],
               chunk_rows: int) -> pd.Series:
    """`column` at the row positions `rows` only (example rows), typed; read a chunk at a time."""
    wanted = pd.Index(sorted(rows), dtype="int64")
    picked = [df.loc[df.index.intersection(wanted), column]
              for df in typed_chunks(cat, source, snapshot, [column], chunk_rows)] if rows else []
    return pd.concat(picked) if picked else pd.Series([], dtype=object)


def _fresh(cat: Catalog, source: Source, df: pd.DataFrame, partition: str,
           days: int) -> int | None:
    """Rows of the chunk whose first date is within `days` before the partition's end."""
    date_cols = [c.name for c in source.columns.values()
                 if cat.elements[c.element].type == "date"]
    if not date_cols:
        return None
    dates = pd.to_datetime(df[date_cols[0]], errors="coerce", format="%Y-%m-%d")
    end = pd.Timestamp(partition)
    return int(dates.between(end - pd.Timedelta(days=days), end).sum())


def validate_snapshot(cat: Catalog, source: Source, snapshot: str, suite: dict, *,
                      partition: str, freshness_days: int, chunk_rows: int,
                      data_docs_dir: pathlib.Path | None = None) -> Checked:
    from yishu.standard import chunks  # Great Expectations is slow to import

    types = {c.name: cat.elements[c.element].type for c in source.columns.values()}
    file = open_parquet(snapshot)
    many = file.metadata.num_rows > chunk_rows
    if many and not chunks.chunkable(suite):
        chunk_rows, many = max(file.metadata.num_rows, 1), False  # see standard.chunks
    counts: dict[str, list] = {}
    keys = chunks.unique_columns(suite) if many else []
    pieces: dict[str, list[pa.Array]] = {k: [] for k in keys}
    tally = {"fresh": 0, "rows": 0, "dated": False, "chunks": 0}

    def frames() -> Iterator[pd.DataFrame]:
        for batch in parquet_batches(file, chunk_rows):
            df = batch.to_pandas()
            df.index = pd.RangeIndex(tally["rows"], tally["rows"] + len(df))
            retyped_counts(df, types, into=counts)
            df = typed(cat, source, df)
            fresh = _fresh(cat, source, df, partition, freshness_days)
            tally["dated"] = fresh is not None
            tally["fresh"] += fresh or 0
            tally["rows"] += len(df)
            tally["chunks"] += 1
            for k in keys:
                if k in df:
                    pieces[k].append(chunks.key_piece(df[k]))
            yield df
            del df, batch  # the chunk's memory goes before the next is read
        if not tally["chunks"]:  # an empty snapshot still gets its (vacuous) results
            tally["chunks"] = 1
            yield typed(cat, source, file.schema_arrow.empty_table().to_pandas())

    uniques: dict[str, tuple[int, list[int]]] = {}
    outcome = chunks.run_chunks(_then(frames(), lambda: uniques.update(
        {k: _duplicates(cat, source, snapshot, k, _one_type(v), chunk_rows)
         for k, v in pieces.items() if v})), suite, data_docs_dir=data_docs_dir, uniques=uniques)
    timeliness = None
    if tally["dated"]:
        timeliness = tally["fresh"] / tally["rows"] if tally["rows"] else 1.0
    return Checked(outcome, retyped_from_counts(counts), timeliness, tally["chunks"])


def _duplicates(cat: Catalog, source: Source, snapshot: str, column: str,
                values: pa.ChunkedArray, chunk_rows: int) -> tuple[int, list[int]]:
    """`chunks.duplicates` of a key column kept as `chunks.key_piece`s: for hashes of text, the
    rows whose hash repeats are read again and only those whose text repeats are counted."""
    from yishu.standard import chunks

    if values.type != pa.uint64():
        return chunks.duplicates(values)
    rows = set(chunks.repeated_rows(values).to_pylist())
    if not rows:
        return 0, []
    text = typed_rows(cat, source, snapshot, column, rows, chunk_rows)
    return chunks.duplicates(pa.array(text.to_numpy(dtype=object), from_pandas=True),
                             rows=text.index)


def _one_type(pieces: list[pa.Array]) -> pa.ChunkedArray:
    """The chunks of one column as one array: a chunk of nulls only, or one whose numbers all
    parsed as integers, is cast to the type the others share (float64 when they differ)."""
    kinds = {a.type for a in pieces if a.type != pa.null()}
    kind = kinds.pop() if len(kinds) == 1 else (pa.float64() if kinds else pa.string())
    return pa.chunked_array([a.cast(kind) for a in pieces], type=kind)


def _then(items: Iterator, done) -> Iterator:
    """`items`, then call `done()` once they are exhausted (before the consumer goes on)."""
    yield from items
    done()
