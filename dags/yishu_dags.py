"""Every Yishu DAG, generated from catalog/: collect__<source> and publish__<product>."""

from yishu.airflow.factory import build_dags

globals().update(build_dags())
