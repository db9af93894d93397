"""A release names the snapshot the steward reviewed and is refused after a redelivery."""

import pytest
from typer.testing import CliRunner

from yishu.cli import app
from yishu.db.queries import get_batch
from yishu.pipeline import batches
from yishu.samples import write_sample
from yishu.sources.collect import collect

PARTITION = "2026-10-09"


def _deliver(res, seed):
    write_sample(res.storage, "health_visits", PARTITION, 80, seed=seed, dirty=True)
    return batches.validate_and_land(res, collect(res.catalog.sources["health_visits"],
                                                  PARTITION, settings=res.settings,
                                                  storage=res.storage))


def test_release_is_tied_to_the_reviewed_snapshot(fresh_res):
    res, runner = fresh_res, CliRunner()
    seen = _deliver(res, seed=1)
    assert seen.status == "quarantined"
    shown = runner.invoke(app, ["quarantine", "show", "health_visits", PARTITION], obj=res)
    assert f"--snapshot {seen.snapshot_sha256[:12]}" in shown.output
    redelivered = _deliver(res, seed=2)  # the provider sends the partition again
    assert redelivered.status == "quarantined"
    assert redelivered.snapshot_sha256 != seen.snapshot_sha256
    with pytest.raises(ValueError, match="redelivered since"):
        batches.review(res, "health_visits", PARTITION, "released", "ok",
                       seen.snapshot_sha256[:12])
    with pytest.raises(ValueError, match="name the snapshot you reviewed"):
        batches.review(res, "health_visits", PARTITION, "released", "ok")
    with pytest.raises(ValueError, match="at least 8 hex digits"):
        batches.review(res, "health_visits", PARTITION, "released", "ok", "abc")
    refused = runner.invoke(app, ["quarantine", "release", "health_visits", PARTITION,
                                  "--snapshot", seen.snapshot_sha256[:12], "--reason", "ok"],
                            obj=res)
    assert refused.exit_code == 1 and "redelivered since" in refused.output
    assert "Traceback" not in refused.output
    assert get_batch(res.db, "health_visits", PARTITION).status == "quarantined"
    done = runner.invoke(app, ["quarantine", "release", "health_visits", PARTITION,
                               "--snapshot", redelivered.snapshot_sha256[:8].upper(),
                               "--reason", "checked the new delivery"], obj=res)
    assert done.exit_code == 0, done.output
    assert get_batch(res.db, "health_visits", PARTITION).status == "released"
