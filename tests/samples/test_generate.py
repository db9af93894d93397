"""The deterministic sample-data generator (yishu.samples)."""

from __future__ import annotations

import collections
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
import yaml

from yishu import samples as sample
from yishu.standard.identifiers import is_mobile, is_phone, is_resident_id, is_uscc
from yishu.storage import Storage

ROWS = 2000
CATALOG = Path(__file__).resolve().parents[2] / "catalog"


@pytest.fixture(scope="module")
def visits() -> pa.Table:
    return sample.generate("health_visits", ROWS)


@pytest.fixture(scope="module")
def registry() -> pa.Table:
    return sample.generate("market_enterprise", ROWS)


def _col(table: pa.Table, name: str) -> list:
    return table.column(name).to_pylist()


def _planted(source: str) -> dict[str, set[int]]:
    return {k: set(v) for k, v in sample.dirty_rows(source, ROWS).items()}


@pytest.mark.parametrize("source", sample.SOURCES)
def test_columns_follow_the_source_yaml(source):
    spec = yaml.safe_load((CATALOG / "sources" / f"{source}.yaml").read_text("utf-8"))
    table = sample.generate(source, 50)
    assert table.column_names == list(spec["columns"]) == sample.COLUMNS[source]
    assert all(t == pa.string() for t in table.schema.types)
    assert table.num_rows == 50


def test_unknown_source_is_rejected():
    with pytest.raises(ValueError, match="health_visits.*market_enterprise"):
        sample.generate("ev_stations", 10)


@pytest.mark.parametrize("source", sample.SOURCES)
def test_deterministic_per_seed(source):
    first = sample.generate(source, 500, seed=11)
    assert first.equals(sample.generate(source, 500, seed=11))
    assert not first.equals(sample.generate(source, 500, seed=12))


def test_chunks_have_globally_unique_keys():
    chunks = list(sample.iter_generate("health_visits", 2500, chunk_rows=1000, dirty=False))
    assert [c.num_rows for c in chunks] == [1000, 1000, 500]
    assert chunks[0].equals(sample.generate("health_visits", 1000, dirty=False))
    ids = [v for c in chunks for v in _col(c, "visit_id")]
    assert len(set(ids)) == 2500
    usccs = [v for c in sample.iter_generate("market_enterprise", 2500, chunk_rows=1000)
             for v in _col(c, "uscc")]
    assert len(set(usccs)) == 2500


def test_clean_visits_pass_the_validators():
    table = sample.generate("health_visits", ROWS, dirty=False)
    assert all(is_resident_id(v) for v in _col(table, "patient_resident_id"))
    assert all(is_mobile(v) for v in _col(table, "patient_phone"))
    assert all(is_uscc(v) for v in _col(table, "hospital_uscc"))
    assert len(set(_col(table, "visit_id"))) == ROWS
    assert all(v is not None for c in table.columns for v in c.to_pylist())
    allowed = yaml.safe_load((CATALOG / "elements.yaml").read_text("utf-8"))["elements"]
    assert set(_col(table, "department")) <= set(allowed["department"]["allowed"])
    dates = {dt.date.fromisoformat(v) for v in _col(table, "visit_date")}
    assert min(dates) >= dt.date(2026, 10, 2) and max(dates) <= dt.date(2026, 10, 31)
    assert all(0 <= float(v) < 500_000 for v in _col(table, "visit_cost"))


def test_clean_registry_passes_the_validators():
    table = sample.generate("market_enterprise", ROWS, dirty=False)
    usccs = _col(table, "uscc")
    assert all(is_uscc(v) for v in usccs) and len(set(usccs)) == ROWS
    assert all(is_resident_id(v) for v in _col(table, "legal_rep_resident_id"))
    phones = _col(table, "enterprise_phone")
    assert all(is_phone(v) for v in phones)
    assert any(v.startswith("0755-8") for v in phones) and any(is_mobile(v) for v in phones)
    assert set(_col(table, "district")) <= set(sample.DISTRICTS)
    assert set(_col(table, "industry")) <= set("ABCDEFGHIJKLMNOPQRST")
    assert all(0 <= float(v) <= 1e8 for v in _col(table, "registered_capital"))
    assert all("1946-01-01" <= v <= "2026-11-01" for v in _col(table, "established_date"))


def test_letter_first_usccs_are_present_and_valid(registry):
    usccs = _col(registry, "uscc")
    letter_first = [v for v in usccs if v[0].isalpha()]
    assert {v[0] for v in letter_first} == {"N", "Y"}
    assert 0.02 * ROWS < len(letter_first) < 0.10 * ROWS
    assert all(is_uscc(v) for v in letter_first)


def test_planted_visit_dirt_fails_in_the_expected_counts(visits):
    planted = _planted("health_visits")
    expected = {reason: round(ROWS * share)
                for reason, share in sample.DIRTY_SHARES["health_visits"].items()}
    assert {k: len(v) for k, v in planted.items()} == expected

    ids = _col(visits, "patient_resident_id")
    assert {i for i, v in enumerate(ids) if not is_resident_id(v)} == \
        planted["resident_id_check_digit"]
    phones = _col(visits, "patient_phone")
    assert {i for i, v in enumerate(phones) if not is_phone(v)} == planted["bad_phone"]
    assert {i for i, v in enumerate(_col(visits, "patient_name")) if v is None} == \
        planted["null_patient_name"]
    assert {i for i, v in enumerate(_col(visits, "visit_date")) if v is None} == \
        planted["null_visit_date"]
    assert {i for i, v in enumerate(_col(visits, "visit_cost")) if float(v) < 0} == \
        planted["negative_cost"]


