"""A publish killed with SIGKILL at each step leaves the whole version or none, and a database
consistent with it and with the audit log; the next run then publishes and the log verifies."""

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from yishu.access import integrity
from yishu.db.queries import published_versions
from yishu.pipeline import products as stages
from yishu.pipeline.voucher import verify as verify_voucher

PRODUCT = "enterprise_statistics"

# Runs `publish` in a child process that kills itself at one step (what a lost worker does).
CHILD = r"""
import json, os, signal, sys
from pathlib import Path

from yishu.access import checkpoint
from yishu.db import reservations
from yishu.pipeline import products, publication
from yishu.pipeline.refs import ProductRef
from yishu.resources import Resources
from yishu.settings import Settings

home, ref_file, point = sys.argv[1:4]


def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


def then_die(step):
    def wrapped(*args, **kwargs):
        step(*args, **kwargs)
        die()
    return wrapped


if point == "reserved":  # the number is taken, nothing written
    reservations.reserve_version = then_die(reservations.reserve_version)
elif point == "writing":  # data files written, the voucher not yet
    products.sign = die
elif point == "staged":  # the staging folder complete and flushed
    publication.flush = then_die(publication.flush)
elif point == "moved":  # the folder in place, the transaction not committed
    publication.move_into_place = then_die(publication.move_into_place)
elif point == "committed":  # version and entry committed, the head not yet signed
    checkpoint.write = die
res = Resources.from_settings(Settings.for_home(Path(home)))
products.publish(res, ProductRef.from_dict(json.loads(Path(ref_file).read_text())))
sys.exit(3)  # not killed: the step was never reached
"""
POINTS = ("reserved", "writing", "staged", "moved", "committed")


@pytest.fixture(scope="module")
def risk_checked(enterprises, enterprise_partition):
    ref = stages.build(enterprises, PRODUCT, enterprise_partition)
    ref = stages.check_risk(enterprises, stages.deidentify(enterprises, ref))
    assert ref.blocked is None
    return ref


def _consistent(res) -> dict[Path, int]:
    """Every visible version folder is whole (its voucher verifies every file) and matches its
    row if it has one; every row has its folder; the audit log verifies."""
    rows = {Path(v.path): v for v in published_versions(res.db) if v.product == PRODUCT}
    folder = res.settings.home / "products" / "open" / PRODUCT
    visible = [p for p in folder.glob("*") if not p.name.startswith(".")]
    for version in visible:
        assert re.fullmatch(r"v\d+", version.name), version
        voucher = json.loads((version / "voucher.json").read_text(encoding="utf-8"))
        assert verify_voucher(voucher, res.keys.public_key_pem(), version) == [], version
        if version in rows:
            assert rows[version].voucher == voucher
    assert set(rows) <= set(visible)
    assert integrity.verify(res) == []
    return {p: rows[p].version for p in rows}


@pytest.mark.parametrize("point", POINTS)
def test_a_killed_publish_leaves_all_or_nothing_and_the_rerun_publishes(
        enterprises, risk_checked, point, tmp_path):
    res = enterprises
    ref = risk_checked.but(policy_sha256=f"policy-{point}",  # new inputs: a new version
                           run_id=stages.new_run_id("killed"))
    ref_file = tmp_path / "ref.json"
    ref_file.write_text(json.dumps(ref.to_dict()), encoding="utf-8")
    before = _consistent(res)
    child = subprocess.run([sys.executable, "-c", CHILD, str(res.settings.home),
                            str(ref_file), point], capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    after = _consistent(res)
    assert len(after) == len(before) + (point == "committed")

    again = stages.publish(res, ref.but(run_id=stages.new_run_id("rerun")))
    assert again.blocked is None and again.unchanged == (point == "committed")
    published = _consistent(res)
    assert again.version in published.values() and len(published) == len(before) + 1
    assert again.version == max(published.values())  # the killed run's number is reused
