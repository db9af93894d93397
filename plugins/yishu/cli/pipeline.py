"""Commands of bureau engineers: check the catalog, build suites, sample data, run a DAG."""

from __future__ import annotations

import datetime as dt

import typer

from yishu.cli.common import DEMO_PARTITION, catalog, console, fail, partition_option, resources
from yishu.cli.tables import batch_line, product_run_line
from yishu.definitions import CatalogError

MAX_SAMPLE_ROWS = 5_000_000  # about 1 GB of CSV: more would fill the disk by a typo

expectations_app = typer.Typer(help="The expectation suites (one per source).",
                               no_args_is_help=True)


def check(ctx: typer.Context):
    """Validate the catalog YAML and the expectation suites; name every problem."""
    from yishu.definitions.checks import expired_scenarios
    from yishu.standard.suites import stale_suites

    cat = catalog(ctx)
    problems = expired_scenarios(cat, dt.date.today())
    problems += stale_suites(cat, resources(ctx).settings.expectations_dir)
    for problem in problems:
        console.print(f"[red]✗[/] {problem}", soft_wrap=True, highlight=False)
    if problems:
        fail(f"{len(problems)} problem(s) in the scenarios and suites")
    console.print(f"[green]✓[/] catalog OK: {len(cat.elements)} elements, {len(cat.zones)} "
                  f"zones, {len(cat.scenarios)} scenarios, {len(cat.sources)} sources, "
                  f"{len(cat.products)} products; suites up to date")


@expectations_app.command("build")
def expectations_build(ctx: typer.Context):
    """Regenerate the element-level expectations of every suite from elements.yaml."""
    from yishu.standard.suites import write_suites

    written = write_suites(catalog(ctx), resources(ctx).settings.expectations_dir)
    for path in written:
        console.print(f"wrote {path}")
    console.print(f"{len(written)} suite(s) changed")


def sample(ctx: typer.Context,
           rows: int = typer.Option(2000, min=1, max=MAX_SAMPLE_ROWS,
                                    help="rows of health_visits (others fewer)"),
           seed: int = typer.Option(7, help="seed: the same seed gives the same files"),
           partition: str = typer.Option(DEMO_PARTITION, help="partition date YYYY-MM-DD",
                                         callback=partition_option),
           clean: bool = typer.Option(False, help="no planted dirty rows")):
    """Generate the sample government sources into YISHU_HOME/inbox/."""
    from yishu.samples import SOURCES, sample_rows, write_sample

    storage = resources(ctx).storage
    for source in SOURCES:
        n = sample_rows(source, rows)
        path = write_sample(storage, source, partition, n, seed=seed, dirty=not clean)
        console.print(f"  {source}: {n} rows → {path}")
    from yishu.samples import power

    path = power.write_database(storage.department_database("power_usage"),
                                sample_rows("market_enterprise", rows), seed=seed,
                                partition=partition)
    console.print(f"  power_usage: {power.MONTHS} months of bills (SQLite) → {path}")


def _dag_id(cat, name: str) -> str:
    try:
        target = cat.product_or_source(name)
    except CatalogError as exc:
        fail(exc.problems[0])
    return f"collect__{name}" if target.name in cat.sources else f"publish__{name}"


def run(ctx: typer.Context,
        name: str = typer.Argument(..., help="a source or product name"),
        partition: str = typer.Option(DEMO_PARTITION, help="partition date YYYY-MM-DD",
                                      callback=partition_option)):
    """Run the DAG of a source (collect) or product (publish) in-process with dag.test()."""
    from yishu.airflow.runner import log_path, run_dag

    res = resources(ctx)
    cat = catalog(ctx)
    dag_id = _dag_id(cat, name)
    with console.status(f"running {dag_id} for {partition} (real Airflow, dag.test)…"):
        result = run_dag(res.settings, dag_id, partition)
    _print_run(res, name, partition, result)
    if result.state != "success" and name in cat.sources:
        from yishu.sources.collect import why_not_collected

        if why := why_not_collected(cat.sources[name], partition, settings=res.settings):
            fail(why)
    if result.state != "success":
        fail(f"{dag_id} ended {result.state}: see the task log "
             f"{log_path(res.settings, dag_id, partition)}")


def _print_run(res, name: str, partition: str, result) -> None:
    from yishu.db.queries import BatchNotFound, get_batch, product_run

    tasks = " → ".join(f"{t}:{s}" for t, s in result.tasks.items())
    console.print(f"[bold]{result.dag_id}[/] {result.state}  ({tasks})", highlight=False)
    if name in res.catalog.sources:
        try:
            console.print("  " + batch_line(get_batch(res.db, name, partition)),
                          soft_wrap=True, highlight=False)
        except BatchNotFound:
            return
    elif pr := product_run(res.db, name, partition):
        console.print("  " + product_run_line(pr), soft_wrap=True, highlight=False)


def demo(ctx: typer.Context,
         rows: int = typer.Option(2000, min=50, help="rows of the health_visits sample")):
    """The main job on embedded defaults: sample → collect → validate → publish → catalog."""
    from yishu.cli.demo import run_demo

    catalog(ctx)
    run_demo(console, resources(ctx), rows=rows, partition=DEMO_PARTITION)
