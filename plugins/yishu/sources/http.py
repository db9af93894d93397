"""The HTTP connector: a JSON API read page by page (page numbers, offsets or cursors).

Every response body is kept as it arrived: the raw file is JSON Lines, one line per response
({"url", "status", "body"}), so a page that is an HTML error page instead of JSON is in the raw
zone and the batch is quarantined with the reason. 429 and 5xx answers and network errors are
retried with exponential backoff (honouring `Retry-After`); requests are spaced by the rate
limit; the auth header's value comes from an environment variable the YAML names.
"""

from __future__ import annotations

import email.utils
import functools
import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pyarrow as pa

from yishu.definitions import Source
from yishu.definitions.connectors import HttpSpec
from yishu.settings import Settings
from yishu.sources.delivery import Delivery, SourceUnavailable
from yishu.sources.readers import Unreadable, records_table

RETRIED = {429, 500, 502, 503, 504}
MAX_WAIT = 300.0  # seconds: a Retry-After beyond this is capped


def records_at(body, path: str):
    """The list at the dotted `path` of a decoded body ("" is the body itself)."""
    for key in filter(None, path.split(".")):
        if not isinstance(body, dict) or key not in body:
            return None
        body = body[key]
    return body


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    if value.strip().isdigit():
        return min(float(value), MAX_WAIT)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(when.timestamp() - time.time(), 0.0), MAX_WAIT)


class _Client:
    """GET with retries, backoff and a rate limit."""

    def __init__(self, spec: HttpSpec, headers: dict, sleep: Callable[[float], None]):
        self.spec, self.sleep = spec, sleep
        self.http = httpx.Client(timeout=spec.timeout, headers=headers, follow_redirects=True)
        self.last = 0.0

    def get(self, url: str, params: dict, label: str) -> httpx.Response:
        """`label` names the URL in messages (a URL from the environment is never shown)."""
        spec, problem = self.spec, ""
        for attempt in range(spec.retries + 1):
            if spec.rate_limit:
                self.sleep(max(0.0, self.last + 1 / spec.rate_limit - time.monotonic()))
            self.last = time.monotonic()
            wait = spec.backoff * 2 ** attempt
            try:
                response = self.http.get(url, params=params)
            except httpx.TransportError as exc:  # timeouts, refused connections
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code not in RETRIED:
                    return response
                problem = f"HTTP {response.status_code}"
                wait = _retry_after(response) or wait
            if attempt < spec.retries:
                self.sleep(wait)
        raise SourceUnavailable(f"{label}: no answer after {spec.retries + 1} attempt(s) (last: "
                                f"{problem}): the API is down or refusing; run again later")


def _auth_headers(source: Source, settings: Settings) -> dict:
    auth = source.http.auth
    if auth is None:
        return {}
    secret = settings.credential(auth.env)
    if not secret:
        raise SourceUnavailable(f"{source.file}: http.auth.env: the environment variable "
                                f"{auth.env} is not set: set it to the API's token")
    return {auth.header: auth.prefix + secret}


def endpoint(source: Source, partition: str, settings: Settings) -> tuple[str, str]:
    """The partition's URL, and how the raw zone and messages name it: the URL itself, or
    `$VARIABLE` for a URL held by the environment (it may differ per run or carry a key)."""
    spec = source.http
    if spec.url_env is None:
        url = spec.url.replace("{partition}", partition)
        return url, url
    url = settings.credential(spec.url_env)
    if not url:
        raise SourceUnavailable(f"{source.file}: http.url_env: the environment variable "
                                f"{spec.url_env} is not set: set it to the API's URL")
    return url.replace("{partition}", partition), f"${spec.url_env}"


def _pages(source: Source, partition: str, client: _Client, url: str,
           label: str) -> list[bytes]:
    spec, paging = source.http, source.http.pagination
    params = {k: str(v).format(partition=partition) for k, v in spec.params.items()}
    if paging.size_param:
        params[paging.size_param] = str(paging.size)
    position: int | str | None = paging.start if paging.type == "page" else 0
    lines = []
    for _ in range(paging.max_pages):
        if paging.type in ("page", "offset") or (paging.type == "cursor" and position):
            params[paging.param] = str(position)
        response = client.get(url, params, label)
        shown = str(response.url) if label == url else f"{label}?{httpx.QueryParams(params)}"
        lines.append((json.dumps({"url": shown, "status": response.status_code,
                                  "body": response.text}, ensure_ascii=False) + "\n").encode())
        if response.status_code >= 400:
            return lines  # kept; the reader names the problem
        try:
            body = response.json()
        except ValueError:
            return lines  # kept; the reader names the problem
        records = records_at(body, spec.records)
        if paging.type == "none" or not isinstance(records, list) or not records:
            return lines
        if paging.type == "cursor":
            position = records_at(body, paging.cursor_path)
            if not position:
                return lines
        else:  # until an empty page: an API that caps the page size below `size` loses nothing
            position = position + (1 if paging.type == "page" else len(records))
    raise SourceUnavailable(f"{label}: more than {paging.max_pages} pages: raise "
                            f"`http.pagination.max_pages` in {source.file} if that is right")


def read_pages(path: Path, *, records: str, where: str) -> pa.Table:
    """The records of every stored response as one table of text."""
    rows: list[dict] = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            page = json.loads(line)
            if page["status"] >= 400:
                raise Unreadable(f"{page['url']}: HTTP {page['status']}: check the source's "
                                 "`http:` block and its credentials, then collect again")
            try:
                body = json.loads(page["body"])
            except ValueError:
                start = page["body"][:40].replace("\n", " ")
                raise Unreadable(f"{page['url']}: response {number} is not JSON (it starts "
                                 f"with {start!r}): the API answered with an error page; "
                                 "run again later or check the URL") from None
            found = records_at(body, records)
            if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
                raise Unreadable(f"{where}: response {number} has no list of records at "
                                 f"`records: {records}`: fix `http.records` or the API")
            rows += found
    return records_table(rows, where)


def fetch(source: Source, partition: str, settings: Settings,
          sleep: Callable[[float], None] = time.sleep) -> Delivery:
    spec = source.http
    url, where = endpoint(source, partition, settings)
    client = _Client(spec, _auth_headers(source, settings), sleep)
    try:
        lines = _pages(source, partition, client, url, where)
    finally:
        client.http.close()
    return Delivery(chunks=iter(lines), suffix=".pages.jsonl", where=where,
                    read=functools.partial(read_pages, records=spec.records, where=where))
