"""The bad-input corpus (issue 12 item 5): malformed files and API answers never crash a
collect and never lose a byte. Each ends as a problem (the batch is quarantined with it) or as
`SourceUnavailable` (the task fails with it): one message naming the origin, and every byte
received is in the raw zone."""

import dataclasses
import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from yishu.definitions import load_catalog
from yishu.settings import REPO_ROOT
from yishu.sources.collect import SourceUnavailable, collect

HEADER = "time,T,P0,P,U,nRAIN,Td\n"
ROW = "2022/9/1 0:00,27.3,750.6,756.1,87,0,24.9\n"


def _xlsx(fill) -> bytes:
    book = openpyxl.Workbook()
    fill(book.active)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _formulas(sheet):
    sheet.append(HEADER.strip().split(","))
    sheet.append(["2022/9/1 0:00", "=1+1", "750.6", "756.1", "87", "0", "24.9"])


def _header_only(sheet):
    sheet.append(HEADER.strip().split(","))


def _parquet() -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.table({c: ["1"] for c in HEADER.strip().split(",")}), out)
    return out.getvalue()


# name -> (format, bytes, what the message must say)
CORPUS = {
    "wrong_field_count": ("csv", HEADER + ROW + "2022/9/1 1:00,1,2\n", "malformed CSV"),
    "extra_fields": ("csv", HEADER + ROW.strip() + ",x,y\n", "malformed CSV"),
    "unclosed_quote": ("csv", HEADER + '"2022/9/1 0:00,27.3,750.6,756.1,87,0,24.9\n',
                       "malformed CSV"),
    "mixed_encodings": ("csv", (HEADER + "二〇二二,1,2,3,4,0,5\n").encode("utf-8")
                        + "二〇二二,1,2,3,4,0,5\n".encode("gb18030"), "encoding"),
    "bom_in_the_middle": ("csv", HEADER + ROW + "\ufeff" + ROW, "U+FEFF"),
    "empty_file": ("csv", b"", "empty"),
    "only_a_bom": ("csv", "\ufeff".encode(), "empty"),
    "header_only": ("csv", HEADER, "no rows"),
    "huge_field": ("csv", HEADER + "2022/9/1 0:00," + "9" * (3 << 20) + ",1,2,3,4,5\n",
                   "field"),
    "duplicate_header": ("csv", "time,T,T,P0,P,U,nRAIN,Td\n2022/9/1 0:00,1,1,2,3,4,0,5\n",
                         "more than once"),
    "missing_columns": ("csv", "time,T\n2022/9/1 0:00,27.3\n", "missing column(s)"),
    "renamed_column": ("csv", HEADER.replace(",Td", ",dew_point") + ROW,
                       "missing column(s) ['Td'] declared in"),
    "cut_mid_row": ("csv", (HEADER + ROW + "二〇二二,1,2,3,4,0,5\n").encode("utf-8")[:-9],
                    "malformed CSV"),
    "cut_mid_character": ("csv", (HEADER + ROW + "2022/9/1 1:00,1,2,3,4,0,二〇").encode()[:-1],
                          "cut short"),
    "nul_byte": ("csv", HEADER + "2022/9/1 0:00,2\x007.3,750.6,756.1,87,0,24.9\n", "NUL"),
    "binary_garbage": ("csv", bytes(range(256)) * 8, "encoding"),
    "excel_formulas": ("xlsx", _xlsx(_formulas), "formula"),
    "excel_header_only": ("xlsx", _xlsx(_header_only), "no rows"),
    "xlsx_not_a_zip": ("xlsx", b"PK\x03\x04 not really a workbook", "not an .xlsx"),
    "xlsx_zip_without_workbook": ("xlsx", None, "not an .xlsx"),
    "parquet_truncated": ("parquet", _parquet()[:-20], "not a readable parquet"),
    "jsonl_truncated": ("jsonl", b'{"time": "2022/9/1 0:00", "T": "1"}\n{"time": "2022/9',
                        "line 2 is not JSON"),
    "jsonl_not_objects": ("jsonl", b"[1, 2]\n", "not a JSON object"),
}


def _zip_without_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("hello.txt", "hi")
    return out.getvalue()


@pytest.fixture
def weather(tmp_path):
    return load_catalog(REPO_ROOT / "catalog").sources["futian_weather"], tmp_path


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_bad_file_is_a_reason_and_every_byte_is_kept(fresh_res, weather, case):
    from yishu.pipeline import batches

    fmt, data, expected = CORPUS[case]
    data = _zip_without_workbook() if data is None else data
    data = data.encode("utf-8") if isinstance(data, str) else data
    source, folder = weather
    path = folder / f"{case}.{fmt}"
    path.write_bytes(data)
    source = dataclasses.replace(source, location=str(path), format=fmt, encoding=None)

    result = collect(source, "2026-11-01", settings=fresh_res.settings,
                     storage=fresh_res.storage)
    assert Path(result.original).read_bytes() == data  # nothing lost
    if result.problem is None:  # parsed: validation must stop it, with a reason
        batch = batches.validate_and_land(fresh_res, result)
        assert batch.status == "quarantined", case
        problem = batch.reason
    else:
        problem = result.problem
    assert expected.lower() in problem.lower(), problem
    assert "Traceback" not in problem and len(problem.splitlines()) == 1


@pytest.mark.parametrize("where", ["missing", "directory"])
def test_no_file_is_one_clear_reason(fresh_res, weather, where):
    source, folder = weather
    path = folder / "inbox"
    if where == "directory":
        path.mkdir()
    source = dataclasses.replace(source, location=str(path))
    with pytest.raises(SourceUnavailable) as caught:
        collect(source, "2026-11-01", settings=fresh_res.settings, storage=fresh_res.storage)
    assert str(path) in str(caught.value) and len(str(caught.value).splitlines()) == 1


def test_json_body_cut_short_is_kept_and_named(fresh_res, tmp_path):
    """An API answer cut mid-body: the body is in the raw zone, the batch has a reason."""
    from yishu.sources import http

    lines = [json.dumps({"url": "http://api/x", "status": 200, "body": '{"data": [{"a"'})]
    stored = tmp_path / "pages.jsonl"
    stored.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(http.Unreadable, match="response 1 is not JSON"):
        http.read_pages(stored, records="data", where="http://api/x")
