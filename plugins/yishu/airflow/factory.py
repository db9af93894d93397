"""Turn the catalog into Airflow DAGs: `collect__<source>` and `publish__<product>`.

Collect DAGs emit the Asset `yishu://source/<source>` when a batch lands; product DAGs are
scheduled on the Assets of the sources they read (data-aware scheduling). Tasks call the
library and pass small references through XCom. Parsing reads only the catalog's YAML files.
Each task builds the run's resources once, from the settings of the process it runs in.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Asset, dag, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from yishu import settings
from yishu.airflow import lineage
from yishu.definitions import Catalog, Product, Source, load_catalog

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DEFAULT_ARGS = {"owner": "data-bureau", "retries": 2, "retry_delay": dt.timedelta(minutes=5)}


def source_asset(name: str) -> Asset:
    return Asset(name=f"source__{name}", uri=f"yishu://source/{name}")


def product_asset(name: str) -> Asset:
    return Asset(name=f"product__{name}", uri=f"yishu://product/{name}")


def _resources():
    """A task's resources; every task starts here (so it also starts its lineage afresh)."""
    from yishu.resources import Resources

    lineage.start_task()
    return Resources.from_settings(settings.load())


def partition_of(context) -> str:
    """The run's partition: `partition` in the run conf; for a run triggered by a source
    Asset, the partition its batch landed for (several sources: the newest of their latest
    batches); else the logical date (or the day the run was queued for)."""
    from yishu.storage import check_partition

    conf = (context.get("dag_run").conf or {}) if context.get("dag_run") else {}
    if conf.get("partition"):
        return check_partition(str(conf["partition"]))
    # each source Asset's latest event; a product of several sources takes the newest
    latest = [[e for e in evs if (e.extra or {}).get("partition")]
              for evs in (context.get("triggering_asset_events") or {}).values()]
    if partitions := [evs[-1].extra["partition"] for evs in latest if evs]:
        return check_partition(max(partitions))
    when = context.get("logical_date") or context["dag_run"].run_after
    return when.strftime("%Y-%m-%d")


def collect_dag(source: Source):
    asset = source_asset(source.name)

    @dag(dag_id=f"collect__{source.name}", schedule=source.schedule, start_date=START,
         catchup=False, default_args=DEFAULT_ARGS, tags=["yishu", "collect", source.name],
         doc_md=f"Collect **{source.title_zh}** ({source.provider}), validate it against "
                f"`expectations/{source.name}.json`, land or quarantine it.")
    def collect_source():
        @task
        def collect(**context) -> dict:
            from yishu.db.watermarks import Watermarks
            from yishu.sources.collect import collect as collect_partition
            from yishu.sources.delivery import SourceUnavailable

            res, partition = _resources(), partition_of(context)
            try:
                result = collect_partition(source, partition, settings=res.settings,
                                           storage=res.storage, watermarks=Watermarks(res.db))
            except SourceUnavailable as exc:
                # Nothing arrived: the task fails (and is retried) with the reason as its one
                # log line; Airflow logs a SystemExit without a traceback.
                raise SystemExit(str(exc)) from None
            lineage.report([_origin(source, partition, res.settings)],
                           [result.original, result.snapshot])
            return result.to_dict()

        @task
        def validate(ref: dict) -> dict:
            from yishu.pipeline.batches import validate_and_land
            from yishu.pipeline.refs import BatchRef
            from yishu.sources.collect import CollectResult

            batch = validate_and_land(_resources(), CollectResult(**ref))
            return BatchRef(batch.source, batch.partition, batch.snapshot_sha256, batch.status,
                            batch.reason, batch.quality_grade, batch.quality_score).to_dict()

        @task(outlets=[asset])
        def land(ref: dict, *, outlet_events) -> dict:
            from yishu.db.models import USABLE_STATUSES
            from yishu.pipeline.refs import BatchRef

            lineage.start_task()
            batch = BatchRef.from_dict(ref)
            if batch.status not in USABLE_STATUSES:
                # Skipped: no Asset event, so no product reads a quarantined batch.
                raise AirflowSkipException(f"batch {batch.status}: {batch.reason}")
            outlet_events[asset].extra = {"partition": batch.partition, "sha256": batch.sha256}
            return ref

        land(validate(collect()))

    return collect_source()


