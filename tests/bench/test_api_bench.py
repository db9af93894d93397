"""`python -m yishu.bench.api` runs end to end on a small product (not a timed test): every
phase serves requests, and the audit log has one entry per request and verifies."""

from yishu.bench import api as bench


def test_api_benchmark_reports_every_phase_and_checks_the_audit_log(capsys):
    bench.main(["--rows", "2000", "--clients", "2", "--seconds", "1", "--workers", "1"])
    lines = capsys.readouterr().out.splitlines()
    phases = [line for line in lines if "req/s" in line]
    assert [line.split("  ")[0].strip() for line in phases] == [
        "list products", "download parquet", "download csv"]
    assert not any("FAILED" in line for line in phases)
    assert all(int(line.split()[2]) > 0 for line in phases)  # requests made in each phase
    assert "chain and signed head verified" in lines[-1]
