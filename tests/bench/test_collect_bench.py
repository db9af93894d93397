"""`python -m yishu.bench.collect` runs end to end on a small sample."""

from yishu.bench import collect as bench


def test_collect_benchmark_reports_both_connectors(capsys):
    bench.main(["--rows", "3000"])
    lines = capsys.readouterr().out.splitlines()
    measured = [line for line in lines if "rows/s" in line]
    assert len(measured) == 2 and all(" 3,000 rows" in line for line in measured)
    assert "problem" not in " ".join(measured)
