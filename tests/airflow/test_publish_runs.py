"""Product DAGs run one at a time; each run still gets its own work folder (see
tests/pipeline/test_concurrent_runs.py for runs that overlap anyway)."""

from yishu.airflow.runner import load_dags


def test_product_dags_allow_one_active_run(res):
    dags = load_dags(res.settings)
    for name in res.catalog.products:
        assert dags[f"publish__{name}"].max_active_runs == 1, name
    assert all(d.max_active_runs != 1 for d in dags.values() if d.dag_id.startswith("collect"))


def test_a_run_id_becomes_a_safe_folder_name_of_its_own():
    from yishu.pipeline.products import new_run_id

    label = "manual__2026-11-01T00:00:00+00:00"
    first, second = new_run_id(label), new_run_id(label)
    assert first != second and first.startswith("manual__2026-11-01T00-00-00-00-00.")
    assert "/" not in new_run_id("../../etc") and new_run_id(None)


def test_a_blocked_product_fails_its_publish_task_without_retries(res):
    """AirflowFailException fails the task at once whatever its `retries` (a skip would leave
    the run green); the DAG's default of 2 retries is kept for transient errors."""
    import pytest
    from airflow.sdk.exceptions import AirflowFailException

    from yishu.pipeline.refs import ProductRef

    dag = load_dags(res.settings)["publish__station_inspection_log"]
    task = dag.get_task("publish")
    assert task.retries == 2
    blocked = ProductRef(product="station_inspection_log", partition="2026-11-01",
                         source="station_inspections", source_partition="2026-11-01",
                         source_sha256="0" * 64, source_grade="A", snapshot="x", rows=1,
                         run_id="t", blocked="drift: remark")
    with pytest.raises(AirflowFailException, match="不合规不挂牌.*drift: remark"):
        task.python_callable(blocked.to_dict())
