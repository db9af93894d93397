"""Two runs of one product and partition at the same time: each works in its own folder and
publishes what it computed; one number per version; the database and audit log stay whole."""

import dataclasses
import threading
from pathlib import Path

import pytest

from yishu.access import integrity
from yishu.db.queries import published_versions
from yishu.pipeline import products as stages
from yishu.pipeline import publication
from yishu.pipeline.voucher import file_sha256

PRODUCT = "enterprise_statistics"


def _with_min_cell(res, n):
    cat = res.catalog
    product = cat.products[PRODUCT]
    changed = dataclasses.replace(product, aggregate={**product.aggregate, "min_cell": n})
    return res.with_catalog(dataclasses.replace(cat, products={**cat.products,
                                                               PRODUCT: changed}))


def _ready(res, partition):
    ref = stages.build(res, PRODUCT, partition)
    return stages.check_risk(res, stages.deidentify(res, ref))


def _folder(res, version) -> Path:
    return Path(next(v.path for v in published_versions(res.db)
                     if v.product == PRODUCT and v.version == version))


def test_interleaved_runs_with_different_policies_publish_their_own_data(
        enterprises, enterprise_partition):
    # stage by stage: a builds, b builds, a de-identifies, b de-identifies, ...
    a_res, b_res = _with_min_cell(enterprises, 6), _with_min_cell(enterprises, 9)
    a = stages.build(a_res, PRODUCT, enterprise_partition)
    b = stages.build(b_res, PRODUCT, enterprise_partition)
    a, b = stages.deidentify(a_res, a), stages.deidentify(b_res, b)
    assert Path(a.deidentified).parent != Path(b.deidentified).parent  # a work folder each
    a, b = stages.check_risk(a_res, a), stages.check_risk(b_res, b)
    a_data, b_data = file_sha256(Path(a.final)), file_sha256(Path(b.final))
    assert a_data != b_data  # the stricter policy suppresses more cells
    b, a = stages.publish(b_res, b), stages.publish(a_res, a)
    assert not a.unchanged and not b.unchanged and a.version == b.version + 1
    assert file_sha256(_folder(enterprises, a.version) / "data.parquet") == a_data
    assert file_sha256(_folder(enterprises, b.version) / "data.parquet") == b_data
    assert integrity.verify(enterprises) == []


def test_interleaved_runs_with_the_same_inputs_publish_once(enterprises, enterprise_partition):
    res = _with_min_cell(enterprises, 7)
    a = stages.build(res, PRODUCT, enterprise_partition)
    b = stages.build(res, PRODUCT, enterprise_partition)
    a, b = stages.deidentify(res, a), stages.deidentify(res, b)
    a, b = stages.check_risk(res, a), stages.check_risk(res, b)
    a, b = stages.publish(res, a), stages.publish(res, b)
    assert not a.unchanged and b.unchanged and a.version == b.version
    assert integrity.verify(enterprises) == []


@pytest.mark.parametrize("same_inputs", [False, True])
def test_a_run_that_publishes_while_another_stages(enterprises, enterprise_partition,
                                                   monkeypatch, same_inputs):
    """b runs its whole publish while a sits between writing its files and committing: the
    moment two runs used to compute the same number and write into the same folder."""
    a_res = _with_min_cell(enterprises, 10 if same_inputs else 11)
    b_res = a_res if same_inputs else _with_min_cell(enterprises, 12)
    a, b = _ready(a_res, enterprise_partition), _ready(b_res, enterprise_partition)
    flush, results = publication.flush, {}

    def flush_then_b(folder):
        flush(folder)
        if not results:
            results["b"] = None  # b's own flush must not start b again
            results["b"] = stages.publish(b_res, b)

    monkeypatch.setattr(publication, "flush", flush_then_b)
    results["a"] = stages.publish(a_res, a)
    a, b = results["a"], results["b"]
    assert not b.unchanged
    if same_inputs:
        assert a.unchanged and a.version == b.version
    else:
        assert not a.unchanged and a.version == b.version - 1  # a reserved its number first
        assert file_sha256(_folder(enterprises, a.version) / "data.parquet") != \
            file_sha256(_folder(enterprises, b.version) / "data.parquet")
    assert integrity.verify(enterprises) == []


def test_runs_in_threads_get_distinct_versions(enterprises, enterprise_partition):
    variants = [_with_min_cell(enterprises, n) for n in (13, 14, 15)]
    refs = [_ready(r, enterprise_partition) for r in variants]
    results, errors = [], []

    def publish(r, ref):
        try:
            results.append(stages.publish(r, ref))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=pair) for pair in zip(variants, refs,
                                                                           strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({r.version for r in results}) == 3 and not any(r.unchanged for r in results)
    assert integrity.verify(enterprises) == []
