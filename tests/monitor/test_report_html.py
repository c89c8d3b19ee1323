"""The HTML drift report: well-formed, small, self-contained, escaped, sorted, and robust."""

from __future__ import annotations

import math
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from keel.monitor import report_html
from keel.monitor.report_html import MAX_CATEGORIES, render_html, write_html

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
EVIL = "<script>alert(1)</script>"
AMP = "Q&A \"quoted\" 'single' ünïcödé ✓"


class Page(HTMLParser):
    """Checks that tags balance and records what the tests look at."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.errors: list[str] = []
        self.starts: list[tuple[str, dict[str, str | None]]] = []
        self.ids: list[str] = []
        #: svg count and whether each svg had a <title> and a <desc>, per enclosing article id
        self.svgs: dict[str, int] = {}
        self.svg_parts: list[set[str]] = []
        #: summary-table links in document order
        self.summary_links: list[str] = []
        #: cell texts of each summary row, by the row's data-name
        self.rows: dict[str, list[str]] = {}
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self.feed(text)
        self.close()

    def _within(self, tag: str, **attrs: str) -> dict[str, str | None] | None:
        for name, attributes in reversed(self.stack):
            if name == tag and all(attributes.get(k) == v for k, v in attrs.items()):
                return attributes
        return None

    def _record(self, tag: str, attrs: dict[str, str | None]) -> None:
        self.starts.append((tag, attrs))
        if attrs.get("id"):
            self.ids.append(str(attrs["id"]))
        if tag == "svg":
            article = self._within("article")
            key = str(article.get("id")) if article else "<outside>"
            self.svgs[key] = self.svgs.get(key, 0) + 1
            self.svg_parts.append(set())
        if tag in {"title", "desc"} and self._within("svg") is not None and self.stack[-1][0] == "svg":
            self.svg_parts[-1].add(tag)
        if (
            tag == "a"
            and self._within("section", id="columns") is not None
            and self._within("tbody") is not None
        ):
            self.summary_links.append(str(attrs.get("href")))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self._record(tag, attributes)
        if tag in VOID:
            return
        self.stack.append((tag, attributes))
        if tag in {"td", "th"}:
            row = self._within("tr")
            if row is not None and row.get("data-name") is not None:
                self._cell = []
                self.rows.setdefault(str(row["data-name"]), []).append("")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._record(tag, dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1][0] if self.stack else None}>")
            return
        self.stack.pop()
        if tag in {"td", "th"} and self._cell is not None:
            row = self._within("tr")
            if row is not None:
                self.rows[str(row["data-name"])][-1] = "".join(self._cell).strip()
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(text: str) -> Page:
    page = Page(text)
    assert page.errors == []
    assert page.stack == [], f"unclosed: {[t for t, _ in page.stack]}"
    assert len(set(page.ids)) == len(page.ids), "ids must be unique"
    return page


def histogram(shift: float, bins: int = 30) -> dict[str, Any]:
    edges = [i / bins * 10 for i in range(bins + 1)]
    centre = bins / 2 + shift * bins / 10
    weights = [math.exp(-(((i + 0.5) - centre) ** 2) / (bins / 2)) for i in range(bins)]
    reference = [math.exp(-(((i + 0.5) - bins / 2) ** 2) / (bins / 2)) for i in range(bins)]
    return {
        "type": "histogram",
        "edges": edges,
        "reference": [w / sum(reference) for w in reference],
        "current": [w / sum(weights) for w in weights],
    }


def bars(shift: float, count: int = 20, prefix: str = "cat") -> dict[str, Any]:
    reference = [1 / count] * count
    current = [max(1 / count + shift * (i - count / 2) / count**2, 0.0) for i in range(count)]
    return {
        "type": "bars",
        "categories": [f"{prefix} {i}" for i in range(count)],
        "reference": reference,
        "current": [c / sum(current) for c in current],
    }


def column(
    name: str, *, drifted: bool = False, score: float | None = 0.5, stat: str | None = "p_value", **extra: Any
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "column": name,
        "kind": "numeric",
        "test": "ks" if stat == "p_value" else "wasserstein",
        "stat": stat,
        "score": score,
        "threshold": 0.05 if stat == "p_value" else 0.1,
        "drifted": drifted,
        "skipped": None,
        "reference_missing": 0.0,
        "current_missing": 0.01,
        "plot": histogram(0.5 if drifted else 0.0),
    }
    entry.update(extra)
    return entry


def big_report(columns: int = 100) -> dict[str, Any]:
    entries = []
    for i in range(columns):
        if i % 10 == 9:
            entries.append(
                column(
                    f"skipped_{i}",
                    score=None,
                    stat=None,
                    test=None,
                    threshold=None,
                    skipped="constant column",
                    plot=None,
                )
            )
        elif i % 2:
            drifted = i % 3 == 0
            entries.append(
                column(
                    f"category_{i}",
                    kind="categorical",
                    test="chi2",
                    drifted=drifted,
                    score=1e-6 * i if drifted else 0.2 + i / 1000,
                    plot=bars(2.0 if drifted else 0.1, 20, prefix=f"value {i}"),
                )
            )
        else:
            drifted = i % 4 == 0
            entries.append(
                column(
                    f"number_{i}",
                    stat="distance",
                    drifted=drifted,
                    score=0.2 + i / 1000 if drifted else 0.01 + i / 10000,
                    plot=histogram(1.0 if drifted else 0.1, 30),
                )
            )
    drifted_count = sum(e["drifted"] for e in entries)
    tested = sum(e["skipped"] is None for e in entries)
    return {
        "title": "Drift: wine@production, last 24 h",
        "generated_at": "2024-05-02T00:05:00+00:00",
        "reference": {"label": "data/train.csv", "rows": 4898},
        "current": {"label": "prediction log", "rows": 3012},
        "dataset_drift": drifted_count / tested > 0.3,
        "drift_share": drifted_count / tested,
        "share_threshold": 0.3,
        "drifted_columns": drifted_count,
        "columns_tested": tested,
        "columns": entries,
        "quality": [
            {
                "column": "number_0",
                "rule": "missing_rate",
                "value": 0.08,
                "threshold": 0.05,
                "passed": False,
                "message": "missing rose by 8 points",
            },
            {
                "column": None,
                "rule": "row_count",
                "value": 3012,
                "threshold": 1000,
                "passed": True,
                "message": "enough rows",
            },
        ],
        "performance": {
            "labelled": 812,
            "metrics": {
                "accuracy": {"current": 0.874, "reference": 0.931},
                "log_loss": {"current": 0.41, "reference": None},
            },
        },
        "prediction": column("prediction", kind="categorical", drifted=True, score=3.2e-5, plot=bars(1.0, 3)),
        "windows": [
            {
                "start": f"2024-05-01T{h:02d}:00:00+00:00",
                "end": f"2024-05-01T{h:02d}:59:59+00:00",
                "rows": 120,
                "drift_share": h / 30,
                "dataset_drift": h / 30 > 0.3,
            }
            for h in range(24)
        ],
    }


def test_a_100_column_report_is_well_formed_and_under_a_megabyte() -> None:
    report = big_report(100)
    text = render_html(report)
    size = len(text.encode("utf-8"))
    assert size < 1_000_000, size
    assert text.startswith("<!DOCTYPE html>")
    page = parse(text)
    tags = [t for t, _ in page.starts]
    for landmark in ("html", "head", "title", "body", "header", "nav", "main", "footer", "table"):
        assert landmark in tags
    ids = set(page.ids)
    assert {"over-time", "model", "columns", "quality", "details"} <= ids
    assert "Dataset drift detected" in text
    # every chart says what it is, for screen readers
    assert page.svg_parts and all(parts == {"title", "desc"} for parts in page.svg_parts)
    assert all(a.get("role") == "img" for t, a in page.starts if t == "svg")


def test_a_small_report_stays_small() -> None:
    text = render_html(big_report(3))
    assert len(text.encode("utf-8")) < 40_000


def test_nothing_is_fetched_from_elsewhere() -> None:
    text = render_html(big_report(20))
    lowered = text.lower()
    for needle in ("<script src", "<link", "http://", "https://", "@import", "url(", "<img", "<iframe"):
        assert needle not in lowered, needle
    assert lowered.count("<script") == 1  # the inline filter/sort script only


def test_user_strings_are_escaped() -> None:
    report = big_report(4)
    report["title"] = f"{EVIL} & title"
    report["columns"][0]["column"] = EVIL
    report["columns"][1]["column"] = AMP
    report["columns"][1]["plot"] = {
        "type": "bars",
        "categories": [EVIL, AMP],
        "reference": [0.5, 0.5],
        "current": [0.2, 0.8],
    }
    report["columns"][2]["skipped"] = EVIL
    report["quality"][0]["message"] = EVIL
    report["quality"][0]["rule"] = AMP
    report["reference"]["label"] = EVIL
    report["performance"]["metrics"] = {EVIL: {"current": 1.0, "reference": 0.5}}
    report["windows"][0]["start"] = EVIL
    text = render_html(report)
    page = parse(text)
    assert EVIL not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Q&amp;A &quot;quoted&quot; &#x27;single&#x27; ünïcödé ✓" in text
    assert sum(1 for t, _ in page.starts if t == "script") == 1
    # and the escaped names still read right
    visible = "".join(page.text)
    assert EVIL in visible
    assert AMP in visible
    assert f"{EVIL} & title" in visible


def test_control_characters_and_lone_surrogates_do_not_break_the_page(tmp_path: Path) -> None:
    report = big_report(2)
    report["columns"][0]["column"] = "nul\x00bell\x07 \ud800 end"
    text = render_html(report)
    parse(text)
    assert "\x00" not in text and "\x07" not in text
    write_html(report, tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text(encoding="utf-8").count("end") >= 1


def test_columns_are_listed_by_severity_with_skipped_last() -> None:
    columns = [
        column("ok_p", score=0.6),
        column("skipped", score=None, stat=None, skipped="too many categories", plot=None),
        column("drift_p_weak", drifted=True, score=0.01),
        column("ok_distance", stat="distance", score=0.09),
        column("drift_distance_strong", drifted=True, stat="distance", score=0.9),  # 9x the threshold
        column("drift_p_strong", drifted=True, score=1e-9),  # 5e7x the threshold
        column("untested", score=float("nan"), stat="p_value"),
        column("ok_p_close", score=0.06),
    ]
    page = parse(render_html({"title": "order", "columns": columns}))
    names = [columns[int(href.removeprefix("#c-"))]["column"] for href in page.summary_links]
    assert names == [
        "drift_p_strong",
        "drift_distance_strong",
        "drift_p_weak",
        "ok_distance",  # 0.9 of its threshold
        "ok_p_close",  # 0.05 / 0.06 = 0.83
        "ok_p",
        "untested",
        "skipped",
    ]
    cards = [i for i in page.ids if re.fullmatch(r"c-\d+", i)]
    assert [f"#{c}" for c in cards] == page.summary_links  # cards follow the same order


def test_every_column_has_a_card_and_every_plot_an_svg() -> None:
    report = big_report(100)
    page = parse(render_html(report))
    ids = set(page.ids)
    for index, entry in enumerate(report["columns"]):
        anchor = f"c-{index}"
        assert anchor in ids
        assert f"#{anchor}" in page.summary_links
        if entry["plot"] is not None:
            assert page.svgs.get(anchor) == 1, entry["column"]
        else:
            assert anchor not in page.svgs
    assert page.svgs.get("prediction") == 1
    assert page.svgs.get("<outside>") == 1  # the windows chart


def test_a_minimal_report_renders() -> None:
    for report in (
        {},
        {"title": "nothing yet", "columns": []},
        {
            "title": "required only",
            "generated_at": "not a date",
            "reference": {"label": "ref", "rows": 10},
            "current": {"label": "cur", "rows": 12},
            "dataset_drift": False,
            "drift_share": 0.0,
            "share_threshold": 0.5,
            "drifted_columns": 0,
            "columns_tested": 1,
            "columns": [column("x", reference_missing=None, current_missing=None)],
        },
    ):
        text = render_html(report)
        page = parse(text)
        assert "<title>" in text
        for absent in ("quality", "model", "over-time"):
            assert absent not in page.ids
    text = render_html({"columns": [column("x")]})
    assert "Dataset drift not determined" in text


def test_missing_scores_render_as_a_dash() -> None:
    report = {
        "columns": [
            column("none", score=None, threshold=None),
            column("nan", score=float("nan"), threshold=float("nan")),
            column("str", score="0.3", reference_missing=None, current_missing=float("nan")),
        ]
    }
    page = parse(render_html(report))
    for name in ("none", "nan", "str"):
        cells = page.rows[name]
        # rank, column, kind, test, score, threshold, verdict, missing
        assert cells[4] == "—", cells
        assert "nan" not in " ".join(cells[4:]).lower()
    assert page.rows["none"][5] == "—"
    assert page.rows["nan"][5] == "—"
    assert page.rows["str"][7] == "—"
    assert page.rows["none"][6] == "Not tested"


def test_numbers_are_formatted_for_people() -> None:
    report = {
        "drift_share": 0.41666,
        "share_threshold": 0.3,
        "columns": [
            column("p", drifted=True, score=3.2e-05, reference_missing=0.0, current_missing=0.1234),
            column("p_big", score=0.4567),
            column("d", stat="distance", score=0.123456),
            column("tiny_missing", reference_missing=0.0004, current_missing=1.0),
        ],
        "performance": {"labelled": 1234, "metrics": {"accuracy": {"current": 0.874, "reference": 0.931}}},
    }
    text = render_html(report)
    page = parse(text)
    assert page.rows["p"][4] == "3.2e-05"
    assert page.rows["p"][5] == "0.05"
    assert page.rows["p_big"][4] == "0.46"
    assert page.rows["d"][4] == "0.123"
    assert page.rows["d"][5] == "0.1"
    assert page.rows["p"][7] == "0% → 12.3%"
    assert page.rows["tiny_missing"][7] == "<0.1% → 100%"
    assert "41.7%" in text and "threshold 30%" in text
    assert "1,234" in text
    assert "-0.057" in text  # accuracy 0.874 against 0.931


def test_odd_plot_data_is_drawn_or_skipped_without_crashing() -> None:
    odd: list[dict[str, Any]] = [
        {
            "type": "histogram",
            "edges": [float("-inf"), 0, 1, 2, float("inf")],
            "reference": [0.1, 0.4, 0.4, 0.1],
            "current": [0.2, 0.3, 0.3, 0.2],
        },
        {
            "type": "histogram",
            "edges": [0, 1, 1000, 1e6],
            "reference": [0.3, 0.3, 0.4],
            "current": [0.5, 0.5, 0.0],
        },  # long tail
        {
            "type": "histogram",
            "edges": [1, 1, 1],
            "reference": [1.0, 0.0],
            "current": [0.5, 0.5],
        },  # zero-width bins
        {"type": "histogram", "edges": [0, 1, 2], "reference": [None, float("nan")], "current": [0.0, 0.0]},
        {"type": "histogram", "edges": [0, 1], "reference": [1.0, 0.0], "current": [1.0]},  # lengths disagree
        {
            "type": "histogram",
            "edges": [2, 1, 0],
            "reference": [0.5, 0.5],
            "current": [0.5, 0.5],
        },  # decreasing
        {
            "type": "histogram",
            "edges": [i / 10 for i in range(1001)],
            "reference": [0.001] * 1000,
            "current": [0.001] * 1000,
        },
        {
            "type": "histogram",
            "edges": [1.7e9, 1.71e9, 1.72e9],
            "reference": [0.5, 0.5],
            "current": [0.1, 0.9],
        },
        {
            "type": "histogram",
            "edges": [-1e300, 1e300, 1.7e308],
            "reference": [0.5, 0.5],
            "current": [0.1, 0.9],
        },
        {
            "type": "bars",
            "categories": [None, "", "a"],
            "reference": [0.2, 0.3, 0.5],
            "current": [0.2, 0.3, 0.5],
        },
        {
            "type": "bars",
            "categories": [f"c{i}" for i in range(200)],
            "reference": [0.005] * 200,
            "current": [0.005] * 200,
        },
        {"type": "bars", "categories": [], "reference": [], "current": []},
        {"type": "pie"},
        {"type": "bars", "categories": "abc", "reference": None, "current": None},
    ]
    columns = [
        column(f"col{i}", kind="datetime" if i == 7 else "numeric", plot=plot) for i, plot in enumerate(odd)
    ]
    text = render_html({"columns": columns, "windows": [{"start": "x"}, {"drift_share": 0.5}, None]})
    page = parse(text)
    drawn = {i for i in range(len(odd)) if page.svgs.get(f"c-{i}")}
    assert drawn == {0, 1, 2, 3, 6, 7, 8, 9, 10}
    assert text.count("could not be read") == len(odd) - len(drawn)
    assert "Bins drawn at equal width" in text  # the long tail, the zero-width bins
    assert f"{200 - MAX_CATEGORIES} smaller categories not shown" in text
    assert "05:20" in text or "2024-" in text or "-0" in text  # datetime edges as times


def test_a_histogram_with_many_bins_is_merged() -> None:
    bins = 1000
    plot = {
        "type": "histogram",
        "edges": list(range(bins + 1)),
        "reference": [1 / bins] * bins,
        "current": [1 / bins] * bins,
    }
    text = render_html({"columns": [column("wide", plot=plot)]})
    assert len(text) < 20_000
    assert f"each of {report_html.MAX_BINS} bins" in text


def test_windows_chart_marks_drifted_windows_and_the_threshold() -> None:
    report = big_report(2)
    text = render_html(report)
    page = parse(text)
    assert "Drift share over time" in text
    markers = [a for t, a in page.starts if t == "circle"]
    assert len(markers) == 24
    assert sum(1 for a in markers if a.get("class") == "pt d") == sum(
        w["dataset_drift"] for w in report["windows"]
    )
    assert "threshold 30%" in text
    assert "00:00" in text and "23:00" in text


def test_write_html_replaces_the_file_atomically(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")
    report = big_report(5)
    write_html(report, target)
    assert target.read_text(encoding="utf-8") == render_html(report)
    assert os.listdir(tmp_path) == ["report.html"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")

    def fail(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(report_html.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_html(big_report(2), target)
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["report.html"]


def test_a_write_to_a_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_html(big_report(1), tmp_path / "nowhere" / "report.html")
    assert os.listdir(tmp_path) == []


def test_the_page_works_without_javascript() -> None:
    text = render_html(big_report(10))
    # the filter box only appears when the script runs; the order is already the severity order
    assert re.search(r'<div class="filters" id="filters" hidden>', text)
    body = text.split("<script>")[0]
    assert "Drifted columns first" in body
