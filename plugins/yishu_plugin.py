"""Airflow plugin: the operator API inside Airflow's API server, under /yishu (e.g.
/yishu/api/v1/products). Airflow does not authenticate plugin apps: the API checks its own
bearer tokens on every request."""

from airflow.plugins_manager import AirflowPlugin

from yishu.api.app import create_app


class YishuPlugin(AirflowPlugin):
    name = "yishu"
    fastapi_apps = [{"app": create_app(), "url_prefix": "/yishu", "name": "Yishu operator API"}]
