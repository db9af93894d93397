"""The rules of a source file beyond field types: its name, encoding, schedule, and the block
its `connector` needs (and no other)."""

from __future__ import annotations

import codecs
import re

from yishu.definitions.models import LOCATION_PLACEHOLDERS, Source
from yishu.names import NAME_RE


def check_source(source: Source, problems: list[str]) -> None:
    path = source.file
    if path is not None and source.name != path.stem:
        problems.append(f"{path}: name: '{source.name}' must equal the file name "
                        f"'{path.stem}': rename one of them")
    if not NAME_RE.fullmatch(source.name):
        problems.append(f"{path}: name: source name '{source.name}' is not lower_snake_case: "
                        "rename it and its file, e.g. health_visits (a lowercase letter, then "
                        "lowercase letters, digits, _)")
    if source.encoding is not None:
        try:
            codecs.lookup(source.encoding)
        except LookupError:
            problems.append(f"{path}: encoding: unknown encoding '{source.encoding}': use one "
                            "Python knows, e.g. utf-8, gb18030 or utf-8-sig, or leave it out "
                            "to detect it")
    _check_connector(source, problems)
    if source.schedule is not None and not _valid_schedule(source.schedule):
        problems.append(f"{path}: schedule: '{source.schedule}' is neither a cron expression "
                        f"nor one of {list(SCHEDULE_PRESETS)}: fix it (it would break the "
                        "import of every DAG)")


SCHEDULE_PRESETS = ("@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly",
                    "@quarterly", "@yearly", "@annually")


def _valid_schedule(schedule: str) -> bool:
    from croniter import croniter

    return schedule in SCHEDULE_PRESETS or (not schedule.startswith("@")
                                            and croniter.is_valid(schedule))


def _check_connector(source: Source, problems: list[str]) -> None:
    """The block the source's `connector` needs is there, and only that one."""
    path, kind = source.file, source.connector
    blocks = {"file": source.location, "http": source.http, "sql": source.sql}
    field = "location" if kind == "file" else kind
    if blocks[kind] is None:
        problems.append(f"{path}: {field}: missing for `connector: {kind}`: add it (see README, "
                        "'The catalog')")
    for other, value in blocks.items():
        if other != kind and value is not None:
            problems.append(f"{path}: {'location' if other == 'file' else other}: not used by "
                            f"`connector: {kind}`: remove it or change `connector:`")
    if source.location is not None:
        try:
            source.location.format(**{name: "x" for name in LOCATION_PLACEHOLDERS})
        except (KeyError, ValueError, IndexError, AttributeError, TypeError) as exc:
            problems.append(f"{path}: location: '{source.location}' cannot be filled in "
                            f"({type(exc).__name__}: {exc}): use only the placeholders "
                            + ", ".join(f"{{{n}}}" for n in LOCATION_PLACEHOLDERS)
                            + " (write {{ and }} for literal braces)")
    if source.sheet is not None and source.format != "xlsx":
        problems.append(f"{path}: sheet: only `format: xlsx` has sheets: remove it")
    if sql := source.sql:
        if (sql.table is None) == (sql.query is None):
            problems.append(f"{path}: sql: give exactly one of `table:` or `query:`")
        if (sql.url is None) == (sql.url_env is None):
            problems.append(f"{path}: sql: give exactly one of `url:` or `url_env:` (the name "
                            "of the environment variable holding the URL)")
        if sql.url and re.search(r"://[^/@]*:[^/@]*@", sql.url):
            problems.append(f"{path}: sql.url: holds a password: never write secrets in YAML; "
                            "put the URL in an environment variable named by `url_env:`")
    if (http := source.http) and (http.url is None) == (http.url_env is None):
        problems.append(f"{path}: http: give exactly one of `url:` or `url_env:` (the name of "
                        "the environment variable holding the URL)")
    if (http := source.http) and http.pagination.type == "cursor" and not (
            http.pagination.cursor_path):
        problems.append(f"{path}: http.pagination.cursor_path: cursor pagination needs the "
                        "path of the next cursor in a response (e.g. next_cursor)")
