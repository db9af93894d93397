"""The operator registry: an operator declared in one place is usable everywhere."""

import dataclasses
import shutil
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tests import shape
from tests.conftest import REPO
from yishu import samples as sample
from yishu.definitions import CatalogError, ProductColumn, load_catalog
from yishu.deid import policy, registry
from yishu.deid.engine import ColumnAction, Plan, deidentify_stream
from yishu.deid.registry import Operator


def initials(array: pa.Array, ctx: registry.Context) -> tuple[pa.Array, Counter]:
    """王秀英 -> 王**: the first character, the rest starred."""
    s = pc.utf8_trim_whitespace(array.cast(pa.string()))
    stars = pc.binary_repeat("*", pc.max_element_wise(pc.subtract(pc.utf8_length(s), 1), 0))
    return pc.binary_join_element_wise(pc.utf8_slice_codeunits(s, 0, 1), stars, ""), Counter()


@pytest.fixture
def with_initials():
    # the one place the made-up operator is declared
    registry.register(Operator("initials", initials, level_after="L2"))
    yield
    registry.unregister("initials")  # other tests never see it


class FakeKeys:
    """Stands in for yishu.keys.Keys and records what was asked for."""

    def __init__(self):
        self.asked: list[str] = []

    def pseudonym_secret(self, zone: str) -> bytes:
        self.asked.append(f"secret:{zone}")
        return b"p" * 32

    def encryption_key(self) -> bytes:
        self.asked.append("key")
        return bytes(64)


@pytest.fixture(scope="module")
def cat():
    return load_catalog(REPO / "catalog")


@pytest.fixture(scope="module")
def visits() -> pa.Table:
    return sample.generate("health_visits", 60, seed=7)


def test_a_registered_operator_runs_in_a_streaming_plan(with_initials, visits, tmp_path):
    pq.write_table(visits, tmp_path / "in.parquet")
    plan = Plan({"patient_name": ColumnAction("initials"), "visit_id": ColumnAction("keep")})
    deidentify_stream(tmp_path / "in.parquet", tmp_path / "out.parquet", plan, workers=1)
    out = pq.read_table(tmp_path / "out.parquet")
    names = visits["patient_name"].to_pylist()
    assert out["patient_name"].to_pylist() == [
        None if n is None else n.strip()[0] + "*" * (len(n.strip()) - 1) for n in names]
    assert str(ColumnAction("initials")) == "initials"


def test_a_registered_operator_in_a_product_policy(with_initials, cat, visits):
    base = cat.products["insurance_visits"]
    product = dataclasses.replace(base, columns={
        "patient_initials": ProductColumn("patient_initials", "patient_name", "initials"),
        "department": base.columns["department"],
    })
    keys = FakeKeys()
    out, report = policy.apply_policy(cat, product, visits, "2026-11-01", keys)
    assert out["patient_initials"][0].as_py() == initials(visits["patient_name"].slice(0, 1),
                                                          registry.Context())[0][0].as_py()
    assert report["patient_initials"]["operator"] == "initials"
    assert report["patient_initials"]["level_before"] == "L4"
    assert report["patient_initials"]["level_after"] == "L2"
    assert policy.product_level(report) == "L2"
    assert keys.asked == []  # no operator of this product needs a key: none is read


def test_output_level_reads_the_registry(with_initials, cat):
    element = cat.element_of("health_visits", "patient_name")
    low = dataclasses.replace(element, security_level="L1")
    column = ProductColumn("x", "patient_name", "initials")
    assert policy.output_level(element, column) == "L2"
    assert policy.output_level(low, column) == "L1"  # capped by the element's own level
    assert policy.output_level(element, dataclasses.replace(column, policy="keep")) == "L4"


def test_a_catalog_may_name_a_registered_operator(with_initials, tmp_path):
    shutil.copytree(REPO / "catalog", tmp_path / "catalog")
    path = tmp_path / "catalog" / "products" / "insurance_visits.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "columns:\n", "columns:\n  patient_initials: {from: patient_name, policy: initials}\n"),
        encoding="utf-8")
    product = load_catalog(tmp_path / "catalog").products["insurance_visits"]
    assert product.columns["patient_initials"].policy == "initials"
    registry.unregister("initials")  # (the fixture would too) the same catalog is now refused
    with pytest.raises(CatalogError, match="'initials' is not one of"):
        load_catalog(tmp_path / "catalog")


def test_unregistered_after_the_fixture():
    assert "initials" not in registry.policy_names()
    with pytest.raises(ValueError, match="unknown policy"):
        ColumnAction("initials")


def test_register_refuses_what_would_go_wrong_later():
    with pytest.raises(ValueError, match="already registered"):
        registry.register(Operator("mask", initials))
    with pytest.raises(ValueError, match="unknown needs"):
        registry.register(Operator("peek", initials, needs=frozenset({"password"})))
    with pytest.raises(ValueError, match="L1..L4"):
        registry.register(Operator("peek", initials, level_after="low"))
    assert "peek" not in registry.OPERATORS
    assert registry.get("mask").apply is not None and registry.get("drop").apply is None


def test_actions_and_plans_follow_the_declarations():
    with pytest.raises(ValueError, match="takes no to="):
        ColumnAction("mask", "month")
    assert ColumnAction("generalize", "district").to == "district"
    with pytest.raises(ValueError, match="encryption_key= and zone="):
        Plan({"a": ColumnAction("encrypt")})
    assert Plan({"a": ColumnAction("redact")}).has_free_text
    assert not Plan({"a": ColumnAction("mask")}, unlisted="keep").has_free_text
    with pytest.raises(ValueError, match="cannot produce a column"):
        registry.apply(pa.array(["x"]), "drop", registry.Context())


def test_operators_do_not_import_the_registry():
    """The registry adapts the operators; they know nothing of it (no cycle through deid)."""
    assert "yishu.deid.registry" not in shape.imports_of("yishu.deid.operators")
