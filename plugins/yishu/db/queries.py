"""Reading the catalog database: batches, product runs and published versions."""

from __future__ import annotations

from sqlalchemy import select

from yishu.db.database import Database
from yishu.db.models import USABLE_STATUSES, Batch, ProductRun, ProductVersion


class BatchNotFound(Exception):
    pass


def get_batch(db: Database, source: str, partition: str) -> Batch:
    with db.session() as s:
        batch = s.scalar(select(Batch).where(Batch.source == source, Batch.partition == partition))
    if batch is None:
        raise BatchNotFound(f"no batch of source '{source}' for partition {partition}: "
                            "list batches with `yishu quarantine ls --all`")
    return batch


def list_batches(db: Database, status: str | None = None) -> list[Batch]:
    with db.session() as s:
        query = select(Batch).order_by(Batch.source, Batch.partition)
        if status:
            query = query.where(Batch.status == status)
        return list(s.scalars(query))


def latest_usable(db: Database, source: str, partition: str | None = None) -> Batch | None:
    """The newest landed or released batch of a source, up to `partition` if given."""
    with db.session() as s:
        query = select(Batch).where(Batch.source == source, Batch.status.in_(USABLE_STATUSES))
        if partition:
            query = query.where(Batch.partition <= partition)
        return s.scalars(query.order_by(Batch.partition.desc())).first()


def product_run(db: Database, product: str, partition: str) -> ProductRun | None:
    with db.session() as s:
        return s.scalar(select(ProductRun).where(ProductRun.product == product,
                                                 ProductRun.partition == partition))


def published_versions(db: Database) -> list[ProductVersion]:
    with db.session() as s:
        return list(s.scalars(select(ProductVersion).order_by(
            ProductVersion.zone, ProductVersion.product, ProductVersion.version)))
