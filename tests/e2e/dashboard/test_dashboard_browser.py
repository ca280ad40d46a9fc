"""The dashboard in real headless Chromium: sign in through the printed URL, see every resource
healthy, restart one with its button and watch it come back, find a trace by its id and read its
spans, see the visitor's city and the trace's logs. Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from tests.support.binaries import require_binary
from tests.support.dashboard import RunningPlatform, create_job, wait_for_spans

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RESOURCES = ("postgres", "redis", "seed", "monolith", "jobs", "companies", "ai", "landing")
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = require_binary("chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, platform: RunningPlatform) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 820})
    opened = context.new_page()
    opened.goto(platform.dashboard_url)
    yield opened
    context.close()


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def healthy(page: Page, name: str) -> None:
    row = page.locator(f'#resources tr[data-resource="{name}"]')
    expect(row).to_have_attribute("data-state", "running", timeout=WAIT_MS)
    expect(row).to_have_attribute("data-health", "healthy", timeout=WAIT_MS)


def test_the_printed_url_signs_in_and_shows_every_resource_healthy(
    page: Page, browser: Browser, platform: RunningPlatform
) -> None:
    assert page.url == f"{platform.dashboard_base}/", "the token must leave the address bar"
    for name in (*RESOURCES, "gateway"):
        healthy(page, name)
    expect(page.locator("#resources tbody tr")).to_have_count(9)
    gateway_port = page.locator('#resources tr[data-resource="gateway"] a')
    expect(gateway_port).to_have_attribute("href", platform.endpoints["gateway"])
    expect(page.locator("#live.on")).to_be_visible()
    shoot(page, "dashboard-resources.png")

    stranger = browser.new_context()
    try:
        answer = stranger.new_page().goto(f"{platform.dashboard_base}/traces")
        assert answer is not None and answer.status == 401
    finally:
        stranger.close()


def test_restart_button_restarts_the_resource_and_it_comes_back(
    page: Page, platform: RunningPlatform
) -> None:
    row = page.locator('#resources tr[data-resource="companies"]')
    healthy(page, "companies")
    pid_before = row.locator("td").nth(7).inner_text()
    row.locator('button[data-action="restart"]').click()
    expect(page.locator("#action-result")).to_have_text("restart companies: asked")
    expect(row.locator("td.restarts")).to_have_text("1", timeout=WAIT_MS)
    healthy(page, "companies")
    expect(row.locator("td").nth(7)).not_to_have_text(pid_before)
    for name in (*RESOURCES, "gateway"):  # what waits on it was re-gated: all come back
        healthy(page, name)
    shoot(page, "dashboard-restarted.png")
    page.goto(f"{platform.dashboard_base}/graph")
    expect(page.locator('svg#graph g[data-node="companies"]')).to_be_visible()
    shoot(page, "dashboard-graph.png")


def test_find_a_trace_by_its_id_and_read_its_spans_logs_and_visitor(
    page: Page, platform: RunningPlatform
) -> None:
    trace_id, _ = create_job(platform, "Data engineer (browser test)")
    wait_for_spans(platform, trace_id)
    page.goto(f"{platform.dashboard_base}/traces")
    expect(page.locator(f'#traces tr[data-trace="{trace_id}"]')).to_be_visible()
    page.locator('#find-trace input[name="trace_id"]').fill(trace_id.upper())
    page.locator("#find-trace button").click()
    page.wait_for_url(f"**/traces/{trace_id}")

    spans = page.locator("#waterfall details.span")
    expect(spans.first).to_contain_text("gateway")
    services = spans.evaluate_all("all => all.map(s => s.dataset.service)")
    assert services[:2] == ["gateway", "jobs"]
    assert "ai" in services
    consumer = page.locator("#waterfall details", has_text="jobs.events process")
    consumer.locator("summary").click()
    expect(consumer.locator("table.attrs")).to_contain_text("messaging.destination.name")
    expect(page.locator("#logs")).to_contain_text("tags")
    shoot(page, "dashboard-trace.png")

    page.goto(f"{platform.dashboard_base}/visitors")
    expect(page.locator("#visitors")).to_contain_text("GB")
    page.goto(f"{platform.dashboard_base}/logs")
    page.locator(f'#logs a[href="/traces/{trace_id}"]').first.click()
    page.wait_for_url(f"**/traces/{trace_id}")


def test_console_shows_new_lines_live_and_filters_them(
    page: Page, platform: RunningPlatform
) -> None:
    page.goto(f"{platform.dashboard_base}/console?service=ai")
    expect(page.locator("#console .line").first).to_be_visible()
    page.locator("#console-search").fill("tags")
    expect(page.locator("#live.on")).to_be_visible()
    tagged = page.locator("#console .line:visible", has_text="tags")
    before = tagged.count()
    create_job(platform, "Console engineer (browser test)")
    # The AI worker logs "entry <id> job <id> tags [...]"; the line arrives over the event stream.
    expect(tagged).to_have_count(before + 1, timeout=WAIT_MS)
    for text in page.locator("#console .line:visible").all_inner_texts():
        assert "tags" in text
    shoot(page, "dashboard-console.png")
