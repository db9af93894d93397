"""Airflow plugin: the operator API and the web console inside Airflow's API server, under
/yishu (e.g. /yishu/api/v1/products, /yishu/console/), and the console's three areas in
Airflow's navigation as external views (shown in an iframe of the UI). Airflow does not
authenticate plugin apps: the API checks its own bearer tokens and the console its own
sign-in on every request."""

from airflow.plugins_manager import AirflowPlugin

from yishu.api.app import create_app

PREFIX = "/yishu"


def _view(name: str, area: str) -> dict:
    return {"name": name, "href": f"{PREFIX}/console/{area}/", "destination": "nav",
            "url_route": f"yishu-{area}", "category": "一数 Yishu"}


class YishuPlugin(AirflowPlugin):
    name = "yishu"
    fastapi_apps = [{"app": create_app(inside_airflow=True), "url_prefix": PREFIX,
                     "name": "Yishu operator API and console"}]
    external_views = [_view("数据质量", "steward"), _view("数据产品", "catalog"),
                      _view("授权运营", "admin")]
