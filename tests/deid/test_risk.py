import pyarrow as pa
import pyarrow.compute as pc
import pytest

from yishu.deid.risk import k_anonymize


def _table(classes):
    rows = [(age, sex, f"dx{i % 3}") for (age, sex), n in classes.items() for i in range(n)]
    return pa.table({"age": [r[0] for r in rows], "sex": [r[1] for r in rows],
                     "dx": [r[2] for r in rows]})


def test_small_classes_are_suppressed_and_k_reported():
    table = _table({("30-39", "男"): 6, ("40-49", "女"): 5, ("50-59", "男"): 2})
    kept, result = k_anonymize(table, ["age", "sex"], k=5, max_suppression=0.2)
    assert kept.num_rows == 11 and result.rows_suppressed == 2
    assert result.k_achieved == 5 and result.passed
    assert result.smallest_classes[0] == {"age": "50-59", "sex": "男", "rows": 2}


def test_too_much_suppression_fails_with_a_reason():
    table = _table({("30-39", "男"): 6, ("40-49", "女"): 1, ("50-59", "男"): 2})
    _, result = k_anonymize(table, ["age", "sex"], k=5, max_suppression=0.1)
    assert not result.passed and "suppress 3 of 9" in result.reason


def test_l_diversity_on_a_sensitive_attribute():
    table = pa.table({"age": ["30-39"] * 5, "dx": ["J45"] * 5})
    _, result = k_anonymize(table, ["age"], k=5, max_suppression=0, sensitive="dx",
                            l_required=2)
    assert result.l_achieved == 1 and not result.passed


def test_no_quasi_identifiers_passes_through():
    table = _table({("30-39", "男"): 1})
    kept, result = k_anonymize(table, [], k=5, max_suppression=0)
    assert kept.num_rows == 1 and result.k_achieved is None and result.passed


def test_a_class_of_exactly_k_minus_one_is_suppressed_and_k_kept():
    """k=5: a class of 4 goes, a class of exactly 5 stays (an off-by-one either way fails)."""
    table = _table({("30-39", "男"): 5, ("40-49", "女"): 4, ("50-59", "男"): 7})
    kept, result = k_anonymize(table, ["age", "sex"], k=5, max_suppression=0.5)
    assert result.rows_suppressed == 4 and kept.num_rows == 12
    assert result.k_achieved == 5 and result.passed
    pairs = zip(kept.column("age").to_pylist(), kept.column("sex").to_pylist(), strict=True)
    assert set(pairs) == {("30-39", "男"), ("50-59", "男")}


def test_suppression_exactly_at_the_zone_maximum_passes():
    table = _table({("30-39", "男"): 9, ("40-49", "女"): 1})
    _, result = k_anonymize(table, ["age", "sex"], k=5, max_suppression=0.1)
    assert result.rows_suppressed == 1 and result.passed  # 1 of 10 = 10%: allowed


def test_k_counts_people_not_rows():
    """A patient with five visits alone in a class is one person: k=5 by rows, 1 by people."""
    table = pa.table({"age": ["30-39"] * 5 + ["40-49"] * 10,
                      "patient": ["p1"] * 5 + [f"q{i}" for i in range(10)]})
    _, by_rows = k_anonymize(table, ["age"], k=5, max_suppression=0.5)
    assert by_rows.rows_suppressed == 0
    kept, by_people = k_anonymize(table, ["age"], k=5, max_suppression=0.5, subject="patient")
    assert by_people.rows_suppressed == 5 and set(kept.column("age").to_pylist()) == {"40-49"}
    assert by_people.k_achieved == 10 and by_people.counted == "patient"


def test_l_diversity_ignores_missing_values():
    """Four missing diagnoses beside one J45 disclose J45: l is 1, not 2."""
    table = pa.table({"age": ["30-39"] * 5, "dx": ["J45", None, None, None, None]})
    _, result = k_anonymize(table, ["age"], k=5, max_suppression=0, sensitive="dx",
                            l_required=2)
    assert result.l_achieved == 1 and not result.passed and "l-diversity" in result.reason


