"""The Delta Sharing protocol (github.com/delta-io/delta-sharing, PROTOCOL.md), so standard
clients (`delta_sharing.load_as_pandas`, Spark, BI tools) read products directly.

A share is the licence's zone, a schema its scenario, a table a product; a table's version is
the product's latest version this licence may receive (withdrawn ones and those above its
level left out). A query answers with short-lived links signed with the bureau's link key:
readers fetch files without the bearer token, so the link names the token, the product
version and its expiry, and the file endpoint checks all of them again (fail closed) before it
meters and serves. Refusals have the operator API's shape `{error, detail, what_to_do}`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import FileResponse

from yishu.access import metering, tokens
from yishu.access.tokens import AccessDenied, Grant
from yishu.api import offer
from yishu.api.spark_schema import schema_string
from yishu.db.models import ProductVersion
from yishu.resources import Resources

LINK_SECONDS = 15 * 60
NDJSON = "application/x-ndjson; charset=utf-8"
CAPABILITIES = {"delta-sharing-capabilities": "responseformat=parquet"}


def sign_link(res: Resources, token_id: str, product: str, version: int, query_seq: int,
              expires: int) -> str:
    message = f"{token_id}\n{product}\n{version}\n{query_seq}\n{expires}".encode()
    return hmac.new(res.keys.link_secret(), message, hashlib.sha256).hexdigest()


def _match(given: str, name: str, what: str, where: str) -> None:
    if given.lower() != name.lower():  # names are case-insensitive in the protocol
        raise AccessDenied(404, f"unknown_{what}", f"no {what} '{given}' for this licence",
                           f"list what you may read with GET /delta-sharing/{where}")


def _page(items: list[dict], max_results: int | None, page_token: str | None) -> dict:
    start = int(page_token) if (page_token or "").isdigit() else 0
    end = len(items) if max_results is None else start + max(max_results, 0)
    page = {"items": items[start:end]}
    if end < len(items):
        page["nextPageToken"] = str(end)
    return page


def router(resources: Callable[[], Resources], grant_of: Callable,
           served: Callable) -> APIRouter:
    """The protocol's routes, using the app's resources, authentication and audit."""
    api = APIRouter(prefix="/delta-sharing", tags=["Delta Sharing"])

    def tables(grant: Grant) -> list[dict]:
        return [{"name": name, "schema": grant.scenario, "share": grant.zone}
                for name in offer.licensed_products(resources(), grant)]

    def product_of(grant: Grant, share: str, schema: str, table: str) -> str:
        _match(share, grant.zone, "share", "shares")
        _match(schema, grant.scenario, "schema", f"shares/{grant.zone}/schemas")
        return next((t for t in offer.licensed_products(resources(), grant)
                     if t.lower() == table.lower()), table)

    def latest(grant: Grant, share: str, schema: str, table: str) -> ProductVersion:
        name = product_of(grant, share, schema, table)
        allowed = offer.deliverable(offer.versions(resources(), grant, name))
        if not allowed:
            raise AccessDenied(404, "no_version", f"'{name}' has no version this licence may "
                               "receive", "wait for the bureau to publish one")
        return allowed[-1]

    def lines(found: ProductVersion) -> list[dict]:
        try:
            schema = schema_string(pq.read_schema(Path(found.path) / "data.parquet"))
        except ValueError as exc:
            raise AccessDenied(501, "unsupported_schema", f"'{found.product}' "
                               f"v{found.version}: {exc}", "download it with GET /api/v1/"
                               f"products/{found.product}/versions/{found.version}/download"
                               ) from None
        return [{"protocol": {"minReaderVersion": 1}},
                {"metaData": {"id": f"{found.zone}.{found.product}", "name": found.product,
                              "format": {"provider": "parquet"},
                              "schemaString": schema,
                              "partitionColumns": [], "configuration": {},
                              "version": found.version}}]

    def ndjson(rows: list[dict], version: int) -> Response:
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        return Response(body, media_type=NDJSON,
                        headers={"delta-table-version": str(version), **CAPABILITIES})

    @api.get("/shares", summary="The share of this licence: its zone")
    def list_shares(request: Request, maxResults: int | None = None,  # noqa: N803
                    pageToken: str | None = None, grant: Grant = Depends(grant_of)):  # noqa: N803
        served(request, grant)
        return _page([{"name": grant.zone}], maxResults, pageToken)

    @api.get("/shares/{share}", summary="One share")
    def get_share(share: str, request: Request, grant: Grant = Depends(grant_of)):
        _match(share, grant.zone, "share", "shares")
        served(request, grant)
        return {"share": {"name": grant.zone}}

    @api.get("/shares/{share}/schemas", summary="The schema of this licence: its scenario")
    def list_schemas(share: str, request: Request, maxResults: int | None = None,  # noqa: N803
                     pageToken: str | None = None, grant: Grant = Depends(grant_of)):  # noqa: N803
        _match(share, grant.zone, "share", "shares")
        served(request, grant)
        return _page([{"name": grant.scenario, "share": grant.zone}], maxResults, pageToken)

    @api.get("/shares/{share}/schemas/{schema}/tables", summary="The scenario's products")
    def list_tables(share: str, schema: str, request: Request,
                    maxResults: int | None = None, pageToken: str | None = None,  # noqa: N803
                    grant: Grant = Depends(grant_of)):
        _match(share, grant.zone, "share", "shares")
        _match(schema, grant.scenario, "schema", f"shares/{grant.zone}/schemas")
        served(request, grant)
        return _page(tables(grant), maxResults, pageToken)

    @api.get("/shares/{share}/all-tables", summary="All products of the share")
    def list_all_tables(share: str, request: Request, maxResults: int | None = None,  # noqa: N803
                        pageToken: str | None = None, grant: Grant = Depends(grant_of)):  # noqa: N803
        _match(share, grant.zone, "share", "shares")
        served(request, grant)
        return _page(tables(grant), maxResults, pageToken)

    version_path = "/shares/{share}/schemas/{schema}/tables/{product}/version"

    @api.head(version_path, operation_id="delta_sharing_table_version_head")
    @api.get(version_path, summary="The latest version this licence may read (header "
             "delta-table-version)")
    def table_version(share: str, schema: str, product: str, request: Request,
                      grant: Grant = Depends(grant_of)):
        found = latest(grant, share, schema, product)
        served(request, grant, product=found.product, version=found.version)
        return Response(headers={"delta-table-version": str(found.version)})

    @api.get("/shares/{share}/schemas/{schema}/tables/{product}/metadata",
             summary="Protocol and metadata (schema as a Spark struct), as NDJSON")
    def table_metadata(share: str, schema: str, product: str, request: Request,
                       grant: Grant = Depends(grant_of)):
        found = latest(grant, share, schema, product)
        served(request, grant, product=found.product, version=found.version)
        return ndjson(lines(found), found.version)

    @api.post("/shares/{share}/schemas/{schema}/tables/{product}/query",
              summary="The table's files, as short-lived signed links (NDJSON)")
    def query(share: str, schema: str, product: str, request: Request,
              body: dict | None = Body(default=None), grant: Grant = Depends(grant_of)):
        body = body or {}
        for unsupported in ("timestamp", "startingVersion", "endingVersion"):
            if body.get(unsupported) is not None:
                raise AccessDenied(400, "unsupported", f"'{unsupported}' is not supported: "
                                   "each version is a whole, immutable snapshot",
                                   "ask for the latest version or give `version`")
        if body.get("version") is None:
            found = latest(grant, share, schema, product)
        elif type(body["version"]) is not int:  # bool is an int to isinstance
            raise AccessDenied(400, "invalid_request", "`version` must be an integer",
                               "give a version number from GET …/version")
        else:  # the version asked for says why it is refused (withdrawn, level), if it is
            found = offer.version(resources(), grant, product_of(grant, share, schema, product),
                                  body["version"])
        entry = served(request, grant, product=found.product, version=found.version)
        res, path = resources(), Path(found.path) / "data.parquet"
        expires = int(dt.datetime.now(dt.UTC).timestamp()) + LINK_SECONDS
        signature = sign_link(res, grant.token_id, found.product, found.version, entry.seq,
                              expires)
        url = request.url_for("delta_sharing_file", product=found.product,
                              version=str(found.version)).include_query_params(
            t=grant.token_id, q=entry.seq, e=expires, s=signature)
        sha256 = found.voucher["body"]["files"]["data.parquet"]
        file = {"url": str(url), "id": sha256, "partitionValues": {},
                "size": path.stat().st_size, "expirationTimestamp": expires * 1000,
                "stats": json.dumps({"numRecords": found.rows})}
        return ndjson([*lines(found), {"file": file}], found.version)

    file_path = "/files/{product}/{version}/data.parquet"

    @api.head(file_path, operation_id="delta_sharing_file_head")
    @api.get(file_path, name="delta_sharing_file",
             summary="A file behind a signed link: checked, metered and audited")
    def file(product: str, version: int, request: Request, t: str = "", q: int = 0,
             e: int = 0, s: str = ""):
        res = resources()
        expected = sign_link(res, t, product, version, q, e)
        if not hmac.compare_digest(expected, s):
            raise AccessDenied(403, "invalid_link", "this link was not signed by the bureau "
                               "or was altered", "query the table again for a fresh link")
        if dt.datetime.now(dt.UTC).timestamp() > e:
            raise AccessDenied(403, "expired_link", "this link has expired",
                               "query the table again for a fresh link")
        grant = tokens.grant_of_link(res, t)
        request.state.grant = grant
        found = offer.version(res, grant, product, version)
        path = Path(found.path) / "data.parquet"
        size = path.stat().st_size
        if request.method == "HEAD":  # readers ask the size first: nothing delivered yet
            served(request, grant, product=product, version=version, link=q)
            return Response(headers={"content-length": str(size), "accept-ranges": "bytes"})
        if metering.deliver(res, grant, product, version, "parquet", found.rows, size,
                            link=q) is None:
            served(request, grant, product=product, version=version, link=q)
        return FileResponse(path, media_type="application/vnd.apache.parquet",
                            headers={"X-Yishu-SHA256": found.voucher["body"]["files"][
                                "data.parquet"], "X-Yishu-Rows": str(found.rows)})

    return api
