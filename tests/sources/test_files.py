"""The file connector on real inputs: GBK and GB18030 CSV, BOM, .xlsx sheets, Parquet, JSON
Lines, globs, and paths that try to leave the source's folder."""

import dataclasses
import json

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from yishu.definitions import load_catalog
from yishu.settings import REPO_ROOT
from yishu.sources.collect import SourceUnavailable, collect

HEADER = ["uscc", "enterprise_name", "legal_rep_name", "legal_rep_resident_id",
          "enterprise_phone", "registered_address", "district", "industry",
          "registered_capital", "established_date"]
ROWS = [["91440300MA5FXXXX1A", "深圳市鹏城科技有限公司", "张伟", "440301199001011234",
         "0755-88886666", "深圳市福田区福华三路100号", "福田区", "信息技术", "500", "2015-03-02"],
        ["91440300MA5FYYYY2B", "深圳市前海喆瑭贸易有限公司", "李䶮", "440301198502022345",
         "", "深圳市南山区", "南山区", "批发零售", "1000", "2018-07-09"]]


def _source(location: str, **changes):
    source = load_catalog(REPO_ROOT / "catalog").sources["market_enterprise"]
    return dataclasses.replace(source, **{"location": location, "encoding": None, **changes})


def _csv_text() -> str:
    return "\n".join(",".join(r) for r in [HEADER, *ROWS]) + "\n"


def _collect(res, source):
    return collect(source, "2026-11-01", settings=res.settings, storage=res.storage)


def _names(result) -> list[str]:
    return pq.read_table(result.snapshot).column("enterprise_name").to_pylist()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encoding_is_detected(fresh_res, tmp_path, encoding):
    text = _csv_text()
    if encoding == "gbk":
        text = text.replace("李䶮", "李岩").replace("喆瑭", "哲唐")  # outside GBK
    path = tmp_path / "registry.csv"
    path.write_bytes(text.encode(encoding))
    result = _collect(fresh_res, _source(str(path)))
    assert result.problem is None, result.problem
    assert _names(result)[0] == "深圳市鹏城科技有限公司"
    assert pq.read_table(result.snapshot).column("uscc").to_pylist()[0] == "91440300MA5FXXXX1A"
    assert open(result.original, "rb").read() == path.read_bytes()  # kept as it arrived


def test_gb18030_four_byte_characters_survive(fresh_res, tmp_path):
    path = tmp_path / "registry.csv"
    path.write_bytes(_csv_text().encode("gb18030"))
    result = _collect(fresh_res, _source(str(path)))
    assert pq.read_table(result.snapshot).column("legal_rep_name").to_pylist()[1] == "李䶮"


def test_declared_encoding_wins_and_a_wrong_one_is_named(fresh_res, tmp_path):
    path = tmp_path / "registry.csv"
    path.write_bytes(_csv_text().encode("gb18030"))
    result = _collect(fresh_res, _source(str(path), encoding="utf-8"))
    assert result.snapshot is None and "not valid utf-8" in result.problem


def test_xlsx_named_sheet(fresh_res, tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["本表为企业登记信息"])
    sheet = book.create_sheet("企业")
    for row in [HEADER, *ROWS]:
        sheet.append(row)
    sheet["I2"] = 500  # a number cell reads as the text a person sees
    path = tmp_path / "registry.xlsx"
    book.save(path)
    missing = _collect(fresh_res, _source(str(path), format="xlsx", sheet="表1"))
    assert "no sheet '表1' (sheets: ['说明', '企业'])" in missing.problem
    result = _collect(fresh_res, _source(str(path), format="xlsx", sheet="企业"))
    assert result.problem is None, result.problem
    table = pq.read_table(result.snapshot)
    assert table.column("registered_capital").to_pylist() == ["500", "1000"]
    assert _names(result)[1] == "深圳市前海喆瑭贸易有限公司"


def test_parquet_and_json_lines(fresh_res, tmp_path):
    parquet = tmp_path / "registry.parquet"
    pq.write_table(pa.table({h: [r[i] for r in ROWS] for i, h in enumerate(HEADER)}), parquet)
    assert _names(_collect(fresh_res, _source(str(parquet), format="parquet")))[0] == \
        "深圳市鹏城科技有限公司"
    lines = tmp_path / "registry.jsonl"
    lines.write_text("\n".join(json.dumps(dict(zip(HEADER, r, strict=True)), ensure_ascii=False)
                               for r in ROWS), encoding="utf-8")
    result = _collect(fresh_res, _source(str(lines), format="jsonl"))
    assert result.rows == 2 and _names(result)[1] == "深圳市前海喆瑭贸易有限公司"


def test_glob_finds_the_partition_file(fresh_res, tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "registry_2026-11-01_v3.csv").write_text(_csv_text(), "utf-8")
    result = _collect(fresh_res, _source(str(tmp_path / "inbox" / "registry_{partition}_*.csv")))
    assert result.rows == 2
    (tmp_path / "inbox" / "registry_2026-11-01_v4.csv").write_text(_csv_text(), "utf-8")
    with pytest.raises(SourceUnavailable, match="matches 2 files"):
        _collect(fresh_res, _source(str(tmp_path / "inbox" / "registry_{partition}_*.csv")))


def test_paths_never_leave_the_source_folder(fresh_res, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    secret = tmp_path / "secret.csv"
    secret.write_text(_csv_text(), "utf-8")
    with pytest.raises(SourceUnavailable, match="outside the source's folder"):
        _collect(fresh_res, _source(str(inbox / "../secret.csv")))
    (inbox / "link.csv").symlink_to(secret)
    with pytest.raises(SourceUnavailable, match="outside the source's folder"):
        _collect(fresh_res, _source(str(inbox / "*.csv")))
    assert not list((fresh_res.settings.home / "raw").rglob("*.csv"))  # nothing was read


def test_json_lines_values_stay_as_written(tmp_path):
    """Dates and numbers are not re-inferred (2015-03-02 stays that text, 007 keeps zeros)."""
    from yishu.sources.readers import read_table

    path = tmp_path / "rows.jsonl"
    path.write_text('{"d": "2015-03-02", "n": "007", "x": null}\n'
                    '{"d": "2015-03-03 08:00:00", "n": "12", "x": "a"}\n', encoding="utf-8")
    table = read_table(path, "jsonl", where=str(path))
    assert table.to_pydict() == {"d": ["2015-03-02", "2015-03-03 08:00:00"],
                                 "n": ["007", "12"], "x": [None, "a"]}
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('{"n": 1.50, "b": true}\n{"n": "x", "b": false}\n', encoding="utf-8")
    assert read_table(mixed, "jsonl", where=str(mixed)).to_pydict() == {
        "n": ["1.5", "x"], "b": ["True", "False"]}


def test_csv_text_that_looks_like_null_stays_text(fresh_res, tmp_path):
    path = tmp_path / "registry.csv"
    rows = [r[:] for r in ROWS]
    rows[0][7], rows[1][7] = "NA", "null"  # industry codes that happen to read like nulls
    rows[0][4] = ""
    path.write_text("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n", encoding="utf-8")
    table = pq.read_table(_collect(fresh_res, _source(str(path))).snapshot)
    assert table.column("industry").to_pylist() == ["NA", "null"]
    assert table.column("enterprise_phone").to_pylist() == [None, None]
