from collections import Counter

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from yishu import samples as sample
from yishu.deid import operators
from yishu.deid.engine import ColumnAction, Plan, deidentify_stream, shared_scanner

SECRET = b"s" * 32
ROWS = 300


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return sample.generate("health_visits", ROWS, seed=3)


@pytest.fixture(scope="module")
def files(table, tmp_path_factory):
    base = tmp_path_factory.mktemp("engine")
    pq.write_table(table, base / "visits.parquet")
    pacsv.write_csv(table, base / "visits.csv",
                    write_options=pacsv.WriteOptions(quoting_style="needed"))
    return base


def plan() -> Plan:
    return Plan({
        "visit_id": ColumnAction("keep"),
        "patient_name": ColumnAction("pseudonymize"),
        "patient_resident_id": ColumnAction("pseudonymize"),
        "patient_phone": ColumnAction("mask"),
        "visit_date": ColumnAction("generalize", "month"),
        "doctor_note": ColumnAction("redact"),
    }, secret=SECRET)  # the other columns are not listed: dropped


def test_plan_applied_in_order(table, files, tmp_path):
    stats = deidentify_stream(files / "visits.parquet", tmp_path / "out.parquet", plan(),
                              workers=1, batch_rows=64)
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.column_names == ["visit_id", "patient_name", "patient_resident_id",
                                "patient_phone", "visit_date", "doctor_note"]
    assert stats.rows == out.num_rows == ROWS
    assert out["visit_id"].to_pylist() == table["visit_id"].to_pylist()  # order kept
    ids = table["patient_resident_id"].combine_chunks()
    assert out["patient_resident_id"].to_pylist() == operators.pseudonymize(
        ids, SECRET).to_pylist()
    assert out["patient_phone"].to_pylist() == operators.mask(
        table["patient_phone"].combine_chunks()).to_pylist()
    assert out["visit_date"].to_pylist() == operators.to_month(
        table["visit_date"].combine_chunks()).to_pylist()
    notes, counts = shared_scanner().redact_many(table["doctor_note"].to_pylist())
    assert out["doctor_note"].to_pylist() == notes
    assert stats.entities == counts and counts["CN_RESIDENT_ID"] > 0


def test_workers_give_identical_output(files, tmp_path):
    inline = deidentify_stream(files / "visits.parquet", tmp_path / "one.parquet", plan(),
                               workers=1, batch_rows=50)
    pooled = deidentify_stream(files / "visits.parquet", tmp_path / "two.parquet", plan(),
                               workers=2, batch_rows=50)
    assert pq.read_table(tmp_path / "one.parquet").equals(pq.read_table(tmp_path / "two.parquet"))
    assert inline.entities == pooled.entities
    assert pooled.peak_rss_mb > 0


def test_csv_in_and_out(files, tmp_path):
    deidentify_stream(files / "visits.parquet", tmp_path / "ref.parquet", plan(), workers=1)
    deidentify_stream(files / "visits.csv", tmp_path / "out.csv", plan(), workers=1,
                      batch_rows=100)
    strings = dict.fromkeys(plan().columns, pa.string())
    convert = pacsv.ConvertOptions(column_types=strings, null_values=[""],
                                   strings_can_be_null=True, quoted_strings_can_be_null=False)
    out = pacsv.read_csv(tmp_path / "out.csv", convert_options=convert)
    assert out.to_pylist() == pq.read_table(tmp_path / "ref.parquet").to_pylist()
    assert not (tmp_path / "out.csv.tmp").exists()


def test_excel_input(table, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["visit_id", "patient_phone", "visit_cost"])
    for row in table.slice(0, 5).to_pylist():
        sheet.append([row["visit_id"], int(row["patient_phone"]), float(row["visit_cost"])])
    book.save(tmp_path / "visits.xlsx")
    keep_plan = Plan({"visit_id": ColumnAction("keep"), "patient_phone": ColumnAction("mask")},
                     unlisted="keep")
    deidentify_stream(tmp_path / "visits.xlsx", tmp_path / "out.parquet", keep_plan, workers=1)
    out = pq.read_table(tmp_path / "out.parquet")
    assert out["patient_phone"].to_pylist()[0] == table["patient_phone"][0].as_py()[:3] + "****" \
        + table["patient_phone"][0].as_py()[-4:]
    assert out.schema.field("visit_cost").type == pa.string()



def test_redaction_counts_every_row_of_repeated_texts(tmp_path):
    note = "患者王秀英，电话13812345678。"
    pq.write_table(pa.table({"note": [note, note, None, note, "无"]}), tmp_path / "in.parquet")
    stats = deidentify_stream(tmp_path / "in.parquet", tmp_path / "out.parquet",
                              Plan({"note": ColumnAction("redact")}), workers=1)
    out = pq.read_table(tmp_path / "out.parquet")["note"].to_pylist()
    assert out == ["患者<人名>，电话<电话>。"] * 2 + [None, "患者<人名>，电话<电话>。", "无"]
    assert stats.entities == Counter({"PERSON": 3, "CN_PHONE": 3})


def test_bad_plans_are_refused(files, tmp_path):
    with pytest.raises(ValueError, match="unknown policy"):
        ColumnAction("shuffle")
    with pytest.raises(ValueError, match="generalize needs"):
        ColumnAction("generalize", "decade")
    with pytest.raises(ValueError, match="secret"):
        Plan({"patient_name": ColumnAction("pseudonymize")})
    with pytest.raises(ValueError, match="lacks"):
        deidentify_stream(files / "visits.parquet", tmp_path / "x.parquet",
                          Plan({"no_such_column": ColumnAction("keep")}), workers=1)
    assert not (tmp_path / "x.parquet").exists()
