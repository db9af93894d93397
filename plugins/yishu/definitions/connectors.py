"""How a source is reached: the `http:` and `sql:` blocks of `catalog/sources/<source>.yaml`.

Credentials never sit in the YAML: it names the environment variable that holds them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, StrictInt, StrictStr
from pydantic.dataclasses import dataclass

_CONFIG = ConfigDict(extra="forbid")
Connector = Literal["file", "http", "sql"]
FileFormat = Literal["csv", "xlsx", "parquet", "jsonl"]
Number = StrictInt | float


@dataclass(frozen=True, config=_CONFIG)
class HttpAuth:
    """An auth header whose value is read from the environment variable `env`."""

    env: StrictStr
    header: StrictStr = "Authorization"
    prefix: StrictStr = "Bearer "


@dataclass(frozen=True, config=_CONFIG)
class Pagination:
    """`page` (page numbers from `start`), `offset` (row offsets) or `cursor` (the next
    cursor read at `cursor_path` of each response, sent as `param`); `none`: one request."""

    type: Literal["none", "page", "offset", "cursor"] = "none"
    param: StrictStr = "page"
    size_param: StrictStr | None = None
    size: StrictInt = Field(default=100, ge=1)
    start: StrictInt = 1
    cursor_path: StrictStr | None = None
    max_pages: StrictInt = Field(default=10_000, ge=1)


@dataclass(frozen=True, config=_CONFIG)
class HttpSpec:
    """The API at `url`, or at the URL held by the environment variable `url_env` (a host
    that differs per installation, or a URL carrying a key: never written to the raw zone or
    to messages, which name the variable); {partition} is filled in either way."""

    url: StrictStr | None = None
    url_env: StrictStr | None = None
    params: dict[StrictStr, StrictStr | StrictInt] = Field(default_factory=dict)
    records: StrictStr = ""  # dotted path to the list of records in a response; "" = the body
    pagination: Pagination = Field(default_factory=Pagination)
    auth: HttpAuth | None = None
    timeout: Number = Field(default=30, gt=0)  # seconds per request
    retries: StrictInt = Field(default=5, ge=0)  # on 429, 5xx and network errors
    backoff: Number = Field(default=1.0, ge=0)  # seconds, doubled after each retry
    rate_limit: Number | None = Field(default=None, gt=0)  # requests per second


@dataclass(frozen=True, config=_CONFIG)
class SqlSpec:
    """A `table` or a `query`, from the database at `url` ({home}, {repo} filled in; no
    password) or at the URL held by the environment variable `url_env`. With `watermark`,
    each new partition reads only rows whose watermark column is above the previous
    partition's highest value (kept per source in the catalog database)."""

    url: StrictStr | None = None
    url_env: StrictStr | None = None
    table: StrictStr | None = None
    query: StrictStr | None = None
    watermark: StrictStr | None = None
