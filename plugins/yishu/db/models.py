"""Tables of the catalog database (SQLAlchemy 2): batches, product versions, their reservations
and runs, audit log; operators, their licences, tokens and deliveries.

The schema is managed by the Alembic migrations in migrations/ (see database.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# A batch products may read: validated, or released by a steward.
USABLE_STATUSES = ("landed", "released")


class Base(DeclarativeBase):
    pass


class Batch(Base):
    """One partition of one source: its raw snapshot and what validation decided."""

    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("source", "partition"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    partition: Mapped[str] = mapped_column(String(40))
    snapshot_sha256: Mapped[str] = mapped_column(String(64))
    raw_path: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    # collected -> landed | quarantined -> released | rejected
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    quality_score: Mapped[float | None] = mapped_column(Float)
    quality_grade: Mapped[str | None] = mapped_column(String(1))
    validation_path: Mapped[str | None] = mapped_column(Text)
    review_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now,
                                                    onupdate=_now)

    @property
    def usable(self) -> bool:
        return self.status in USABLE_STATUSES


class ProductVersion(Base):
    """An immutable, published version of a product in a zone."""

    __tablename__ = "product_versions"
    __table_args__ = (UniqueConstraint("product", "version"),
                      UniqueConstraint("product", "fingerprint"))

    id: Mapped[int] = mapped_column(primary_key=True)
    product: Mapped[str] = mapped_column(String(100), index=True)
    zone: Mapped[str] = mapped_column(String(50))
    version: Mapped[int] = mapped_column(Integer)
    partition: Mapped[str] = mapped_column(String(40))
    rows: Mapped[int] = mapped_column(Integer)
    security_level: Mapped[str] = mapped_column(String(4))
    quality_grade: Mapped[str | None] = mapped_column(String(1))
    # hash of the input snapshots + policy: the same inputs never publish twice
    fingerprint: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)
    voucher: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    # withdrawn (撤回): no longer delivered, listed in the signed revocation list
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)


class VersionReservation(Base):
    """A version number taken before its files are written, so two runs never write the same
    `v<N>`. Runs with the same inputs (fingerprint) share one reservation. Kept once published:
    the unique constraint must hold against every number ever handed out."""

    __tablename__ = "version_reservations"
    __table_args__ = (UniqueConstraint("product", "version"),
                      UniqueConstraint("product", "fingerprint"))

    id: Mapped[int] = mapped_column(primary_key=True)
    product: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ProductRun(Base):
    """The last attempt to build a product for a partition, published or stopped, and why."""

    __tablename__ = "product_runs"
    __table_args__ = (UniqueConstraint("product", "partition"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product: Mapped[str] = mapped_column(String(100))
    partition: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # published | unchanged | blocked
    reason: Mapped[str | None] = mapped_column(Text)
    report_path: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now,
                                                    onupdate=_now)


class AuditEntry(Base):
    """One entry of the append-only, hash-chained audit log (see yishu.access.audit)."""

    __tablename__ = "audit_log"
    # one successor per entry: two writers that read the same head cannot both extend it
    __table_args__ = (UniqueConstraint("prev_hash", name="uq_audit_log_prev_hash"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The one row every audit writer updates first: it serializes writers (a row lock on
    PostgreSQL, the write lock on SQLite) and remembers the head the database last wrote, which
    tells a cut tail (the database knew a longer log) from a database swapped for an older copy."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str | None] = mapped_column(String(64))


class Operator(Base):
    """A licensed operator (授权运营单位): a legal entity identified by its USCC."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    contact: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | disabled
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Licence(Base):
    """What one operator may receive: the products of one scenario (its zone), up to a
    security level, until a date, within monthly quotas."""

    __tablename__ = "licences"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    scenario: Mapped[str] = mapped_column(String(100))
    zone: Mapped[str] = mapped_column(String(50))
    max_level: Mapped[str] = mapped_column(String(4))
    valid_until: Mapped[dt.date] = mapped_column(Date)
    quota_rows: Mapped[int | None] = mapped_column(Integer)  # per calendar month
    quota_downloads: Mapped[int | None] = mapped_column(Integer)  # per calendar month
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | revoked
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Token(Base):
    """A bearer token bound to one licence. Only the SHA-256 of the token is kept: the token
    itself is shown once, when issued."""

    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # public part of the token
    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Delivery(Base):
    """One product file served to an operator (metering, 可计量): counted against the
    licence's monthly quotas when it is served."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    operator: Mapped[str] = mapped_column(String(100))
    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id"), index=True)
    scenario: Mapped[str] = mapped_column(String(100))
    product: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(20))
    rows: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    audit_seq: Mapped[int] = mapped_column(Integer)  # the audit entry written with it


class SourceWatermark(Base):
    """How far an incremental source was read for one partition: rows with a watermark above
    `low` and up to `high` (JSON-typed values). A rerun of the partition reads the same range;
    a new partition starts above the highest `high` before it."""

    __tablename__ = "source_watermarks"
    __table_args__ = (UniqueConstraint("source", "partition"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    partition: Mapped[str] = mapped_column(String(10))
    low: Mapped[str | None] = mapped_column(Text, nullable=True)
    high: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ConsoleUser(Base):
    """A member of the bureau's staff who signs in to the web console with a password
    (stewards and administrators; operators sign in with their licence token)."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # steward | admin
    password_hash: Mapped[str] = mapped_column(Text)  # scrypt, see access/users.py
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | disabled
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
