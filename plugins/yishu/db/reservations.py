"""Version numbers of a product, taken in the database before any file is written.

Two runs computing "the highest version + 1" at the same time would write the same `v<N>`; a
reservation row under a unique (product, version) constraint gives each number to one set of
inputs. Runs with the same inputs (fingerprint) share a reservation: whichever publishes first
wins, the other finds the version published and reports "unchanged". Reservations are kept
after publishing: were one deleted, a run that read the numbers just before could take the
same number again, as nothing else is unique against it.
"""

from __future__ import annotations

from sqlalchemy import func, select, union_all
from sqlalchemy.exc import IntegrityError

from yishu.db.database import Database
from yishu.db.models import ProductVersion, VersionReservation

ATTEMPTS = 20


def reserve_version(db: Database, product: str, fingerprint: str, run_id: str) -> int:
    """The version number these inputs publish under: their reservation if one exists (a retry,
    or a run with the same inputs), else the next free number."""
    for _attempt in range(ATTEMPTS):
        with db.session() as s:
            held = s.scalar(select(VersionReservation.version).where(
                VersionReservation.product == product,
                VersionReservation.fingerprint == fingerprint))
            if held is not None:
                return held
            top = s.scalar(_highest(product)) or 0
            s.add(VersionReservation(product=product, version=top + 1,
                                     fingerprint=fingerprint, run_id=run_id))
            try:
                s.commit()
                return top + 1
            except IntegrityError:  # another run took this number (or these inputs): re-read
                s.rollback()
    raise RuntimeError(f"could not reserve a version of {product} after {ATTEMPTS} attempts "
                       "(too many concurrent runs): run it again")


def _highest(product: str):
    """The highest number published (before reservations existed too) or reserved."""
    numbers = union_all(
        select(ProductVersion.version.label("n")).where(ProductVersion.product == product),
        select(VersionReservation.version.label("n"))
        .where(VersionReservation.product == product)).subquery()
    return select(func.max(numbers.c.n))
