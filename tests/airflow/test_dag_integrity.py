"""Every DAG imports from the dags folder, is owned, retried, tagged, and wired as designed."""

import pytest

from yishu.airflow.runner import load_dags


@pytest.fixture(scope="module")
def dags(res):
    return load_dags(res.settings)


def test_one_dag_per_source_and_product(dags, res):
    cat = res.catalog
    expected = {f"collect__{s}" for s in cat.sources} | {f"publish__{p}" for p in cat.products}
    assert set(dags) == expected


def test_owner_retries_tags(dags):
    for dag in dags.values():
        assert dag.tags and "yishu" in dag.tags, dag.dag_id
        for task in dag.tasks:
            assert task.owner == "data-bureau", (dag.dag_id, task.task_id)
            assert task.retries >= 2, (dag.dag_id, task.task_id)


def test_collect_emits_the_source_asset_and_products_are_scheduled_on_it(dags, res):
    cat = res.catalog
    for name in cat.sources:
        land = dags[f"collect__{name}"].get_task("land")
        assert [a.uri for a in land.outlets] == [f"yishu://source/{name}"]
        assert [t.task_id for t in dags[f"collect__{name}"].topological_sort()] == \
            ["collect", "validate", "land"]
    for name, product in cat.products.items():
        dag = dags[f"publish__{name}"]
        # every source it reads, all of them needed (AND): a join waits for each
        assert type(dag.timetable.asset_condition).__name__ == "AssetAll"
        assert [a.uri for a in dag.timetable.asset_condition.objects] == \
            [f"yishu://source/{name}" for name in product.source_names]
        assert [t.task_id for t in dag.topological_sort()] == \
            ["build", "plan_parts", "deidentify", "merge_parts", "check_risk", "publish"]
    joined = cat.products["enterprise_credit_profile"]
    assert joined.source_names == ("market_enterprise", "power_usage")


def test_dag_files_are_thin(res):
    for path in res.settings.dags_dir.glob("*.py"):
        text = path.read_text()
        assert len(text.splitlines()) <= 80
        assert "sqlalchemy" not in text and "requests" not in text


def test_partition_comes_from_conf_then_the_triggering_batch_then_the_date():
    import datetime as dt
    from types import SimpleNamespace

    from yishu.airflow.factory import partition_of
    from yishu.errors import UserInputError

    run = SimpleNamespace(conf={}, run_after=dt.datetime(2026, 11, 23))
    assert partition_of({"dag_run": run, "logical_date": None}) == "2026-11-23"
    event = SimpleNamespace(extra={"partition": "2026-10-31", "sha256": "x"})
    triggered = {"dag_run": run, "logical_date": None,
                 "triggering_asset_events": {"source__health_visits": [event]}}
    assert partition_of(triggered) == "2026-10-31"
    run.conf = {"partition": "2026-09-30"}
    assert partition_of(triggered) == "2026-09-30"
    run.conf = {"partition": "../../etc"}
    with pytest.raises(UserInputError, match="YYYY-MM-DD"):
        partition_of(triggered)


def test_a_joined_product_takes_the_newest_of_its_sources_latest_batches():
    """Triggered by both Assets, the run's partition is the newest among each source's latest
    batch; a source's older events never win over its own latest."""
    import datetime as dt
    from types import SimpleNamespace

    from yishu.airflow.factory import partition_of

    def event(partition):
        return SimpleNamespace(extra={"partition": partition, "sha256": "x"})

    run = SimpleNamespace(conf={}, run_after=dt.datetime(2026, 11, 23))
    triggered = {"dag_run": run, "logical_date": None, "triggering_asset_events": {
        "source__market_enterprise": [event("2026-11-20"), event("2026-11-21")],
        "source__power_usage": [event("2026-11-01")]}}
    assert partition_of(triggered) == "2026-11-21"
    triggered["triggering_asset_events"]["source__power_usage"] = [event("2026-11-30"),
                                                                    event("2026-11-02")]
    assert partition_of(triggered) == "2026-11-21"  # power's latest is 11-02