def test_aggregate_cells_count_subjects_and_dominance_suppresses():
    from yishu.deid.aggregate import aggregate

    table = pa.table({"district": ["南山区"] * 6 + ["福田区"] * 6 + ["罗湖区"] * 6,
                      "patient": ["a"] * 6 + list("bcdefg") + list("hijklm"),
                      "cost": [10.0] * 12 + [1000.0] + [10.0] * 5})
    spec = {"group_by": ["district"], "min_cell": 5,
            "measures": {"visits": {"op": "count"},
                         "top": {"op": "max", "column": "cost"}}}
    by_rows, _ = aggregate(table, spec)
    assert by_rows.num_rows == 3
    by_people, report = aggregate(table, spec, "patient")
    assert "南山区" not in by_people.column("district").to_pylist()  # one patient, six visits
    assert report["cells_suppressed"] == 1 and report["counted"] == "patient"
    dominated, report = aggregate(table, {**spec, "dominance": 0.5}, "patient")
    assert dominated.column("district").to_pylist() == ["福田区"]  # 罗湖区: 1000 of 1050
    assert report["cells_dominated"] == 1 and report["cells_suppressed"] == 2


def _by_hand(rows: list[dict], qis: list[str], k: int, subject: str, sensitive: str):
    """The check counted row by row in Python: each class's distinct subjects (a missing one is
    a subject), its first row, and the distinct present sensitive values of the rows kept."""
    classes: dict[tuple, dict] = {}
    for i, row in enumerate(rows):
        key = tuple("<null>" if row[q] is None else str(row[q]) for q in qis)
        cls = classes.setdefault(key, {"first": i, "subjects": set(), "rows": []})
        cls["subjects"].add(row[subject])
        cls["rows"].append(i)
    keep = [False] * len(rows)
    for cls in classes.values():
        for i in cls["rows"]:
            keep[i] = len(cls["subjects"]) >= k
    kept = [c for c in classes.values() if len(c["subjects"]) >= k]
    smallest = sorted(classes.items(), key=lambda kv: (len(kv[1]["subjects"]), kv[1]["first"]))
    l_values = [len({rows[i][sensitive] for i in c["rows"]} - {None}) for c in kept]
    return (keep, min((len(c["subjects"]) for c in kept), default=0),
            [{**dict(zip(qis, key, strict=True)), "rows": len(c["subjects"])}
             for key, c in smallest[:5]], min(l_values, default=0))


@pytest.mark.parametrize("encoded", [False, True])
def test_classes_counted_on_codes_are_the_classes_counted_by_hand(encoded):
    import random

    rnd = random.Random(5)
    rows = [{"age": rnd.choice([None, 20, 30, 40, 50]), "sex": rnd.choice([None, "F", "M"]),
             "district": rnd.choice(["福田", "南山", "罗湖", "宝安", "龙岗", "盐田"]),
             "patient": rnd.choice([None, *(f"p{n}" for n in range(400))]),
             "dx": rnd.choice([None, "I10", "E11", "J06", "K29"])} for _ in range(3000)]
    table = pa.Table.from_pylist(rows)
    table = pa.Table.from_batches(table.to_batches(max_chunksize=700))  # several chunks
    if encoded:  # as product_risk reads text columns from Parquet
        table = pa.table({n: pc.dictionary_encode(c) if pa.types.is_string(c.type) else c
                          for n, c in zip(table.column_names, table.columns, strict=True)})
    qis = ["age", "sex", "district"]
    kept, result = k_anonymize(table, qis, k=28, max_suppression=1.0, sensitive="dx",
                               l_required=2, subject="patient")
    keep, k_achieved, smallest, l_achieved = _by_hand(rows, qis, 28, "patient", "dx")
    assert 0 < result.rows_suppressed < len(rows)  # some classes are too small, others not
    assert kept.num_rows == sum(keep) and result.rows_suppressed == len(rows) - sum(keep)
    assert kept.column("patient").to_pylist() == [r["patient"] for r, k in zip(
        rows, keep, strict=True) if k]
    assert (result.k_achieved, result.l_achieved) == (k_achieved, l_achieved)
    assert result.smallest_classes == smallest


def test_classes_of_one_size_are_listed_in_the_order_of_their_first_rows():
    table = pa.table({"district": ["盐田", "福田", "盐田", "盐田", "福田", "盐田"],
                      "sex": ["女", "男", "男", "女", "男", "男"]})
    _, result = k_anonymize(table, ["district", "sex"], k=3, max_suppression=1.0)
    assert [(c["district"], c["sex"]) for c in result.smallest_classes] == [
        ("盐田", "女"), ("福田", "男"), ("盐田", "男")]
