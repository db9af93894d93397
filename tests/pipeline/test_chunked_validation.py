"""Validation in chunks gives the result of validation in one chunk: the same expectations,
counts, percentages, example rows and successes, with `mostly` judged on the totals and a
duplicate key found when its two rows fall in different chunks."""

import dataclasses

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from yishu.pipeline.validation import validate_snapshot
from yishu.resources import Resources
from yishu.samples import iter_generate
from yishu.settings import Settings
from yishu.standard.suites import read_suite

ROWS, SMALL = 600, 64
PARTITION = "2026-11-01"


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chunked")
    res = Resources.from_settings(Settings.for_home(folder))
    table = pa.concat_tables(iter_generate("health_visits", ROWS, seed=11, dirty=True))
    rows = table.to_pylist()
    rows[SMALL]["visit_id"] = rows[SMALL - 1]["visit_id"]  # a duplicate across chunks 0 and 1
    rows[5 * SMALL + 3]["visit_id"] = rows[2]["visit_id"]  # and one across chunks 0 and 5
    for i in range(10, 20):  # departments outside the set, all in the first chunk: 10 of 64
        rows[i]["department"] = "不存在的科室"
    for i in (70, 200, 401, 599):  # costs that do not parse, spread over several chunks
        rows[i]["visit_cost"] = "n/a"
    for i in (3, 130, 131, 500):
        rows[i]["patient_resident_id"] = None
    snapshot = folder / "snapshot.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), snapshot)
    suite = read_suite(res.settings.expectations_dir, "health_visits")
    # a hand-written `mostly` that the first chunk alone fails (10/64) and the table passes
    suite["expectations"].append({
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "department", "mostly": 0.95,
                   "value_set": sorted({r["department"] for r in rows} - {"不存在的科室"})},
        "meta": {"severity": "critical", "dimension": "accuracy"}})
    return res, str(snapshot), suite


def _run(case, chunk_rows):
    res, snapshot, suite = case
    return validate_snapshot(res.catalog, res.catalog.sources["health_visits"], snapshot,
                             suite, partition=PARTITION, freshness_days=31,
                             chunk_rows=chunk_rows)


def test_chunked_validation_equals_one_chunk(case):
    whole, chunked = _run(case, ROWS * 2), _run(case, SMALL)
    assert (whole.chunks, chunked.chunks) == (1, -(-ROWS // SMALL))
    assert [dataclasses.asdict(r) for r in chunked.outcome.results] == [
        dataclasses.asdict(r) for r in whole.outcome.results]
    assert (chunked.retyped, chunked.timeliness) == (whole.retyped, whole.timeliness)
    assert whole.timeliness is not None


def test_duplicates_across_chunk_boundaries_are_found(case):
    chunked = _run(case, SMALL)
    unique = next(r for r in chunked.outcome.results
                  if r.type == "expect_column_values_to_be_unique" and r.column == "visit_id")
    assert unique.unexpected_count >= 4 and not unique.success
    assert {2, SMALL - 1, SMALL} <= set(unique.example_rows)


def test_mostly_is_judged_on_the_totals(case, tmp_path):
    lenient = next(r for r in _run(case, SMALL).outcome.results if r.kwargs.get("mostly"))
    assert lenient.unexpected_count == 10 and lenient.success
    res, snapshot, suite = case  # the first chunk alone (10 of 64 outside the set) fails it
    first = tmp_path / "first.parquet"
    pq.write_table(pq.read_table(snapshot).slice(0, SMALL), first)
    alone = _run((res, str(first), suite), SMALL)
    assert not next(r for r in alone.outcome.results if r.kwargs.get("mostly")).success


def test_unknown_chunk_setting_gets_one_clear_message():
    from yishu.settings import load

    assert load({"YISHU_VALIDATE_CHUNK_ROWS": "5000"}).validate_chunk_rows == 5000
    with pytest.raises(ValueError, match="YISHU_VALIDATE_CHUNK_ROWS='lots'"):
        load({"YISHU_VALIDATE_CHUNK_ROWS": "lots"})


def test_keys_sharing_a_hash_are_told_apart_by_their_text(case, monkeypatch):
    """Text keys are kept as 64-bit hashes (issue 13): with every key hashed to the same few
    values, the duplicates counted are still those of the text itself."""
    import pandas as pd

    from yishu.standard import chunks

    exact = _run(case, SMALL)
    key_piece = chunks.key_piece
    monkeypatch.setattr(chunks, "key_piece", lambda values: key_piece(values)
                        if pd.api.types.is_numeric_dtype(values.dtype) else pa.array(
                            [len(v or "") % 3 for v in values], pa.uint64(),
                            mask=values.isna().to_numpy()))
    colliding = _run(case, SMALL)
    unique = [r for r in colliding.outcome.results if r.type == chunks.UNIQUE]
    assert unique and 4 <= unique[0].unexpected_count < ROWS / 10  # not every row: 3 hashes
    assert [dataclasses.asdict(r) for r in colliding.outcome.results] == [
        dataclasses.asdict(r) for r in exact.outcome.results]


def test_text_keys_are_kept_as_hashes():
    import pandas as pd

    from yishu.standard import chunks

    for kind in (object, "str"):  # text is `str` in pandas 3, as Arrow's to_pandas gives it
        piece = chunks.key_piece(pd.Series(["V1", None, "V1", "V2"], dtype=kind))
        assert piece.type == pa.uint64() and piece.null_count == 1
        assert piece[0] == piece[2] != piece[3]
    assert chunks.duplicates(piece) == (2, [0, 2])