def test_planted_duplicates_are_exact_copies(visits):
    rows = visits.to_pylist()
    counts = collections.Counter(tuple(r.values()) for r in rows)
    copies = sum(n - 1 for n in counts.values())
    planted = _planted("health_visits")["duplicate"]
    assert copies == len(planted) > 0
    assert all(counts[tuple(rows[i].values())] >= 2 for i in planted)
    clean = sample.generate("health_visits", ROWS, dirty=False).to_pylist()
    assert len({tuple(r.values()) for r in clean}) == ROWS


def test_registry_dirt_is_mild(registry):
    planted = _planted("market_enterprise")
    assert set(planted) == {"bad_phone", "capital_out_of_range", "null_industry"}
    assert all(is_resident_id(v) for v in _col(registry, "legal_rep_resident_id"))
    assert all(is_uscc(v) for v in _col(registry, "uscc"))
    assert len(set(_col(registry, "uscc"))) == ROWS
    assert all(v is not None for v in _col(registry, "legal_rep_name"))
    phones = _col(registry, "enterprise_phone")
    assert {i for i, v in enumerate(phones) if not is_phone(v)} == planted["bad_phone"]
    capital = _col(registry, "registered_capital")
    assert {i for i, v in enumerate(capital) if not 0 <= float(v) <= 1e8} == \
        planted["capital_out_of_range"]
    assert {i for i, v in enumerate(_col(registry, "industry")) if v is None} == \
        planted["null_industry"]


def test_hospitals_agree_across_sources(visits, registry):
    names = dict(zip(_col(registry, "uscc"), _col(registry, "enterprise_name"), strict=True))
    hospitals = {h["uscc"]: h for h in sample.hospitals()}
    assert len(hospitals) == 20
    assert all(names[u] == h["enterprise_name"] and h["industry"] == "Q"
               for u, h in hospitals.items())
    mismatched = _planted("health_visits")["hospital_name_mismatch"]
    pairs = zip(_col(visits, "hospital_uscc"), _col(visits, "hospital_name"), strict=True)
    for i, (uscc, name) in enumerate(pairs):
        assert uscc in hospitals
        assert (names[uscc] != name) == (i in mismatched)
    clean = sample.generate("health_visits", ROWS, dirty=False)
    assert all(names[u] == n for u, n in zip(_col(clean, "hospital_uscc"),
                                             _col(clean, "hospital_name"), strict=True))


def test_notes_carry_the_rows_pii(visits):
    clean = set(range(ROWS)) - set().union(*_planted("health_visits").values())
    notes = _col(visits, "doctor_note")
    ids, phones = _col(visits, "patient_resident_id"), _col(visits, "patient_phone")
    names = _col(visits, "patient_name")
    with_id = [i for i in clean if ids[i] in notes[i]]
    with_phone = [i for i in clean if phones[i] in notes[i]
                  or f"{phones[i][:3]}-{phones[i][3:7]}-{phones[i][7:]}" in notes[i]]
    assert len(with_id) > 0.2 * len(clean) and len(with_phone) > 0.15 * len(clean)
    assert all(names[i] in notes[i] for i in with_id)
    no_pii = [n for n in notes if n.startswith(sample.NO_PII_NOTE_PREFIXES)]
    assert 0.12 * ROWS < len(no_pii) < 0.30 * ROWS
    assert any("先生" in n or "女士" in n for n in notes)
    assert any("，" in n and "电话" in n for n in notes)


def test_quasi_identifier_classes_are_mostly_large():
    table = sample.generate("health_visits", ROWS, dirty=False)
    classes = collections.Counter(
        ((2026 - int(i[6:10])) // 10, int(i[16]) % 2, i[:2], d[:7])
        for i, d in zip(_col(table, "patient_resident_id"), _col(table, "visit_date"),
                        strict=True))
    tiny = sum(n for n in classes.values() if n < 5)
    assert tiny < 0.05 * ROWS
    assert collections.Counter(i[:2] for i in _col(table, "patient_resident_id"))["44"] > \
        0.75 * ROWS


def test_write_sample(tmp_path):
    storage = Storage(tmp_path)
    path = sample.write_sample(storage, "health_visits", "2026-11-01", 300)
    assert path == tmp_path / "inbox" / "health_visits" / "2026-11-01.csv"
    data = path.read_bytes()
    assert sample.write_sample(storage, "health_visits", "2026-11-01", 300) == path
    assert path.read_bytes() == data  # deterministic, so rewriting is harmless
    columns = sample.COLUMNS["health_visits"]
    # Nulls are written unquoted-empty, strings quoted: a reader can tell them apart.
    read = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types={c: pa.string() for c in columns}, strings_can_be_null=True,
        quoted_strings_can_be_null=False))
    assert read.equals(sample.generate("health_visits", 300))
    assert not list(tmp_path.glob("inbox/health_visits/*.tmp"))


def test_keys_do_not_depend_on_the_chunking():
    """One bijection of the row index for every chunk: the same keys however the rows are cut
    (each chunk drawing its own bijection repeated 60 visit ids in 1M rows)."""
    whole = sample.generate("health_visits", 2500, dirty=False).column("visit_id").to_pylist()
    cut = [v for c in sample.iter_generate("health_visits", 2500, chunk_rows=700, dirty=False)
           for v in c.column("visit_id").to_pylist()]
    assert cut == whole and len(set(cut)) == 2500
    org = lambda table: [u[8:16] for u in table.column("uscc").to_pylist()]  # noqa: E731 ("MA…")
    whole = org(sample.generate("market_enterprise", 2500, dirty=False))
    cut = [o for c in sample.iter_generate("market_enterprise", 2500, chunk_rows=700,
                                           dirty=False) for o in org(c)]
    assert cut[50:] == whole[50:]  # (the first rows are the fixed hospitals)
