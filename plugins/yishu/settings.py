"""Settings read from the environment: the only module that reads os.environ for Yishu.

Everything else receives a `Settings` (usually inside `yishu.resources.Resources`), so tests
switch settings by passing objects, not by editing the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
_SECRET_PREFIX = "YISHU_KEY_"


@dataclass(frozen=True)
class Settings:
    home: Path  # YISHU_HOME: all runtime state
    catalog_dir: Path  # YISHU_CATALOG: elements.yaml, zones.yaml, sources/, products/
    expectations_dir: Path  # YISHU_EXPECTATIONS: one suite per source
    db_url: str  # YISHU_DB_URL: catalog database (SQLite under home by default)
    repo: Path = REPO_ROOT
    # YISHU_TRUSTED_KEY: the bureau's public key file that `yishu voucher verify` pins
    trusted_key: Path | None = None
    # YISHU_KEY_<NAME>: keys given by the environment, which win over the key files
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    # variables a source's YAML names for its credentials (an API token, a database URL)
    environment: Mapping[str, str] = field(default_factory=dict, repr=False)
    # YISHU_AIRFLOW_DB_URL: Airflow's metadata database (SQLite under airflow_home by default;
    # PostgreSQL for the CeleryExecutor, shared by every component)
    airflow_db_url: str | None = None
    # YISHU_VALIDATE_CHUNK_ROWS: rows of a snapshot validated at a time (memory is one chunk)
    validate_chunk_rows: int = 200_000
    # YISHU_FANOUT_ROWS: a product run with more rows in scope is de-identified in parts of
    # about this many rows, each a mapped task of its own (any worker takes any part)
    fanout_rows: int = 1_000_000

    @property
    def dags_dir(self) -> Path:
        return self.repo / "dags"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def airflow_metadata_url(self) -> str:
        return self.airflow_db_url or f"sqlite:///{self.airflow_home / 'airflow.db'}"

    def secret(self, name: str) -> str | None:
        """A key given in the environment (YISHU_KEY_<NAME>), or None."""
        return self.secrets.get(name.upper())

    def credential(self, variable: str) -> str | None:
        """The value of an environment variable a source names for a credential (the YAML
        holds its name, never the secret), or None when it is not set."""
        return self.environment.get(variable) or None

    def environ(self) -> dict[str, str]:
        """These settings as environment variables (for tasks run by Airflow in-process or
        in worker processes, which build their settings with `load()`)."""
        return {"YISHU_HOME": str(self.home), "YISHU_CATALOG": str(self.catalog_dir),
                "YISHU_EXPECTATIONS": str(self.expectations_dir), "YISHU_DB_URL": self.db_url,
                **({"YISHU_TRUSTED_KEY": str(self.trusted_key)} if self.trusted_key else {}),
                **({"YISHU_AIRFLOW_DB_URL": self.airflow_db_url} if self.airflow_db_url else {}),
                "YISHU_VALIDATE_CHUNK_ROWS": str(self.validate_chunk_rows),
                "YISHU_FANOUT_ROWS": str(self.fanout_rows),
                **{_SECRET_PREFIX + name: value for name, value in self.secrets.items()}}

    @classmethod
    def for_home(cls, home: Path, **overrides) -> Settings:
        """Defaults for a state folder (tests and tools that need no environment)."""
        home = Path(home).resolve()
        values = dict(home=home, catalog_dir=REPO_ROOT / "catalog",
                      expectations_dir=REPO_ROOT / "expectations",
                      db_url=f"sqlite:///{home / 'yishu.db'}")
        return cls(**{**values, **overrides})


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment (os.environ unless given)."""
    env = os.environ if environ is None else environ
    home = Path(env.get("YISHU_HOME", ".yishu")).resolve()
    return Settings(
        home=home,
        catalog_dir=Path(env.get("YISHU_CATALOG", REPO_ROOT / "catalog")).resolve(),
        expectations_dir=Path(env.get("YISHU_EXPECTATIONS", REPO_ROOT / "expectations")).resolve(),
        db_url=env.get("YISHU_DB_URL", f"sqlite:///{home / 'yishu.db'}"),
        repo=REPO_ROOT,
        trusted_key=Path(env["YISHU_TRUSTED_KEY"]) if env.get("YISHU_TRUSTED_KEY") else None,
        secrets={k.removeprefix(_SECRET_PREFIX).upper(): v for k, v in env.items()
                 if k.startswith(_SECRET_PREFIX)},
        environment=dict(env),
        airflow_db_url=env.get("YISHU_AIRFLOW_DB_URL") or None,
        validate_chunk_rows=_rows(env, "YISHU_VALIDATE_CHUNK_ROWS", 200_000),
        fanout_rows=_rows(env, "YISHU_FANOUT_ROWS", 1_000_000),
    )


def _rows(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ValueError(f"{name}={raw!r}: give a whole number of rows, at least 1")
    return int(raw)


def environment_without_airflow() -> dict[str, str]:
    """This process's environment without Airflow's settings: for a child that starts an
    Airflow of its own (`yishu airflow` in the benchmark)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
