"""Inside Airflow the console lives under the plugin's /yishu mount: its links, static files
and cookie keep that prefix, and the plugin puts its three areas in Airflow's navigation."""

from __future__ import annotations

import importlib.util

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.console.conftest import PASSWORD, form_csrf
from yishu.api.app import create_app
from yishu.settings import REPO_ROOT


def test_plugin_declares_the_three_nav_entries():
    spec = importlib.util.spec_from_file_location("yishu_plugin",
                                                  REPO_ROOT / "plugins" / "yishu_plugin.py")
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    views = {v["name"]: v for v in plugin.YishuPlugin.external_views}
    assert set(views) == {"数据质量", "数据产品", "授权运营"}
    assert views["数据质量"]["href"] == "/yishu/console/steward/"
    assert all(v["destination"] == "nav" and v["url_route"] for v in views.values())
    from airflow.api_fastapi.core_api.datamodels.plugins import ExternalViewResponse

    for view in views.values():  # the shape Airflow's plugins endpoint serves
        ExternalViewResponse(**view)
    assert plugin.YishuPlugin.fastapi_apps[0]["url_prefix"] == "/yishu"


def test_console_under_the_mount_prefix(console_world):
    airflow = FastAPI()
    airflow.mount("/yishu", create_app(console_world.res))
    client = TestClient(airflow)
    login = client.get("/yishu/console/login")
    assert login.status_code == 200
    assert 'href="/yishu/console/static/console.css"' in login.text
    assert 'action="/yishu/console/login"' in login.text
    assert client.get("/yishu/console/static/console.css").status_code == 200
    response = client.post("/yishu/console/login", data={
        "name": "adam", "password": PASSWORD, "csrf": form_csrf(login.text)},
        follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/yishu/console/admin/"
    assert "Path=/yishu/console" in response.headers["set-cookie"]
    page = client.get("/yishu/console/admin/")
    assert page.status_code == 200 and 'href="/yishu/console/admin/licences"' in page.text
    assert client.get("/yishu/console/steward/").status_code == 403
