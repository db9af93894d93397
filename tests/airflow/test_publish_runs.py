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
