"""Settings read from the environment: the only module that reads os.environ for Yishu."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    home: Path  # YISHU_HOME: all runtime state
    catalog_dir: Path  # YISHU_CATALOG: elements.yaml, zones.yaml, sources/, products/
    expectations_dir: Path  # YISHU_EXPECTATIONS: one suite per source
    db_url: str  # YISHU_DB_URL: catalog database (SQLite under home by default)
    repo: Path

    @property
    def dags_dir(self) -> Path:
        return self.repo / "dags"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"


def load() -> Settings:
    home = Path(os.environ.get("YISHU_HOME", ".yishu")).resolve()
    return Settings(
        home=home,
        catalog_dir=Path(os.environ.get("YISHU_CATALOG", REPO_ROOT / "catalog")).resolve(),
        expectations_dir=Path(
            os.environ.get("YISHU_EXPECTATIONS", REPO_ROOT / "expectations")
        ).resolve(),
        db_url=os.environ.get("YISHU_DB_URL", f"sqlite:///{home / 'yishu.db'}"),
        repo=REPO_ROOT,
    )


def secret_from_env(name: str) -> str | None:
    """A key given in the environment (YISHU_KEY_<NAME>), which wins over the key file."""
    return os.environ.get(f"YISHU_KEY_{name.upper()}")
