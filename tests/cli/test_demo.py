"""The demo goes on when a source's file is missing, and says so."""

import io

from rich.console import Console

from yishu.cli import demo
from yishu.resources import Resources
from yishu.settings import Settings

PARTITION = "2026-10-15"  # a partition of its own: the session's other tests never use it


def test_a_missing_source_file_is_one_clear_line_and_the_demo_goes_on(res, catalog_copy):
    spec = catalog_copy / "catalog" / "sources" / "ev_stations.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        "samples/urbanev/inf_raw.csv", "samples/urbanev/missing.csv"), encoding="utf-8")
    settings = Settings.for_home(res.settings.home, catalog_dir=catalog_copy / "catalog",
                                 expectations_dir=catalog_copy / "expectations")
    out = io.StringIO()
    console = Console(file=out, width=200)

    failed = demo._collect(console, Resources.from_settings(settings),
                           ["ev_stations", "futian_weather"], PARTITION)

    assert list(failed) == ["ev_stations"]
    assert failed["ev_stations"].startswith("source file ")
    assert "samples/urbanev/missing.csv not found: deliver it" in failed["ev_stations"]
    lines = out.getvalue().splitlines()
    assert any("collect__ev_stations" in line and "failed" in line and "not found" in line
               for line in lines)
    assert any("collect__futian_weather" in line and "landed" in line for line in lines)
    assert "Traceback" not in out.getvalue()


def test_yishu_run_of_a_missing_file_ends_in_one_line(res, catalog_copy):
    from typer.testing import CliRunner

    from yishu.cli import app

    spec = catalog_copy / "catalog" / "sources" / "ev_stations.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        "samples/urbanev/inf_raw.csv", "samples/urbanev/missing.csv"), encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "ev_stations", "--partition", PARTITION])
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("error: source file ") and "missing.csv not found" in last
    assert "Traceback" not in result.output


def test_the_demo_collects_from_files_a_sql_database_and_an_http_api(res, tmp_path,
                                                                      monkeypatch):
    """The demo's samples in a state folder of the test's own: the registry from a file, the
    power company's bills from its SQLite database, the charging stations from the local API
    the demo serves (on a free port, only while collecting)."""
    from yishu import settings as yishu_settings
    from yishu.airflow import runner
    from yishu.db.queries import get_batch

    runner.prepare(res.settings)  # Airflow's own state stays the session's
    own = Settings.for_home(tmp_path / "home")
    for key, value in own.environ().items():  # what the tasks build their settings from
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("TRANSPORT_CHARGERS_URL", raising=False)
    mine = Resources.from_settings(yishu_settings.load())
    out = io.StringIO()
    console = Console(file=out, width=200)

    demo._samples(console, mine, 200, PARTITION)
    with demo._open_data_api(mine) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/api/v1/chargers")
        failed = demo._collect(console, mine, ["market_enterprise", "power_usage",
                                               "transport_chargers"], PARTITION)

    assert failed == {}, out.getvalue()
    landed = {name: get_batch(mine.db, name, PARTITION) for name in
              ("market_enterprise", "power_usage", "transport_chargers")}
    assert {b.status for b in landed.values()} == {"landed"}
    from yishu.samples import power, sample_rows

    assert landed["power_usage"].rows == power.power_usage(
        sample_rows("market_enterprise", 200), seed=7, partition=PARTITION).num_rows
    assert landed["transport_chargers"].rows == 1587
    text = out.getvalue()
    assert "department.sqlite" in text and "local paginated JSON API" in text
    assert "Traceback" not in text
    assert yishu_settings.load().credential("TRANSPORT_CHARGERS_URL") is None  # stopped



def test_yishu_run_of_the_api_source_without_its_url_says_which_variable(res, monkeypatch):
    from typer.testing import CliRunner

    from yishu.cli import app

    monkeypatch.delenv("TRANSPORT_CHARGERS_URL", raising=False)
    result = CliRunner().invoke(app, ["run", "transport_chargers", "--partition", PARTITION])
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.endswith("http.url_env: the environment variable TRANSPORT_CHARGERS_URL is "
                         "not set: set it to the API's URL"), result.output
    assert "Traceback" not in result.output