def publish_dag(product: Product):
    # one run at a time per product; concurrent runs would still be safe (own work folders,
    # reserved version numbers), only wasteful
    # a list of Assets: the run waits for a new batch of every source it reads (AND)
    @dag(dag_id=f"publish__{product.name}",
         schedule=[source_asset(name) for name in product.source_names],
         start_date=START, catchup=False, default_args=DEFAULT_ARGS, max_active_runs=1,
         tags=["yishu", "publish", product.zone, product.name],
         doc_md=f"Build **{product.title_zh}** for zone `{product.zone}` from "
                f"`{'`, `'.join(product.source_names)}`: de-identify, check risk, publish a "
                "signed version.")
    def publish_product():
        @task
        def build(**context) -> dict:
            from yishu.pipeline import products as stages

            try:
                return stages.build(_resources(), product.name, partition_of(context),
                                    run_id=context.get("run_id")).to_dict()
            except stages.NothingToPublish as exc:
                raise AirflowSkipException(str(exc)) from None

        @task
        def plan_parts(ref: dict) -> list[dict]:
            # a big run is de-identified in parts, a mapped task each (any worker takes any)
            from yishu.pipeline import products as stages
            from yishu.pipeline.refs import ProductRef

            ref, parts = stages.deidentify_plan(_resources(), ProductRef.from_dict(ref))
            return [{"ref": ref.to_dict(), "part": part} for part in parts]

        @task
        def deidentify(job: dict) -> dict:
            from yishu.pipeline import products as stages
            from yishu.pipeline.refs import ProductRef

            part = stages.deidentify_part(_resources(), ProductRef.from_dict(job["ref"]),
                                          job["part"])
            return {"ref": job["ref"], "part": part}

        @task
        def merge_parts(done) -> dict:
            from yishu.pipeline import products as stages
            from yishu.pipeline.refs import ProductRef

            done = list(done[:])  # the mapped tasks' results in map order, in one request
            return stages.deidentify_merge(_resources(), ProductRef.from_dict(done[0]["ref"]),
                                           [d["part"] for d in done]).to_dict()

        @task
        def check_risk(ref: dict) -> dict:
            return _stage("check_risk", ref)

        @task(outlets=[product_asset(product.name)])
        def publish(ref: dict) -> dict:
            ref = _stage("publish", ref)
            lineage.report([i["snapshot"] for i in ref["inputs"]], [ref["path"]])
            if ref["blocked"]:
                # A compliance stop is a failure (the run turns red and alerts), never a skip;
                # retrying cannot change the verdict, so it fails without retries (its message
                # is the task log's last line). "Nothing new to publish" stays a skip (build).
                raise AirflowFailException(f"not published (不合规不挂牌): {ref['blocked']}")
            return ref

        publish(check_risk(merge_parts(deidentify.expand(job=plan_parts(build())))))

    return publish_product()


def _origin(source: Source, partition: str, cfg) -> str:
    """Where a source's data came from, for lineage: a file, an API URL, or the source's table
    (never a database URL: it may hold a password)."""
    if source.connector == "http" and source.http.url_env:  # never the URL: it may hold a key
        return f"api://{source.name}"
    if source.connector == "http":
        return source.http.url.replace("{partition}", partition)
    if source.connector == "sql":
        return f"sql://{source.name}/{source.sql.table or 'query'}"
    return str(source.resolve_location(partition, home=cfg.home, repo=cfg.repo))


def _stage(name: str, ref: dict) -> dict:
    """Run one product stage on the reference handed over by the previous task."""
    from yishu.pipeline import products as stages
    from yishu.pipeline.refs import ProductRef

    return getattr(stages, name)(_resources(), ProductRef.from_dict(ref)).to_dict()


def build_dags(cat: Catalog | None = None) -> dict:
    cat = cat or load_catalog(settings.load().catalog_dir)
    dags = [collect_dag(s) for s in cat.sources.values()]
    dags += [publish_dag(p) for p in cat.products.values()]
    return {d.dag_id: d for d in dags}
