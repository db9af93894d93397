"""What a task read and wrote, for OpenLineage: the provider turns the assets reported here into
the inputs and outputs of the task's COMPLETE event (written by the file transport to
`YISHU_HOME/lineage/events.jsonl` unless Airflow is configured otherwise).

Reporting is best effort: lineage never fails a task (without a lineage reader, e.g. the
provider disabled, the collector ignores everything)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def transport_settings(lineage_dir: Path) -> dict[str, str]:
    """Airflow settings of the OpenLineage provider: events appended to one JSON Lines file."""
    import json

    return {"AIRFLOW__OPENLINEAGE__NAMESPACE": "yishu",
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps({
                "type": "file", "log_file_path": str(lineage_dir / "events.jsonl"),
                "append": True})}


def start_task() -> None:
    """Forget what earlier tasks reported: `dag.test()` runs every task in one process, where
    the (cached) collector would hand the previous tasks' files to this task's event."""
    try:
        from airflow.sdk.lineage import get_hook_lineage_collector

        get_hook_lineage_collector.cache_clear()
    except Exception:  # noqa: BLE001 - see report()
        log.warning("lineage collector not reset", exc_info=True)


def report(inputs: list[str | None], outputs: list[str | None]) -> None:
    """Report local paths (or URLs) a task read and wrote."""
    try:
        from airflow.sdk import ObjectStoragePath
        from airflow.sdk.lineage import get_hook_lineage_collector

        collector = get_hook_lineage_collector()
        for where, add in ((inputs, collector.add_input_asset),
                           (outputs, collector.add_output_asset)):
            for location in filter(None, where):
                uri = location if "://" in location else Path(location).resolve().as_uri()
                try:
                    context = ObjectStoragePath(uri)
                except ValueError:  # not a file system (sql://, api://): the URI alone
                    context = _Location(uri)
                add(context, uri=uri)
    except Exception:  # noqa: BLE001 - lineage is an account of the work, never a reason to fail it
        log.warning("lineage not reported", exc_info=True)


class _Location:
    """What read or wrote a dataset that is no file (a table, an API), for the collector."""

    def __init__(self, uri: str):
        self.uri = uri
