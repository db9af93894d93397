"""Each role's main flow in real Chromium, in order on one world: a steward releases a
quarantined batch with a reason and sees the product published after the next run; an
administrator grants a licence and issues a token; the operator signs in with it, downloads
a version and sees the usage go up; the administrator finds that delivery in the audit log
and verifies the chain; and no role opens another role's pages. Screenshots of each main page
go to .yishu/screenshots/ (or YISHU_SCREENSHOTS), never committed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from tests.console.browser import ARGS, CHROMIUM, LiveServer, screenshots_dir
from tests.console.test_console_auth import ROUTES
from yishu.access import audit, licences, users
from yishu.db.queries import get_batch
from yishu.pipeline import batches
from yishu.pipeline import products as stages
from yishu.resources import Resources
from yishu.samples import write_sample
from yishu.settings import Settings
from yishu.sources.collect import collect

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium "
                                "(make system-packages)")

PASSWORD = "correct horse battery"
SOURCE, PARTITION, PRODUCT = "health_visits", "2026-11-01", "insurance_visits"
OPERATOR = "平安健康保险测试公司"
STATE: dict = {}  # what one step hands to the next (the flow is one story, in file order)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    res = Resources.from_settings(Settings.for_home(tmp_path_factory.mktemp("browser")))
    res.keys.signing_key()
    users.add_user(res, "stella", "steward", PASSWORD)
    users.add_user(res, "adam", "admin", PASSWORD)
    licences.add_operator(res, OPERATOR, "91440300MA5F000007", "理赔部 张经理")
    earlier = "2026-10-25"  # a landed partition before, so the trend has a line to draw
    write_sample(res.storage, SOURCE, earlier, 1000, seed=5, dirty=False)
    assert batches.validate_and_land(res, collect(res.catalog.sources[SOURCE], earlier,
                                                  settings=res.settings,
                                                  storage=res.storage)).status == "landed"
    write_sample(res.storage, SOURCE, PARTITION, 1000, seed=7, dirty=True)
    batch = batches.validate_and_land(res, collect(res.catalog.sources[SOURCE], PARTITION,
                                                   settings=res.settings, storage=res.storage))
    assert batch.status == "quarantined"
    with LiveServer(res) as url, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield res, url, browser
        browser.close()


def _page(browser, url, width=1280, height=800):
    context = browser.new_context(viewport={"width": width, "height": height},
                                  accept_downloads=True, base_url=url)
    return context.new_page()


def _shot(page, name: str, full: bool = True) -> None:
    page.screenshot(path=str(screenshots_dir() / f"{name}.png"), full_page=full)


def _staff(browser, url, name, **size):
    page = _page(browser, url, **size)
    page.goto("/console/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("#staff-signin")
    return page


def _operator(browser, url, token, **size):
    page = _page(browser, url, **size)
    page.goto("/console/login")
    page.fill("input[name=token]", token)
    page.click("#token-signin")
    return page


def test_steward_releases_a_batch_and_sees_the_product_published(live):
    res, url, browser = live
    page = _page(browser, url)
    page.goto("/console/login")
    _shot(page, "00_login")
    page.fill("input[name=name]", "stella")
    page.fill("input[name=password]", PASSWORD)
    page.click("#staff-signin")
    assert page.url.endswith("/console/steward/")
    queue = page.locator("#queue")
    assert SOURCE in queue.inner_text() and "be_valid_cn_resident_id" in queue.inner_text()
    _shot(page, "10_steward_queue")
    page.click(f"a[href$='/steward/batch/{SOURCE}/{PARTITION}']")
    failed = page.locator("#failed").inner_text()
    assert "patient_resident_id" in failed
    snapshot = get_batch(res.db, SOURCE, PARTITION).snapshot_sha256
    assert page.locator("#snapshot").inner_text() == snapshot[:12]
    _shot(page, "11_steward_batch")
    # the form cannot be sent without a reason (the browser's own check, then the server's)
    page.click("#release-form button")
    assert get_batch(res.db, SOURCE, PARTITION).status == "quarantined"
    page.fill("#release-form textarea", "前台录入的校验位错误，下游已假名化，准予放行")
    page.click("#release-form button")
    assert "released" in page.locator(".flash.ok").inner_text()
    assert page.locator("#batch-status").inner_text() == "released"
    entry = audit.entries(res.db)[-1]
    assert (entry.action, entry.actor) == ("batch.release", "steward:stella")
    assert entry.detail["snapshot_sha256"] == snapshot
    assert page.locator("#products .product-version").first.inner_text() == "—"
    # the next run of the product reads the released batch
    ref = stages.build(res, PRODUCT, PARTITION)
    ref = stages.publish(res, stages.check_risk(res, stages.deidentify(res, ref)))
    assert ref.version == 1, ref.blocked
    page.reload()
    assert page.locator("#products .product-version").first.inner_text() == "v1"
    page.goto("/console/steward/trends")
    # score and six indicators, each a line over the two partitions
    assert page.locator(f"#trend-{SOURCE} svg.chart polyline").count() == 7
    assert page.locator(f"#trend-{SOURCE} svg.chart circle").count() == 14
    _shot(page, "12_steward_trends")
    page.goto("/console/catalog/")
    assert "v1" in page.locator("#zone-insurance").inner_text()
    _shot(page, "13_catalog")
    page.goto(f"/console/catalog/{PRODUCT}/v1")
    assert "签名有效" in page.locator("#voucher-result").inner_text()
    assert page.locator("#deid tr").count() > 3 and SOURCE in page.locator("#lineage").inner_text()
    _shot(page, "14_catalog_version")
    narrow = _staff(browser, url, "stella", width=390, height=844)
    narrow.goto(f"/console/steward/batch/{SOURCE}/{PARTITION}")
    _shot(narrow, "15_steward_batch_narrow")


def test_admin_grants_a_licence_and_issues_a_token(live):
    res, url, browser = live
    page = _staff(browser, url, "adam")
    assert page.url.endswith("/console/admin/")
    assert OPERATOR in page.locator("#operators").inner_text()
    _shot(page, "20_admin_operators")
    page.goto("/console/admin/licences")
    page.select_option("#licence-grant select[name=operator]", OPERATOR)
    page.select_option("#licence-grant select[name=scenario]", "insurance_claims")
    page.select_option("#licence-grant select[name=max_level]", "L3")
    until = dt.date.today() + dt.timedelta(days=180)
    page.fill("#licence-grant input[name=until]", until.isoformat())
    page.fill("#licence-grant input[name=quota_downloads]", "10")
    page.click("#licence-grant button")
    assert "granted" in page.locator(".flash.ok").inner_text()
    licence = next(lic for lic, op in licences.list_licences(res) if op.name == OPERATOR)
    assert (licence.scenario, licence.max_level, licence.quota_downloads) == (
        "insurance_claims", "L3", 10)
    assert page.locator(f"#licence-{licence.id}").inner_text().count("0 / 10") == 1
    _shot(page, "21_admin_licences")
    page.goto("/console/admin/tokens")
    page.select_option("#token-issue select[name=licence_id]", str(licence.id))
    page.fill("#token-issue input[name=days]", "30")
    page.click("#token-issue button")
    token = page.locator("#new-token").inner_text().strip()
    assert token.startswith("yst_")
    _shot(page, "22_admin_token_issued")
    page.goto("/console/admin/tokens")  # shown once: the page never shows it again
    assert page.locator("#new-token").count() == 0 and token not in page.content()
    entry = audit.entries(res.db)[-1]
    assert (entry.action, entry.actor) == ("token.issue", "admin:adam")
    STATE["token"], STATE["licence"] = token, licence.id
    page.goto("/console/admin/scenarios")
    _shot(page, "23_admin_scenarios")


def test_operator_downloads_a_version_and_sees_usage_go_up(live):
    res, url, browser = live
    page = _operator(browser, url, STATE["token"])
    assert page.url.endswith("/console/operator/")
    assert page.locator("#used-downloads").inner_text() == "0"
    assert "商保理赔" in page.locator("#licence").inner_text()
    _shot(page, "30_operator_home")
    with page.expect_download() as caught:
        page.click(f"#download-{PRODUCT}-1-parquet")
    data = Path(caught.value.path()).read_bytes()
    voucher = json.loads(Path(res.storage.product_version_dir("insurance", PRODUCT, 1)
                              / "voucher.json").read_text())
    assert hashlib.sha256(data).hexdigest() == voucher["body"]["files"]["data.parquet"]
    page.goto("/console/operator/")
    assert page.locator("#used-downloads").inner_text() == "1"
    page.goto("/console/operator/usage")
    assert page.locator("#usage-downloads").inner_text() == "1"
    assert PRODUCT in page.locator("#deliveries").inner_text()
    _shot(page, "31_operator_usage")
    page.goto(f"/console/operator/voucher/{PRODUCT}/v1")
    assert "yishu voucher verify" in page.content()
    _shot(page, "32_operator_voucher")
    page.goto("/console/operator/")
    with page.expect_download() as caught:
        page.click("#profile")
    profile = json.loads(Path(caught.value.path()).read_text())
    assert profile["bearerToken"] == STATE["token"]
    assert profile["endpoint"] == f"{url}/delta-sharing"
    narrow = _operator(browser, url, STATE["token"], width=390, height=844)
    _shot(narrow, "33_operator_home_narrow")


def test_admin_sees_the_delivery_in_the_audit_log_and_verifies_the_chain(live):
    res, url, browser = live
    page = _staff(browser, url, "adam")
    page.goto("/console/admin/audit")
    log = page.locator("#audit").inner_text()
    assert "api.deliver" in log and OPERATOR in log and f"{PRODUCT}/v1" in log
    page.click("#verify")
    assert "chain intact" in page.locator("#verify-result").inner_text()
    _shot(page, "40_admin_audit_verified")
    page.goto("/console/admin/usage")
    assert OPERATOR in page.locator("#usage").inner_text()
    assert page.locator("svg.chart rect[fill]").count() > 2
    _shot(page, "41_admin_usage")
    page.goto("/console/admin/versions")
    _shot(page, "42_admin_versions")


def test_no_role_opens_another_roles_pages_in_the_browser(live):
    res, url, browser = live
    pages = {"steward": _staff(browser, url, "stella"), "admin": _staff(browser, url, "adam"),
             "operator": _operator(browser, url, STATE["token"])}
    refused = 0
    for role, page in pages.items():
        for method, path, allowed in ROUTES:
            if method != "GET" or role in allowed:
                continue
            response = page.goto(path)
            assert response.status == 403, (role, path)
            assert "Forbidden" in page.content()
            refused += 1
    assert refused > 30
    _shot(pages["operator"], "50_operator_forbidden_admin_page", full=False)
