"""Item 7 of issue 12: the documentation site, opened in Debian's headless Chromium.

``procc site`` builds a project holding the catalog's procedures and one
full of hostile text; a local HTTP server serves it and Chromium (through
Debian's chromedriver: nothing is downloaded) checks that the index lists
every procedure, that a runbook's Mermaid diagram is drawn as SVG, that the
console has no error, and that the hostile text ran no script. A screenshot
of a runbook page is kept in artifacts/ (git-ignored; CI keeps it).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import FOUR_STEPS, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.browser]

BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Each would set window.__pwned (or open an alert) if it ever ran.
OPEN_SHADOW = ("const attach = Element.prototype.attachShadow;"
               "Element.prototype.attachShadow = function (init) { return attach.call(this, {...init, mode: 'open'}); };")
SVG_TEXT = ("const host = document.querySelector('div.mermaid');"
            "const svg = host && host.shadowRoot && host.shadowRoot.querySelector('svg');"
            "return svg ? svg.textContent : null;")
HOSTILE = ('<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> '
           '"] --> x["<b onmouseover=alert(1)>"] click s1 call alert(1) '
           "[x](javascript:window.__pwned=3) %%{init: {'securityLevel': 'loose'}}%%")


def _procc(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    res = subprocess.run([str(BIN / "procc"), *args], cwd=cwd, capture_output=True, text=True, timeout=600,
                         check=False, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout + res.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """The site of the catalog plus a hostile procedure, served on localhost: (base URL, procedure ids)."""
    import os

    for tool in (CHROMIUM, CHROMEDRIVER):
        assert tool.exists(), f"{tool} is missing: run scripts/system-deps.sh"
    js = subprocess.run([str(ROOT / "scripts" / "site-assets.sh")], capture_output=True, text=True, timeout=300,
                        check=True).stdout.strip().splitlines()[-1]
    proj = tmp_path_factory.mktemp("siteproj")
    shutil.copytree(ROOT / "procedures", proj / "procedures", ignore=shutil.ignore_patterns("history"))
    data: dict[str, Any] = yaml.safe_load(FOUR_STEPS.read_text(encoding="utf-8"))
    data["id"] = "PROC-BACKEND-099"
    data["title"] = HOSTILE
    for step in data["steps"]:
        step["title"] = HOSTILE
    data["purpose"]["what"] = HOSTILE
    (proj / "procedures" / "PROC-BACKEND-099-hostile.yml").write_text(yaml.safe_dump(data), encoding="utf-8")
    env = {**os.environ, "PROCC_MERMAID_JS": str(ROOT / js)}
    _procc(proj, "compile", "--quick", "-q", env=env)
    _procc(proj, "site", env=env)
    ids = sorted(yaml.safe_load(p.read_text(encoding="utf-8"))["id"] for p in (proj / "procedures").glob("*.yml"))
    handler = functools.partial(_Quiet, directory=str(proj / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", ids
    finally:
        server.shutdown()
        server.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,2000"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    # Material draws each diagram into a *closed* shadow root; opened here, before any page script
    # runs, so that the test can look at the SVG (the page itself behaves the same).
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": OPEN_SHADOW})
    try:
        yield driver
    finally:
        driver.quit()


def _open(browser: Any, url: str) -> list[dict[str, Any]]:
    """Load ``url``; the console messages of earlier pages are dropped first."""
    browser.get_log("browser")
    browser.get(url)
    return []


def _svg_drawn(browser: Any) -> str:
    """The text of the page's first diagram, once Mermaid has drawn it as SVG."""
    from selenium.webdriver.support.ui import WebDriverWait

    text: str = WebDriverWait(browser, 60).until(lambda d: d.execute_script(SVG_TEXT))
    return text


def _errors(browser: Any) -> list[dict[str, Any]]:
    return [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]


def test_index_lists_every_procedure(built: tuple[str, list[str]], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    base, ids = built
    _open(browser, f"{base}/index.html")
    rows = browser.find_elements(By.CSS_SELECTOR, "table tbody tr")
    assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in rows] == ids
    links = [r.find_element(By.CSS_SELECTOR, "td a").get_attribute("href") for r in rows]
    assert all(h.startswith(base + "/PROC-") and h.endswith(".html") for h in links), links
    assert browser.find_elements(By.CSS_SELECTOR, "input.md-search__input")  # search is there
    assert _errors(browser) == []


def test_runbook_page_draws_its_diagram_as_svg(built: tuple[str, list[str]], browser: Any) -> None:
    base, _ = built
    _open(browser, f"{base}/PROC-BACKEND-001-deploy-release.html")
    text = _svg_drawn(browser)
    assert "Paso 1: Registrar la release activa" in text and "Rollback paso 1" in text
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "site-runbook-PROC-BACKEND-001.png"
    browser.execute_script("document.querySelector('div.mermaid').scrollIntoView()")
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
    assert _errors(browser) == []


@pytest.mark.parametrize("page", ["PROC-BACKEND-099-hostile.html", "quick/PROC-BACKEND-099-hostile.html",
                                  "index.html"])
def test_hostile_text_runs_no_script(built: tuple[str, list[str]], browser: Any, page: str) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    base, _ = built
    _open(browser, f"{base}/{page}")
    if "quick" not in page and page != "index.html":
        svg_text = _svg_drawn(browser)  # the diagram with hostile labels is drawn, not broken
        assert "<script>window.__pwned=1</script>" in svg_text  # shown as text
    assert "window.__pwned=1" in browser.find_element(By.TAG_NAME, "body").text  # the text is shown verbatim
    assert browser.execute_script("return window.__pwned === undefined")
    assert not browser.find_elements(By.CSS_SELECTOR, "article script, article img[src='x'], article b[onmouseover]")
    assert not browser.find_elements(By.CSS_SELECTOR, "a[href^='javascript']")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - raises when no alert is open
    assert _errors(browser) == []
