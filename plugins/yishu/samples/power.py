"""power_usage (深圳供电局): monthly electricity bills of the registry's enterprises, kept in the
department's own SQL database (a SQLite file in the demo, read by the `sql` connector).

The bills reference enterprises by USCC, the registry's key, for the twelve months before the
partition's month; most enterprises of the registry (``generate("market_enterprise", ...)``
with the same rows and seed) have an account. The department also keeps a customer name, a
copy of the registry's enterprise name: a planted share of old names is what the
cross-source consistency check finds. Same arguments, same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

import numpy as np
import pyarrow as pa

from yishu.samples.generator import generate

COLUMNS = ["bill_id", "account_no", "uscc", "customer_name", "billing_month", "kwh", "fee",
           "payment_status"]
TABLE = "power_usage"
MONTHS = 12
MAX_ENTERPRISES = 50_000  # the bills of at most this many (600,000 rows): a sample, quickly
ACCOUNT_SHARE = 0.85  # enterprises with an electricity account of their own
OLD_NAME_SHARE = 0.005  # customer names the department never updated after a renaming
TARIFF = 0.68  # yuan per kWh, general commerce and industry (示例)
# median monthly kWh by GB/T 4754 section: factories and data centres use most
_MEDIAN_KWH = {"C": 60_000, "D": 150_000, "I": 40_000, "B": 30_000, "F": 8_000, "E": 20_000,
               "Q": 250_000}
_STATUS = (["按期缴清", "逾期缴清", "欠费"], [0.94, 0.05, 0.01])


def months_before(partition: str, count: int = MONTHS) -> list[str]:
    """The `count` billing months (YYYY-MM) before the partition's month, oldest first."""
    day = dt.date.fromisoformat(partition)
    index = day.year * 12 + day.month - 1
    return [f"{(i // 12):04d}-{(i % 12) + 1:02d}" for i in range(index - count, index)]


def power_usage(enterprise_rows: int, *, seed: int = 7, partition: str = "2026-11-01") -> pa.Table:
    """The bills (text and numbers, one row per account and month) of the enterprises of
    ``generate("market_enterprise", enterprise_rows, seed=seed, partition=partition)`` (of
    its first MAX_ENTERPRISES)."""
    registry = generate("market_enterprise", min(enterprise_rows, MAX_ENTERPRISES), seed=seed,
                        partition=partition, dirty=False)  # dirt never shifts USCCs or names
    rng = np.random.default_rng([seed, 4])
    n = registry.num_rows
    has_account = np.flatnonzero(rng.random(n) < ACCOUNT_SHARE)
    uscc = np.array(registry.column("uscc").to_pylist(), dtype=object)[has_account]
    names = np.array(registry.column("enterprise_name").to_pylist(), dtype=object)[has_account]
    industry = [i or "" for i in registry.column("industry").to_pylist()]
    median = np.array([_MEDIAN_KWH.get(industry[i], 3_000) for i in has_account], float)
    accounts = len(has_account)
    old = rng.random(accounts) < OLD_NAME_SHARE
    names = np.where(old, [_old_name(str(v)) for v in names], names)
    scale = median * rng.lognormal(0, 0.8, accounts)  # each account's own level
    lateness = rng.beta(1, 12, accounts)  # how often an account pays late

    numbers = np.char.zfill((np.arange(accounts) + 1).astype(str), 6)
    parts = []
    for month in months_before(partition):
        summer = 1 + 0.3 * np.sin((int(month[5:]) - 4) / 12 * 2 * np.pi)  # air conditioning
        kwh = np.round(scale * summer * rng.lognormal(0, 0.15, accounts), 1)
        late = rng.random(accounts)
        status = np.where(late < lateness * 0.2, "欠费",
                          np.where(late < lateness, "逾期缴清", "按期缴清"))
        parts.append(pa.table({
            "bill_id": np.char.add(np.char.add("PB", numbers), month.replace("-", "")),
            "account_no": np.char.add("0755", numbers), "uscc": pa.array(uscc, pa.string()),
            "customer_name": pa.array(names, pa.string()),
            "billing_month": pa.array([month] * accounts, pa.string()),
            "kwh": kwh, "fee": np.round(kwh * TARIFF, 2), "payment_status": status}))
    return pa.concat_tables(parts) if parts else pa.table({c: [] for c in COLUMNS})


def _old_name(name: str) -> str:
    return name.replace("有限公司", "实业有限公司") if "有限公司" in name else f"{name}（原名）"


def write_database(path: Path, enterprise_rows: int, *, seed: int = 7,
                   partition: str = "2026-11-01") -> Path:
    """Write the department's database (one table, `power_usage`) to `path`, whole: built
    under a temporary name and renamed, so a reader never sees half of it."""
    table = power_usage(enterprise_rows, seed=seed, partition=partition)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        with sqlite3.connect(tmp) as db:
            db.execute(f"CREATE TABLE {TABLE} (bill_id TEXT PRIMARY KEY, account_no TEXT, "
                       "uscc TEXT, customer_name TEXT, billing_month TEXT, kwh REAL, fee REAL, "
                       "payment_status TEXT)")
            db.executemany(f"INSERT INTO {TABLE} VALUES ({', '.join('?' * len(COLUMNS))})",
                           zip(*(table.column(c).to_pylist() for c in COLUMNS), strict=True))
        db.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
