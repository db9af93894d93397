"""Inside Airflow the console lives under the plugin's /yishu mount: its links, static files
and cookie keep that prefix, and the plugin puts its three areas in Airflow's navigation."""

from __future__ import annotations

import importlib.util

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.console.conftest import PASSWORD, form_csrf
from yishu.access import audit
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


@pytest.fixture
def airflow_auth(monkeypatch):
    """Airflow's own SimpleAuthManager as the api-server sets it up, its JWTs real (signed
    with Airflow's secret, with expiry); only the revoked-token lookup, which needs Airflow's
    metadata database, answers 'not revoked'."""
    from airflow.api_fastapi import app as airflow_app
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import (
        SimpleAuthManager,
    )
    from airflow.models.revoked_token import RevokedToken

    manager = SimpleAuthManager()
    monkeypatch.setattr(airflow_app._AuthManagerState, "instance", manager)
    monkeypatch.setattr(RevokedToken, "is_revoked", classmethod(lambda cls, jti: False))
    return manager


def _airflow_jwt(manager, name: str, **kwargs) -> str:
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return manager.generate_jwt(SimpleAuthManagerUser(username=name, role="ADMIN"), **kwargs)


def _airflow_sign_in(client, jwt: str | None):
    login = client.get("/yishu/console/login")
    assert 'id="airflow-signin"' in login.text
    if jwt:
        client.cookies.set("_token", jwt)
    return client.post("/yishu/console/login/airflow", data={"csrf": form_csrf(login.text)},
                       follow_redirects=False)


def test_airflow_users_sign_in_with_their_console_account_role(console_world, airflow_auth):
    airflow = FastAPI()
    airflow.mount("/yishu", create_app(console_world.res, inside_airflow=True))
    client = TestClient(airflow)
    response = _airflow_sign_in(client, _airflow_jwt(airflow_auth, "stella"))
    assert response.status_code == 303
    assert response.headers["location"] == "/yishu/console/steward/"
    assert client.get("/yishu/console/steward/").status_code == 200
    assert client.get("/yishu/console/admin/").status_code == 403  # the account's role
    entry = [e for e in audit.entries(console_world.res.db) if e.action == "console.signin"][-1]
    assert (entry.actor, entry.detail["via"]) == ("steward:stella", "airflow")


@pytest.mark.parametrize("case", ["no cookie", "forged", "expired", "no account",
                                  "disabled account"])
def test_airflow_sign_in_fails_closed(console_world, airflow_auth, case):
    airflow = FastAPI()
    airflow.mount("/yishu", create_app(console_world.res, inside_airflow=True))
    client = TestClient(airflow)
    jwt = {"no cookie": None,
           "forged": _airflow_jwt(airflow_auth, "adam")[:-4] + "AAAA",
           "expired": _airflow_jwt(airflow_auth, "adam", expiration_time_in_seconds=-60),
           "no account": _airflow_jwt(airflow_auth, "airflow.only"),
           "disabled account": _airflow_jwt(airflow_auth, "dora")}[case]
    response = _airflow_sign_in(client, jwt)
    assert response.status_code == 401 and "yishu_console" not in response.cookies
    assert client.get("/yishu/console/admin/", follow_redirects=False).status_code == 303


def test_outside_airflow_the_airflow_sign_in_is_off(console_world, airflow_auth):
    client = console_world.client()
    login = client.get("/console/login")
    assert 'id="airflow-signin"' not in login.text
    client.cookies.set("_token", _airflow_jwt(airflow_auth, "adam"))
    response = client.post("/console/login/airflow", data={"csrf": form_csrf(login.text)},
                           follow_redirects=False)
    assert response.status_code == 401
