import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from yishu import samples as sample
from yishu.deid import auto
from yishu.deid.engine import ColumnAction


@pytest.fixture(scope="module")
def table():
    return sample.generate("health_visits", 400, seed=5)


@pytest.fixture(scope="module")
def classes(table):
    return auto.classify(table)


def test_identifier_columns_are_structured(classes):
    assert classes["patient_resident_id"].kind == "structured"
    assert classes["patient_resident_id"].entity == "CN_RESIDENT_ID"
    assert classes["patient_phone"].entity == "CN_PHONE"
    assert classes["patient_name"].entity == "PERSON"  # bare names, no context word
    assert classes["hospital_uscc"].entity == "CN_USCC"
    # planted bad check digits keep a real county and birth date: mistyped IDs, still IDs
    assert classes["patient_resident_id"].share == 1.0


def test_notes_are_free_text_and_codes_none(classes):
    assert classes["doctor_note"].kind == "free_text"
    assert 0.5 < classes["doctor_note"].share < 1.0  # some notes carry no PII
    for name in ("department", "visit_id", "visit_date", "visit_cost", "diagnosis_icd10"):
        assert classes[name].kind == "none", name


def test_auto_plan_operators(classes):
    plan = auto.auto_plan(classes, b"z" * 32)
    assert plan.columns["patient_resident_id"] == ColumnAction("pseudonymize")
    assert plan.columns["patient_name"] == ColumnAction("pseudonymize")
    assert plan.columns["patient_phone"] == ColumnAction("mask")
    assert plan.columns["hospital_uscc"] == ColumnAction("keep")
    assert plan.columns["doctor_note"] == ColumnAction("redact")
    assert plan.columns["department"] == ColumnAction("keep")
    assert plan.secret == b"z" * 32


def test_address_and_unknown_entities():
    classes = {"addr": auto.ColumnClass("structured", "CN_ADDRESS", 0.9),
               "odd": auto.ColumnClass("structured", "SOMETHING_NEW", 0.9)}
    plan = auto.auto_plan(classes, b"z" * 32)
    assert plan.columns["addr"] == ColumnAction("generalize", "district")
    assert plan.columns["odd"] == ColumnAction("mask")  # never published as it is


def test_classify_accepts_pandas(table):
    classes = auto.classify(table.select(["patient_phone", "department"]).to_pandas())
    assert classes["patient_phone"].entity == "CN_PHONE"
    assert classes["department"].kind == "none"


def test_scan_file_masks_its_samples(table, tmp_path):
    path = tmp_path / "visits.csv"
    pacsv.write_csv(table, path)
    findings = auto.scan_file(path, sample_rows=100)
    phone = findings["patient_phone"]
    assert phone["kind"] == "structured" and phone["scanned"] == 100
    assert phone["entities"]["CN_PHONE"] >= 95
    values = set(table["patient_phone"].to_pylist())
    assert phone["samples"] and not any(s.split(": ")[1] in values for s in phone["samples"])
    assert findings["doctor_note"]["kind"] == "free_text"
    assert findings["department"] == {"kind": "none", "entity": None, "share": 0.0,
                                      "entities": {}, "samples": [], "scanned": 100}


class _CountingScanner:
    """The engine's scanner, counting its calls: classification must batch a column."""

    def __init__(self):
        from yishu.deid.engine import shared_scanner

        self.inner = shared_scanner()
        self.calls = []

    def find(self, text):
        self.calls.append(1)
        return self.inner.find(text)

    def find_many(self, texts):
        self.calls.append(len(texts))
        return self.inner.find_many(texts)


def test_classification_scans_a_column_in_batches():
    # one call for the distinct values and at most one for the short ones tried as names (the
    # model finds most bare names itself): batches, not one text per onnxruntime call
    values = ["李桂英于2026-04-02来电反映噪音", "由袁鹏接待并答复", "王秀英", "张伟", "王秀英"] * 50
    scanner = _CountingScanner()
    profile = auto._profile(values, scanner)
    assert scanner.calls[0] == 4 and len(scanner.calls) <= 2
    assert profile.whole["PERSON"] == 150 and profile.with_entity == 250


def test_free_text_verdict_without_the_name_model_is_the_full_verdict(monkeypatch):
    # long texts the patterns already make free text: the model is not run for the verdict
    # (the engine tags every row anyway), and the verdict is the one the model would give
    from yishu.deid.engine import shared_scanner
    from yishu.deid.recognizers import cn_lac_person_recognizer

    values = [f"市民反映第{i}号楼噪音扰民，联系电话1381234{i:04d}，请尽快处理。" for i in range(40)]
    values += [f"李桂英于2026-04-02来电，反映{i}号路灯不亮，已转交街道办处理" for i in range(60)]
    full = auto._classify(auto._profile(values, shared_scanner()))

    def no_model(texts):
        raise AssertionError("the name model ran for a column the patterns decide")

    monkeypatch.setattr(cn_lac_person_recognizer, "tag_many", no_model)
    cls = auto.classify(pa.table({"note": values}))["note"]
    assert cls.kind == full.kind == "free_text"


def test_short_values_are_still_classified_with_the_name_model():
    # a name column: the patterns alone find nothing whole, the model and the probe must run
    values = ["王秀英", "张伟", "李桂英", "袁鹏", "刘洋"] * 20
    assert auto.classify(pa.table({"who": values}))["who"].entity == "PERSON"


def test_each_column_is_scanned_once(monkeypatch):
    # short values (phones, names) go straight to the scan with the model; long free text that
    # the patterns make free text only to the one without it: those pay for one scan
    calls = []
    profile = auto._profile

    def counting(values, scanner, models=True):
        calls.append(models)
        return profile(values, scanner, models)

    monkeypatch.setattr(auto, "_profile", counting)
    table = pa.table({
        "phone": [f"1381234{i:04d}" for i in range(50)],
        "who": ["王秀英", "张伟", "李桂英", "袁鹏", "刘洋"] * 10,
        "note": [f"市民来电反映{i}号路灯不亮，电话1391234{i:04d}，已转交" for i in range(50)],
    })
    classes = auto.classify(table)
    assert [c.kind for c in classes.values()] == ["structured", "structured", "free_text"]
    assert calls == [True, True, False]
