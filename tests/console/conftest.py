"""One console world per session: the API tests' published versions and operators (every
licence and token state), staff accounts, and a quarantined health_visits batch."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import build_world
from yishu.access import users
from yishu.api.app import create_app
from yishu.pipeline import batches
from yishu.resources import Resources
from yishu.samples import write_sample
from yishu.settings import Settings
from yishu.sources.collect import collect

PASSWORD = "correct horse battery"
QUARANTINED = ("health_visits", "2026-10-09")


@dataclass
class ConsoleWorld:
    res: Resources
    tokens: dict  # state -> token (tests/api/conftest.py)

    def client(self) -> TestClient:
        return TestClient(create_app(self.res))


@pytest.fixture(scope="session")
def console_world(tmp_path_factory) -> ConsoleWorld:
    res = Resources.from_settings(Settings.for_home(tmp_path_factory.mktemp("console")))
    made = build_world(res).tokens
    for name, role in (("stella", "steward"), ("adam", "admin"), ("dora", "steward")):
        users.add_user(res, name, role, PASSWORD)
    users.disable_user(res, "dora", "left the bureau")
    source, partition = QUARANTINED
    write_sample(res.storage, source, partition, 80, seed=1, dirty=True)
    batch = batches.validate_and_land(res, collect(res.catalog.sources[source], partition,
                                                   settings=res.settings, storage=res.storage))
    assert batch.status == "quarantined"
    return ConsoleWorld(res, made)


def form_csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(client: TestClient, name: str | None = None, password: str = PASSWORD,
            token: str | None = None):
    """Sign in as staff (name) or operator (token); returns the POST response."""
    page = client.get("/console/login")
    csrf = form_csrf(page.text)
    if token is not None:
        return client.post("/console/login/token", data={"token": token, "csrf": csrf},
                           follow_redirects=False)
    return client.post("/console/login", data={"name": name, "password": password,
                                               "csrf": csrf}, follow_redirects=False)


def signed_in(world: ConsoleWorld, role: str) -> TestClient:
    client = world.client()
    who = {"steward": {"name": "stella"}, "admin": {"name": "adam"},
           "operator": {"token": world.tokens["valid"]}}[role]
    response = sign_in(client, **who)
    assert response.status_code == 303, response.text
    return client
