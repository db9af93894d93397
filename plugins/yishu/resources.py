"""The resources a stage or command works with, passed in rather than fetched (like Dagster
resources): settings, the catalog as code, storage, the catalog database and the keys.

    res = Resources.from_settings(settings.load())      # the CLI and Airflow tasks, once
    products.build(res, "insurance_visits", "2026-11-01")

Tests build their own (`Resources.from_settings(Settings.for_home(tmp))`) or swap the catalog
with `res.with_catalog(cat)`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from yishu.db.database import Database
from yishu.definitions import Catalog, load_catalog
from yishu.keys import Keys
from yishu.settings import Settings
from yishu.storage import Storage


@dataclass(frozen=True)
class Resources:
    settings: Settings
    storage: Storage
    db: Database
    keys: Keys
    # loaded on first use: commands that need no catalog work even when it is broken
    _catalog: list = field(default_factory=list, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, catalog: Catalog | None = None) -> Resources:
        storage = Storage(settings.home)
        return cls(settings, storage, Database(settings.db_url, storage.ensure_home),
                   Keys(settings, storage),
                   [catalog] if catalog else [])

    @property
    def catalog(self) -> Catalog:
        if not self._catalog:
            self._catalog.append(load_catalog(self.settings.catalog_dir))
        return self._catalog[0]

    def with_catalog(self, catalog: Catalog) -> Resources:
        """The same resources with another catalog (tests that change a product or zone)."""
        return dataclasses.replace(self, _catalog=[catalog])
