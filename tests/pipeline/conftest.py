"""A state folder with the enterprise registry landed, for tests that publish
`enterprise_statistics` (counts by district and industry: quick to build)."""

import pytest

from yishu.pipeline import batches
from yishu.resources import Resources
from yishu.samples import write_sample
from yishu.settings import Settings
from yishu.sources.collect import collect

ENTERPRISE_PARTITION = "2026-10-05"


@pytest.fixture(scope="session")
def enterprise_partition() -> str:
    return ENTERPRISE_PARTITION


@pytest.fixture(scope="module")
def enterprises(tmp_path_factory) -> Resources:
    res = Resources.from_settings(Settings.for_home(tmp_path_factory.mktemp("enterprises")))
    write_sample(res.storage, "market_enterprise", ENTERPRISE_PARTITION, 400, seed=3,
                 dirty=False)
    collected = collect(res.catalog.sources["market_enterprise"], ENTERPRISE_PARTITION,
                        settings=res.settings, storage=res.storage)
    assert batches.validate_and_land(res, collected).status == "landed"
    return res
