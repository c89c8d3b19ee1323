"""The HTML drift report in a real headless Chromium: it renders, its charts draw, the
filter works, and nothing is fetched from the network."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Any:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if os.environ.get("KEEL_TEST_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium); CI requires it.")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def _report(tmp_path: Path) -> Path:
    from keel.checks.sketch import sketch_table
    from keel.monitor.drift import detect_drift
    from keel.monitor.evaluate import quality_findings
    from keel.monitor.report_html import write_html

    rng = np.random.default_rng(5)
    rows = 3000
    reference = pd.DataFrame(
        {
            **{f"x{i}": rng.normal(0, 1, rows) for i in range(6)},
            "plan <b>&": rng.choice(["free", "pro", "team"], rows),
            "paid": rng.random(rows) < 0.3,
        }
    )
    current = reference.sample(rows, replace=True, random_state=1).reset_index(drop=True)
    current["x0"] = current["x0"] + 1.0
    current["plan <b>&"] = rng.choice(["free", "pro", "team", "enterprise"], rows, p=[0.2, 0.2, 0.2, 0.4])
    sketch = sketch_table(reference)
    drift = detect_drift(sketch, current)
    body = {
        "title": "Drift <script>alert(1)</script>",
        "generated_at": "2026-11-29T12:00:00+00:00",
        "reference": {"label": "data/train.csv", "rows": rows},
        "current": {"label": "today", "rows": rows},
        "dataset_drift": drift.dataset_drift,
        "drift_share": drift.drift_share,
        "share_threshold": drift.share_threshold,
        "drifted_columns": drift.drifted,
        "columns_tested": drift.counted,
        "columns": [c.to_dict() for c in drift.columns],
        "quality": quality_findings(sketch, current, list(sketch.columns)),
        "performance": {"labelled": 100, "metrics": {"accuracy": {"current": 0.81, "reference": 0.93}}},
        "prediction": None,
        "windows": [
            {"start": f"2026-11-29T{h:02d}:00:00", "end": f"2026-11-29T{h + 1:02d}:00:00", "rows": 100,
             "drift_share": h / 10, "dataset_drift": h > 4}
            for h in range(8)
        ],
    }  # fmt: skip
    path = tmp_path / "drift.html"
    write_html(body, path)
    return path


def test_report_renders_in_chromium_offline(browser: Any, tmp_path: Path) -> None:
    path = _report(tmp_path)
    page = browser.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    assert errors == []
    assert all(url.startswith("file://") for url in requests), requests  # nothing from the network
    assert page.title().startswith("Drift")
    assert page.locator("script", has_text="alert(1)").count() == 0  # the title was escaped
    text = page.inner_text("body")
    assert "plan <b>&" in text and "x0" in text
    charts = page.locator("svg")
    assert charts.count() >= 8
    box = charts.first.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 50  # drawn, not collapsed
    # the drifted columns come first in the summary table
    first_rows = page.locator("table.cols tbody tr").all_inner_texts()[:2]
    assert any("x0" in row or "plan" in row for row in first_rows), first_rows
    screenshot = page.screenshot(full_page=True)
    assert len(screenshot) > 10_000
    page.close()
