"""A drift/monitoring report as one self-contained HTML file people want to open.

:func:`render_html` turns a report — a plain JSON-like dict (see below) — into one HTML
document; :func:`write_html` writes it atomically (a temporary file in the target's folder,
then a rename), so a browser or a web server never sees half a report.

Design:

- **Self-contained.** One file: CSS in a ``<style>`` block, charts as inline SVG drawn here,
  a few lines of vanilla JavaScript for filtering and sorting the column table. No fonts,
  stylesheets, scripts or images are fetched, and no ``http(s)://`` address appears (inline
  SVG needs no ``xmlns`` in HTML), so the file opens offline and attaches to a ticket.
- **Works without JavaScript.** The column table is rendered already sorted by severity and
  every section is plain semantic HTML; the script only reveals the filter box (hidden by
  default) and makes table headers sortable.
- **Only summaries.** The report carries histograms and category shares, never data rows,
  and this module draws nothing else. Histograms over more than :data:`MAX_BINS` bins are
  merged down and bar charts show at most :data:`MAX_CATEGORIES` categories, so the file
  stays small: about 3.5 KB per column (100 columns of 30 bins or 20 categories: ~360 KB,
  20 KB gzipped; rendered in ~20 ms). Coordinates have one decimal, colours come from CSS
  classes, and cards use ``content-visibility: auto`` so a long report paints quickly.
- **Severity order.** Columns are listed drifted first, then by score relative to the
  threshold (``threshold / p`` for p-values, ``distance / threshold`` for distances: larger
  is worse), then columns without a score, and skipped columns last.
- **Honest histograms.** Bins may differ in width (quantile bins). On a value axis each
  bar's height is its share scaled to the average bin width (the area stays the share); when the middle half of the bins would fill less than :data:`MIN_MIDDLE_SPAN`
  of the axis (a long tail: a few outliers stretch it), when one bin is over
  :data:`MAX_WIDTH_RATIO` times as wide as another (a spike would flatten the rest), or when an
  inner edge is infinite, the bins are drawn at equal width instead, on a quantile axis
  labelled with the edges. Open outer edges (±inf) get the average bin width.
- **Safe.** Every string from the report goes through :func:`html.escape` (control
  characters and lone surrogates replaced first); anchors and SVG ids are built from column
  positions, never from names. Malformed or missing fields render as "—" or are left out:
  even an empty report renders.
- **Accessible.** ``<title>``, landmarks, ``<th scope>``, and per chart an SVG ``<title>``
  and ``<desc>`` that says what is drawn and where the largest difference is. Colours:
  reference grey (a filled area), current blue (a line), so they differ in grey scale and
  for colour-blind readers too; red/green are kept for verdicts. Dark mode follows the OS.

Report schema (every field optional; numbers may be None)::

    {"title", "generated_at", "reference": {"label", "rows"}, "current": {"label", "rows"},
     "dataset_drift", "drift_share", "share_threshold", "drifted_columns", "columns_tested",
     "columns": [COLUMN], "prediction": COLUMN,
     "quality": [{"column", "rule", "value", "threshold", "passed", "message", "samples", "test"}],
     "performance": {"labelled", "metrics": {NAME: {"current", "reference"}}},
     "windows": [{"start", "end", "rows", "drift_share", "dataset_drift"}]}

    COLUMN = {"column", "kind", "test", "stat" ("p_value" | "distance"), "score", "threshold",
              "drifted", "skipped" (reason), "reference_missing", "current_missing",
              "plot": {"type": "histogram", "edges", "reference", "current"}
                    | {"type": "bars", "categories", "reference", "current"}}
"""

from __future__ import annotations

import html
import math
import os
import secrets
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

__all__ = ["MAX_BINS", "MAX_CATEGORIES", "MAX_WIDTH_RATIO", "MIN_MIDDLE_SPAN", "render_html", "write_html"]

#: Histogram bins drawn; more are merged (adjacent bins summed).
MAX_BINS = 100
#: Categories a bar chart draws; the rest are counted in a note under it.
MAX_CATEGORIES = 30
#: The least part of a value axis the middle half of the bins may fill; less, and a histogram
#: is drawn on a quantile axis (a normal column fills ~20%, a heavy tail under 1%).
MIN_MIDDLE_SPAN = 0.05
#: The widest bin over the narrowest beyond which a histogram is drawn on a quantile axis.
MAX_WIDTH_RATIO = 200.0
#: The share of either side's rows outside a histogram's edges above which a note says so
#: (the drift engine draws the reference's 0.5%–99.5% span, leaving ~1% out by design).
OUTSIDE_NOTE = 0.02
#: A rise of the missing rate (absolute) the column table highlights, as data-quality checks do.
MISSING_RISE = 0.05
#: Windows drawn with a marker (and a tooltip) each; beyond this only drifted ones are.
MAX_WINDOW_MARKERS = 120
#: Windows listed in the table under the chart.
MAX_WINDOW_ROWS = 500

DASH = "—"
_CONTROL = {c: "\ufffd" for c in [*range(9), 11, 12, *range(14, 32), 127]}
_TEST_NAMES = {
    "ks": "Kolmogorov–Smirnov",
    "chi2": "Chi-squared",
    "chi_squared": "Chi-squared",
    "chisquare": "Chi-squared",
    "psi": "PSI",
    "jensenshannon": "Jensen–Shannon",
    "jensen_shannon": "Jensen–Shannon",
    "js": "Jensen–Shannon",
    "wasserstein": "Wasserstein",
    "z": "Z-test",
    "kl": "Kullback–Leibler",
    "hellinger": "Hellinger",
}

# ---------------------------------------------------------------------------------- public API


def render_html(report: Mapping[str, Any]) -> str:
    """The report as one self-contained HTML document."""
    columns: list[_Column] = []
    for index, entry in enumerate(_list(report.get("columns"))):
        column = _column(entry, index)
        if column is not None:
            columns.append(column)
    columns.sort(key=lambda c: c.sort_key)
    prediction = _column(report.get("prediction"), -1, anchor="prediction")
    title = _text(report.get("title")) or "Drift report"

    sections = [
        ("over-time", "Drift over time", _windows_section(report)),
        ("model", "Model", _model_section(prediction, report.get("performance"))),
        ("columns", "Columns", _summary_section(columns)),
        ("quality", "Data quality", _quality_section(report.get("quality"))),
        ("details", "Column details", _cards_section(columns)),
    ]
    present = [(anchor, name, body) for anchor, name, body in sections if body]
    nav = "".join(f'<li><a href="#{anchor}">{name}</a></li>' for anchor, name, _ in present)
    body = "".join(
        f'<section id="{anchor}" aria-labelledby="{anchor}-h"><h2 id="{anchor}-h">{name}</h2>{content}</section>'
        for anchor, name, content in present
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="Keel"><title>{_esc(title)}</title><style>{_CSS}</style></head>'
        f'<body><div class="wrap">{_header(report, title, columns, prediction)}'
        f'<nav aria-label="Sections"><ul>{nav}</ul></nav><main>{body}</main>'
        "<footer>Generated by Keel. Charts show summarized distributions only; no data rows are included."
        f"</footer></div><script>{_JS}</script></body></html>\n"
    )


def write_html(report: Mapping[str, Any], path: Path | str) -> None:
    """Write :func:`render_html` of ``report`` to ``path`` atomically (temporary file, rename)."""
    data = render_html(report).encode("utf-8")
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
    done = False
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        done = True
    finally:
        if not done:
            tmp.unlink(missing_ok=True)


# ------------------------------------------------------------------------------ reading the dict


@dataclass(frozen=True)
class _Column:
    index: int
    anchor: str
    name: str
    kind: str
    test: str | None
    stat: str | None
    score: float | None
    threshold: float | None
    drifted: bool
    skipped: str | None
    reference_missing: float | None
    current_missing: float | None
    plot: Mapping[str, Any] | None

    @property
    def group(self) -> int:
        """0 drifted, 1 tested without drift, 2 no score, 3 skipped."""
        if self.drifted:
            return 0
        if self.skipped is not None:
            return 3
        return 2 if self.score is None else 1

    @property
    def severity(self) -> float:
        """Score relative to threshold, larger is worse; -inf when unknown."""
        score, threshold = self.score, self.threshold
        if score is None:
            return -math.inf
        if self.stat == "p_value":
            if threshold is not None and threshold > 0:
                return math.inf if score <= 0 else threshold / score
            return -score
        if threshold is not None and threshold > 0:
            return score / threshold
        return score

    @property
    def sort_key(self) -> tuple[int, float, int]:
        severity = self.severity
        return (self.group, math.inf if math.isnan(severity) else -severity, self.index)


def _column(entry: object, index: int, anchor: str | None = None) -> _Column | None:
    if not isinstance(entry, Mapping):
        return None
    skipped = entry.get("skipped")
    stat = _text(entry.get("stat")) or None
    plot = entry.get("plot")
    return _Column(
        index=index,
        anchor=anchor or f"c-{index}",
        name=_text(entry.get("column")),
        kind=_text(entry.get("kind")),
        test=_text(entry.get("test")) or None,
        stat=stat,
        score=_num(entry.get("score")),
        threshold=_num(entry.get("threshold")),
        drifted=entry.get("drifted") is True,
        skipped=None if skipped is None or skipped is False else ("" if skipped is True else _text(skipped)),
        reference_missing=_fraction(entry.get("reference_missing")),
        current_missing=_fraction(entry.get("current_missing")),
        plot=plot if isinstance(plot, Mapping) else None,
    )


def _text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _num(value: object) -> float | None:
    """A number (infinities kept); None for None, NaN, booleans and anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _fraction(value: object) -> float | None:
    number = _num(value)
    return number if number is not None and math.isfinite(number) else None


def _int(value: object) -> int | None:
    number = _fraction(value)
    return None if number is None else round(number)


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _shares(value: object) -> list[float] | None:
    """Fractions for a chart: None, NaN and negative values count as 0."""
    if not isinstance(value, list):
        return None
    return [max(number, 0.0) if (number := _fraction(v)) is not None else 0.0 for v in value]


# ----------------------------------------------------------------------------------- formatting


def _esc(value: object) -> str:
    text = _text(value).translate(_CONTROL)
    if not text.isascii():
        text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates from JSON
    return html.escape(text, quote=True)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clip_width(text: str, budget: int) -> str:
    """``text`` cut to about ``budget`` narrow characters (wide East Asian ones count twice)."""
    used = 0
    for i, char in enumerate(text):
        used += 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if used > budget:
            return text[: max(i - 1, 1)] + "…"
    return text


def _sig(value: float | None, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits; plain (thousands separated) from 1e-3 to 1e15."""
    if value is None:
        return DASH
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 10**digits and magnitude < 1e15:
        return f"{value:,.0f}"
    if magnitude < 1e-3 or magnitude >= 1e15:
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{exponent}"
    decimals = max(digits - 1 - math.floor(math.log10(magnitude)), 0)
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _score(value: float | None, stat: str | None) -> str:
    """p-values like ``3.2e-05`` or ``0.041``; distances to 3 significant digits."""
    if value is not None and stat == "p_value" and math.isfinite(value) and value != 0:
        return f"{value:.1e}" if abs(value) < 1e-3 else _sig(value, 2)
    return _sig(value, 3)


def _pct(value: float | None) -> str:
    if value is None:
        return DASH
    if value == 0:
        return "0%"
    percent = value * 100
    if abs(percent) < 0.1:
        return "<0.1%" if percent > 0 else "-<0.1%"
    if 99.9 < percent < 100:
        return ">99.9%"
    return f"{percent:.1f}".rstrip("0").rstrip(".") + "%"


def _rows(value: int | None) -> str:
    return DASH if value is None else f"{value:,}"


def _signed(value: float, digits: int = 3) -> str:
    text = _sig(value, digits)
    return text if text.startswith("-") or text == "0" else "+" + text


def _test_name(test: str | None) -> str:
    if not test:
        return DASH
    return _TEST_NAMES.get(test.lower(), test)


def _stat_name(stat: str | None) -> str:
    return {"p_value": "p-value", "distance": "distance"}.get(stat or "", stat or "score")


def _when(value: str) -> str:
    """An ISO 8601 moment as ``2024-05-01 14:05 UTC`` (unchanged when it does not parse)."""
    moment = _parse_time(value)
    if moment is None:
        return value
    text = moment.strftime("%Y-%m-%d %H:%M")
    offset = moment.utcoffset()
    if offset is None:
        return text
    return f"{text} UTC" if not offset else f"{text} {moment.strftime('%z')}"


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def _badge(column: _Column) -> str:
    if column.drifted:
        return '<span class="badge drift">Drift</span>'
    if column.skipped is not None:
        return '<span class="badge skip">Skipped</span>'
    if column.score is None:
        return '<span class="badge skip">Not tested</span>'
    return '<span class="badge ok">No drift</span>'


def _missing(column: _Column) -> str:
    ref, cur = column.reference_missing, column.current_missing
    if ref is None and cur is None:
        return DASH
    rise = cur is not None and cur - (ref or 0.0) > MISSING_RISE
    current = f'<span class="up">{_pct(cur)}</span>' if rise else _pct(cur)
    return f"{_pct(ref)} → {current}"


# --------------------------------------------------------------------------------------- header


def _header(report: Mapping[str, Any], title: str, columns: list[_Column], prediction: _Column | None) -> str:
    drift = report.get("dataset_drift")
    tested = _int(report.get("columns_tested"))
    if tested is None and columns:
        tested = sum(1 for c in columns if c.group < 2)
    drifted = _int(report.get("drifted_columns"))
    if drifted is None and columns:
        drifted = sum(1 for c in columns if c.drifted)
    share = _fraction(report.get("drift_share"))
    if share is None and drifted is not None and tested:
        share = drifted / tested
    threshold = _fraction(report.get("share_threshold"))

    state = "drift" if drift is True else "ok" if drift is False else "unknown"
    verdict = {
        "drift": "Dataset drift detected",
        "ok": "No dataset drift",
        "unknown": "Dataset drift not determined",
    }[state]
    because = []
    if share is not None:
        counted = f" ({drifted} of {tested})" if drifted is not None and tested is not None else ""
        because.append(f"{_pct(share)} of tested columns drifted{counted}")
    if threshold is not None:
        because.append(f"the threshold is {_pct(threshold)}")

    facts = [
        _fact("Drift share", _pct(share), f"threshold {_pct(threshold)}", _gauge(share, threshold, state))
    ]
    facts.append(_fact("Drifted columns", _rows(drifted), f"of {_rows(tested)} tested"))
    for key, name in (("reference", "Reference"), ("current", "Current")):
        part = report.get(key)
        part = part if isinstance(part, Mapping) else {}
        facts.append(_fact(name, f"{_rows(_int(part.get('rows')))} rows", _esc(part.get("label")) or DASH))
    performance = report.get("performance")
    if isinstance(performance, Mapping):
        facts.append(_fact("Labels", _rows(_int(performance.get("labelled"))), "labelled rows"))
    if prediction is not None:
        facts.append(
            _fact(
                "Prediction",
                _badge(prediction),
                f"{_esc(_stat_name(prediction.stat))} {_score(prediction.score, prediction.stat)}",
            )
        )

    generated = _text(report.get("generated_at"))
    when = (
        f'<p class="meta">Generated <time datetime="{_esc(generated)}">{_esc(_when(generated))}</time></p>'
        if generated
        else ""
    )
    return (
        f'<header class="top"><p class="eyebrow">Keel monitoring report</p><h1>{_esc(title)}</h1>{when}'
        f'<div class="verdict {state}"><strong>{verdict}</strong>'
        f"<span>{'; '.join(because) + '.' if because else ''}</span></div>"
        f'<dl class="facts">{"".join(facts)}</dl></header>'
    )


def _fact(name: str, value: str, note: str, extra: str = "") -> str:
    return f"<div><dt>{name}</dt><dd>{value}<small>{note}</small>{extra}</dd></div>"


def _gauge(share: float | None, threshold: float | None, state: str) -> str:
    if share is None:
        return ""
    width = min(max(share, 0.0), 1.0) * 100
    mark = "" if threshold is None else f'<i style="left:{min(max(threshold, 0.0), 1.0) * 100:.1f}%"></i>'
    return (
        f'<div class="gauge {state}" aria-hidden="true"><span style="width:{width:.1f}%"></span>{mark}</div>'
    )


# ---------------------------------------------------------------------------------- the columns


def _summary_section(columns: list[_Column]) -> str:
    if not columns:
        return ""
    rows = []
    for rank, column in enumerate(columns, 1):
        reason = f'<small class="muted reason">{_esc(column.skipped)}</small>' if column.skipped else ""
        missing = -1.0 if column.current_missing is None else column.current_missing
        rows.append(
            f'<tr data-name="{_esc(column.name.lower())}" data-drift="{int(column.drifted)}">'
            f'<td class="num" data-v="{rank}">{rank}</td>'
            f'<th scope="row" data-v="{_esc(column.name.lower())}"><a href="#{column.anchor}">{_esc(column.name) or DASH}</a></th>'
            f'<td data-v="{_esc(column.kind)}">{_esc(column.kind) or DASH}</td>'
            f'<td class="nw">{_esc(_test_name(column.test))}</td>'
            f'<td class="num" title="{_esc(_stat_name(column.stat))}">{_score(column.score, column.stat)}</td>'
            f'<td class="num">{_score(column.threshold, column.stat)}</td>'
            f"<td>{_badge(column)}{reason}</td>"
            f'<td class="num" data-v="{missing:.6g}">{_missing(column)}</td></tr>'
        )
    return (
        '<p class="muted">Drifted columns first, then by score relative to the threshold; skipped columns last.</p>'
        '<div class="filters" id="filters" hidden><input type="search" id="q" placeholder="Filter columns…" '
        'aria-label="Filter columns by name"><label><input type="checkbox" id="only-drift"> Drifted only</label>'
        '<span id="shown" class="muted" aria-live="polite"></span></div>'
        '<div class="scroll"><table class="cols"><thead><tr>'
        '<th scope="col" class="num" data-sort="num" aria-sort="ascending">#</th>'
        '<th scope="col" data-sort="text">Column</th><th scope="col" data-sort="text">Kind</th>'
        '<th scope="col">Test</th><th scope="col" class="num">Score</th><th scope="col" class="num">Threshold</th>'
        '<th scope="col">Verdict</th><th scope="col" class="num" data-sort="num">Missing (ref → cur)</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _cards_section(columns: list[_Column]) -> str:
    if not columns:
        return ""
    return f'<div class="cards">{"".join(_card(c) for c in columns)}</div>'


def _card(column: _Column, *, filterable: bool = True) -> str:
    chart = _chart(column)
    stats: list[tuple[str, str]] = []
    if column.skipped is None or column.test is not None or column.score is not None:
        stats += [
            ("Test", _esc(_test_name(column.test))),
            (_esc(_stat_name(column.stat).capitalize()), _score(column.score, column.stat)),
            ("Threshold", _score(column.threshold, column.stat)),
        ]
    stats += [
        ("Missing (ref)", _pct(column.reference_missing)),
        ("Missing (cur)", _pct(column.current_missing)),
    ]
    listing = "".join(f"<div><dt>{name}</dt><dd>{value}</dd></div>" for name, value in stats)
    if column.skipped is not None:
        listing += f'<div class="wide"><dt>Not tested</dt><dd>{_esc(column.skipped) or "skipped"}</dd></div>'
    attributes = (
        f' data-name="{_esc(column.name.lower())}" data-drift="{int(column.drifted)}"' if filterable else ""
    )
    state = " drift" if column.drifted else ""
    kind = f'<p class="muted kind">{_esc(column.kind)}</p>' if column.kind else ""
    back = '<a class="back" href="#columns">↑ Columns</a>' if filterable else ""
    return (
        f'<article class="card{state}" id="{column.anchor}"{attributes}>'
        f"<header><h3>{_esc(column.name) or DASH}</h3>{_badge(column)}</header>{kind}"
        f'{chart}<dl class="stats">{listing}</dl>{back}</article>'
    )


def _chart(column: _Column) -> str:
    plot = column.plot
    drawn: tuple[str, str] | None = None
    if plot is not None:
        kind = plot.get("type")
        if kind == "histogram":
            drawn = _histogram(column.anchor, column.name, column.kind, plot)
        elif kind == "bars":
            drawn = _bars(column.anchor, column.name, plot)
    if drawn is None:
        why = "No distribution to show." if plot is None else "The distribution data could not be read."
        return f'<p class="nochart muted">{why}</p>'
    svg, note = drawn
    caption = f"<figcaption>{note}</figcaption>" if note else ""
    return f"<figure>{svg}{caption}</figure>"


# ---------------------------------------------------------------------------------------- model


def _model_section(prediction: _Column | None, performance: object) -> str:
    parts = []
    if prediction is not None:
        card = _card(replace(prediction, name=prediction.name or "prediction"), filterable=False)
        parts.append(f'<h3>Prediction drift</h3><div class="cards one">{card}</div>')
    if isinstance(performance, Mapping):
        parts.append(_performance(performance))
    return "".join(parts)


def _performance(performance: Mapping[str, Any]) -> str:
    labelled = _int(performance.get("labelled"))
    metrics = performance.get("metrics")
    rows = []
    if isinstance(metrics, Mapping):
        for name, values in metrics.items():
            values = values if isinstance(values, Mapping) else {}
            current, reference = _num(values.get("current")), _num(values.get("reference"))
            change = DASH
            if current is not None and reference is not None and math.isfinite(current - reference):
                change = _signed(current - reference)
                if reference != 0 and math.isfinite(reference):
                    change += f' <small class="muted">({_signed((current - reference) / abs(reference) * 100, 2)}%)</small>'
            rows.append(
                f'<tr><th scope="row">{_esc(name)}</th><td class="num">{_sig(reference, 4)}</td>'
                f'<td class="num">{_sig(current, 4)}</td><td class="num">{change}</td></tr>'
            )
    note = (
        f'<p class="muted">Measured on {_rows(labelled)} labelled rows.</p>' if labelled is not None else ""
    )
    if not rows:
        return f'<h3>Performance</h3>{note}<p class="muted">No metrics yet.</p>'
    return (
        f'<h3>Performance</h3>{note}<div class="scroll"><table class="perf"><thead><tr><th scope="col">Metric</th>'
        '<th scope="col" class="num">Reference</th><th scope="col" class="num">Current</th>'
        f'<th scope="col" class="num">Difference</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )


# -------------------------------------------------------------------------------------- quality


def _quality_section(quality: object) -> str:
    """Failed rules in a table; passed ones folded away under it (there are two per column)."""
    if not isinstance(quality, list):
        return ""
    entries = [q for q in quality if isinstance(q, Mapping)]
    if not entries:
        return '<p class="muted">No data-quality rules were checked.</p>'
    failed = [q for q in entries if q.get("passed") is not True]
    passed = [q for q in entries if q.get("passed") is True]
    parts = [f'<p class="muted">{len(failed)} of {len(entries)} rules failed.</p>']
    if failed:
        parts.append(_quality_table(failed, passed=False))
    if passed:
        parts.append(
            f"<details><summary>{len(passed)} passed rules</summary>{_quality_table(passed, passed=True)}</details>"
        )
    return "".join(parts)


def _quality_table(entries: list[Mapping[str, Any]], *, passed: bool) -> str:
    badge = '<span class="badge ok">Passed</span>' if passed else '<span class="badge drift">Failed</span>'
    rows = "".join(
        f"<tr><td>{badge}</td><td>{_esc(entry.get('column')) or DASH}</td>"
        f"<td>{_esc(entry.get('rule')) or DASH}</td>"
        f'<td class="num">{_sig(_num(entry.get("value")))}</td>'
        f'<td class="num">{_sig(_num(entry.get("threshold")))}</td>'
        f'<td class="msg">{_esc(entry.get("message"))}</td></tr>'
        for entry in entries
    )
    return (
        '<div class="scroll"><table class="quality"><thead><tr><th scope="col">Status</th>'
        '<th scope="col">Column</th><th scope="col">Rule</th><th scope="col" class="num">Value</th>'
        '<th scope="col" class="num">Threshold</th><th scope="col">Message</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


# ---------------------------------------------------------------------------------- chart tools


def _f(value: float) -> str:
    """An SVG coordinate: one decimal, no trailing zero."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2, 2.5 or 5 times a power of ten apart)."""
    if not (high > low) or not math.isfinite(high - low):
        return [low]
    raw = (high - low) / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next((m * power for m in (1, 2, 2.5, 5) if raw <= m * power * (1 + 1e-9)), 10 * power)
    decimals = max(0, -math.floor(math.log10(step)) + 2)
    first = math.ceil(low / step - 1e-9)
    ticks = []
    for i in range(first, first + count * 3):
        value = round(i * step, decimals) + 0.0
        if value > high + step * 1e-9:
            break
        ticks.append(value)
    return ticks


def _step_decimals(step: float) -> int:
    for decimals in range(12):
        if abs(round(step, decimals) - step) <= abs(step) * 1e-6:
            return decimals
    return 12


def _number_format(ticks: Sequence[float]) -> Callable[[float], str]:
    """Tick labels with the decimals the step needs; k, M, G for large round numbers."""
    step = ticks[1] - ticks[0] if len(ticks) > 1 else abs(ticks[0]) or 1.0
    largest = max(abs(t) for t in ticks)
    if 1e4 <= largest < 1e15 and step >= 1e3:
        for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
            decimals = _step_decimals(step / scale)
            if scale <= largest and decimals <= 2:

                def scaled(
                    value: float, scale: float = scale, suffix: str = suffix, decimals: int = decimals
                ) -> str:
                    return "0" if value == 0 else f"{value / scale:.{decimals}f}{suffix}"

                return scaled
    if largest >= 1e15 or step < 1e-4:
        return lambda v: "0" if v == 0 else f"{v:.2g}"
    decimals = _step_decimals(step)
    return lambda v: f"{v:.{decimals}f}"  # no thousands separator: 2010 may be a year


def _percent_format(ticks: Sequence[float]) -> Callable[[float], str]:
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 0.01
    decimals = _step_decimals(step * 100)
    return lambda v: f"{v * 100:.{decimals}f}%"


_TIME_STEPS = (
    1,
    5,
    15,
    30,
    60,
    300,
    900,
    1800,
    3600,
    7200,
    10800,
    21600,
    43200,
    86400,
    172800,
    604800,
    1209600,
)
_MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60, 120, 240, 600, 1200, 2400)


def _time_axis(low: float, high: float) -> tuple[list[float], Callable[[float], str]] | None:
    """Ticks on round times for a datetime column's edges (POSIX seconds; ms, µs and ns are
    recognised by their size), and their labels; None when the edges are no moments."""
    biggest = max(abs(low), abs(high))
    scale = next((s for limit, s in ((1e11, 1.0), (1e14, 1e3), (1e17, 1e6)) if biggest < limit), 1e9)
    first, last = low / scale, high / scale
    try:
        start, end = datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(last, UTC)
        step = next((s for s in _TIME_STEPS if (last - first) / s <= 6), None)
        if step is not None:
            ticks = [float(t * step) for t in range(math.ceil(first / step), math.floor(last / step) + 1)]
            if step >= 86400:
                pattern = "%Y-%m-%d"
            elif start.date() == end.date():
                pattern = "%H:%M" if step >= 60 else "%H:%M:%S"
            else:
                pattern = "%m-%d %H:%M"
        else:
            months = next(
                (m for m in _MONTH_STEPS if (last - first) / (m * 2_629_746) <= 6), _MONTH_STEPS[-1]
            )
            index = start.year * 12 + start.month - 1 + (start.day > 1 or start.time() != datetime.min.time())
            index = -(-index // months) * months
            ticks = []
            while (moment := datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)) <= end:
                ticks.append(moment.timestamp())
                index += months
            pattern = "%Y" if months >= 12 else "%Y-%m"
    except (OverflowError, OSError, ValueError):
        return None

    def label(value: float) -> str:
        return datetime.fromtimestamp(value / scale, UTC).strftime(pattern)

    return [t * scale for t in ticks], label


def _x_labels(labels: Sequence[tuple[float, str]], y: float, right: float) -> str:
    """Tick labels under an axis, centred; the last one ends at the edge when it would overflow."""
    out = []
    for x, text in labels:
        anchor = ' class="e"' if x > right - 3.5 * len(text) else ""
        out.append(f'<text x="{_f(x)}" y="{_f(y)}"{anchor}>{_esc(text)}</text>')
    return '<g class="xt">' + "".join(out) + "</g>"


def _legend(x: float, y: float, current_line: bool) -> str:
    reference = "ra" if current_line else "r"
    current = (
        f'<path class="cl" d="M{_f(x + 86)},{_f(y - 4)}h14"/>'
        if current_line
        else f'<rect class="c" x="{_f(x + 86)}" y="{_f(y - 9)}" width="12" height="10"/>'
    )
    return (
        f'<g class="lg" aria-hidden="true"><rect class="{reference}" x="{_f(x)}" y="{_f(y - 9)}" width="12" height="10"/>'
        f'<text x="{_f(x + 17)}" y="{_f(y)}">Reference</text>{current}'
        f'<text x="{_f(x + 105)}" y="{_f(y)}">Current</text></g>'
    )


def _svg_open(uid: str, width: int, height: int, title: str, desc: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{uid}-t {uid}-d">'
        f'<title id="{uid}-t">{_esc(title)}</title><desc id="{uid}-d">{_esc(desc)}</desc>'
    )


# ------------------------------------------------------------------------------------ histogram

_W, _H = 480, 230
_LEFT, _RIGHT, _TOP, _BOTTOM = 50, 12, 28, 44


def _histogram(uid: str, name: str, kind: str, plot: Mapping[str, Any]) -> tuple[str, str] | None:
    raw_edges, ref, cur = plot.get("edges"), _shares(plot.get("reference")), _shares(plot.get("current"))
    if not isinstance(raw_edges, list) or ref is None or cur is None:
        return None
    parsed = [_num(e) for e in raw_edges]
    edges = [e for e in parsed if e is not None]
    bins = len(edges) - 1
    if bins < 1 or len(edges) != len(parsed) or len(ref) != bins or len(cur) != bins:
        return None
    if any(b < a for a, b in pairwise(edges)):
        return None
    edges, ref, cur = _merge_bins(edges, ref, cur, MAX_BINS)
    bins = len(ref)
    notes = []
    outside = [1.0 - sum(ref), 1.0 - sum(cur)]
    if any(OUTSIDE_NOTE < share <= 1.0 for share in outside) and sum(ref) > 0 and sum(cur) > 0:
        notes.append(
            f"Outside the range drawn: reference {_pct(max(outside[0], 0.0))}, current {_pct(max(outside[1], 0.0))}."
        )

    positions = _value_positions(edges)
    if positions is None:  # quantile axis: equal slots
        xs = [float(i) for i in range(bins + 1)]
        ref_h, cur_h = ref, cur
        notes.append("Bins drawn at equal width (quantile axis); ticks show bin edges.")
    else:
        xs = positions
        mean_width = (xs[-1] - xs[0]) / bins
        widths = [b - a for a, b in pairwise(xs)]
        ref_h = [s * mean_width / w for s, w in zip(ref, widths, strict=True)]
        cur_h = [s * mean_width / w for s, w in zip(cur, widths, strict=True)]
        if max(widths) > min(widths) * 1.05:
            notes.append("Bins of unequal width: heights are scaled to the average bin width.")
        if math.isinf(edges[0]) or math.isinf(edges[-1]):
            notes.append("Open-ended outer bins are drawn one average bin wide.")

    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    base = _TOP + plot_h
    x0, x1 = xs[0], xs[-1]

    def sx(value: float) -> float:
        return _LEFT + (value - x0) / (x1 - x0) * plot_w

    y_ticks = _y_ticks(max(*ref_h, *cur_h))
    y_top = y_ticks[-1]

    def sy(value: float) -> float:
        return base - min(value / y_top, 1.0) * plot_h

    def step_path(heights: list[float], close: bool) -> str:
        path = [f"M{_f(sx(xs[0]))},{_f(base)}"]
        for i, height in enumerate(heights):
            path.append(f"V{_f(sy(height))}H{_f(sx(xs[i + 1]))}")
        path.append(f"V{_f(base)}" + ("Z" if close else ""))
        return "".join(path)

    # x ticks: round values on a value axis; a few bin edges on a quantile axis
    x_labels: list[tuple[float, str]] = []
    if positions is None:
        picks = sorted({round(j * bins / 5) for j in range(6)})
        x_labels = [(float(i), _edge_label(edges[i])) for i in picks]
    else:
        timed = _time_axis(x0, x1) if kind == "datetime" else None
        ticks, label = timed or (_nice_ticks(x0, x1, 5), None)
        label = label or _number_format(ticks)
        x_labels = [(t, label(t)) for t in ticks if x0 <= t <= x1]

    y_label = _percent_format(y_ticks)
    out = [
        _svg_open(
            uid,
            _W,
            _H,
            f"Distribution of {name}: reference vs current",
            _histogram_desc(name, edges, ref, cur),
        )
    ]
    out.append(
        '<path class="grid" d="' + "".join(f"M{_LEFT},{_f(sy(t))}H{_W - _RIGHT}" for t in y_ticks[1:]) + '"/>'
    )
    out.append(
        f'<path class="ra" d="{step_path(ref_h, True)}"/><path class="cl" d="{step_path(cur_h, False)}"/>'
    )
    out.append(
        f'<path class="ax" d="M{_LEFT},{_f(base)}H{_W - _RIGHT}'
        + "".join(f"M{_f(sx(x))},{_f(base)}v4" for x, _ in x_labels if x0 <= x <= x1)
        + '"/>'
    )
    out.append(
        '<g class="yt">'
        + "".join(f'<text x="{_LEFT - 5}" y="{_f(sy(t) + 3.5)}">{y_label(t)}</text>' for t in y_ticks)
        + "</g>"
    )
    out.append(_x_labels([(sx(x), text) for x, text in x_labels], base + 16, _W))
    out.append(
        f'<text class="t" x="{_f(_LEFT + plot_w / 2)}" y="{_H - 6}" text-anchor="middle">{_esc(_clip(name, 48)) or "value"}</text>'
    )
    out.append(
        f'<text class="t" transform="rotate(-90)" x="{_f(-(_TOP + plot_h / 2))}" y="12" text-anchor="middle">share of rows</text>'
    )
    out.append(_legend(_W - _RIGHT - 150, 14, current_line=True))
    out.append("</svg>")
    return "".join(out), " ".join(notes)


def _merge_bins(
    edges: list[float], ref: list[float], cur: list[float], limit: int
) -> tuple[list[float], list[float], list[float]]:
    if len(ref) <= limit:
        return edges, ref, cur
    size = math.ceil(len(ref) / limit)
    starts = range(0, len(ref), size)
    return (
        [edges[i] for i in starts] + [edges[-1]],
        [sum(ref[i : i + size]) for i in starts],
        [sum(cur[i : i + size]) for i in starts],
    )


def _value_positions(edges: list[float]) -> list[float] | None:
    """Edge positions on a linear value axis (open ends closed), or None for a quantile axis."""
    inner = edges[1:-1]
    finite = [e for e in edges if math.isfinite(e)]
    if len(finite) < 2 or not all(math.isfinite(e) for e in inner):
        return None
    pad = (finite[-1] - finite[0]) / (len(finite) - 1)
    positions = list(edges)
    if not math.isfinite(positions[0]):
        positions[0] = positions[1] - pad
    if not math.isfinite(positions[-1]):
        positions[-1] = positions[-2] + pad
    widths = [b - a for a, b in pairwise(positions)]
    if not all(math.isfinite(w) and w > 0 for w in widths) or not math.isfinite(positions[-1] - positions[0]):
        return None
    if max(widths) > min(widths) * MAX_WIDTH_RATIO:
        return None
    bins = len(widths)
    middle = positions[round(bins * 0.75)] - positions[round(bins * 0.25)]
    return positions if middle >= (positions[-1] - positions[0]) * MIN_MIDDLE_SPAN else None


def _edge_label(value: float) -> str:
    if math.isinf(value):
        return "-∞" if value < 0 else "∞"
    magnitude = abs(value)
    if 1e4 <= magnitude < 1e15:
        scale, suffix = next(
            (s, x) for s, x in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")) if magnitude >= s
        )
        return f"{value / scale:.3g}{suffix}"
    return _sig(value, 3)


def _y_ticks(high: float) -> list[float]:
    if not (high > 0):
        return [0.0, 0.25, 0.5, 0.75, 1.0]
    ticks = _nice_ticks(0.0, high, 4)
    if ticks[-1] < high * 0.999:
        ticks.append(round(2 * ticks[-1] - ticks[-2], 12) if len(ticks) > 1 else high)
    return ticks


def _histogram_desc(name: str, edges: list[float], ref: list[float], cur: list[float]) -> str:
    bins = len(ref)
    text = f"Step histogram of {name or 'the column'}: share of rows in each of {bins} bins, from {_edge_label(edges[0])} to {_edge_label(edges[-1])}; reference as a filled grey area, current as a blue line."
    if bins:
        i = max(range(bins), key=lambda j: abs(cur[j] - ref[j]))
        low, high = _edge_label(edges[i]), _edge_label(edges[i + 1])
        text += f" Largest difference in ({low}, {high}]: reference {_pct(ref[i])}, current {_pct(cur[i])}."
    return text


# ----------------------------------------------------------------------------------------- bars

_ROW, _BAR = 18, 7
_LABEL_W = 128


def _bars(uid: str, name: str, plot: Mapping[str, Any]) -> tuple[str, str] | None:
    raw, ref, cur = plot.get("categories"), _shares(plot.get("reference")), _shares(plot.get("current"))
    if not isinstance(raw, list) or ref is None or cur is None:
        return None
    count = len(raw)
    if count < 1 or len(ref) != count or len(cur) != count:
        return None
    categories = ["(missing)" if c is None else _text(c) or "(empty)" for c in raw]
    shown = list(range(count))
    note = ""
    if count > MAX_CATEGORIES:
        largest = sorted(shown, key=lambda i: -max(ref[i], cur[i]))[:MAX_CATEGORIES]
        shown = sorted(largest)
        kept = set(shown)
        rest = [i for i in range(count) if i not in kept]
        note = (
            f"{len(rest)} smaller categories not shown (reference {_pct(sum(ref[i] for i in rest))}, "
            f"current {_pct(sum(cur[i] for i in rest))})."
        )

    plot_w = _W - _LABEL_W - _RIGHT - 8
    top, bottom = 28, 40
    height = top + len(shown) * _ROW + bottom
    base = top + len(shown) * _ROW
    x_ticks = _y_ticks(max(max(ref[i], cur[i]) for i in shown))
    x_top = x_ticks[-1]
    left = _LABEL_W

    def sx(value: float) -> float:
        return left + min(value / x_top, 1.0) * plot_w

    x_label = _percent_format(x_ticks)
    out = [
        _svg_open(
            uid,
            _W,
            height,
            f"Categories of {name}: reference vs current",
            _bars_desc(name, categories, ref, cur),
        )
    ]
    out.append('<path class="grid" d="' + "".join(f"M{_f(sx(t))},{top}V{base}" for t in x_ticks[1:]) + '"/>')
    bars_ref, bars_cur, labels = [], [], []
    for row, i in enumerate(shown):
        y = top + row * _ROW + (_ROW - 2 * _BAR) / 2
        bars_ref.append(f'<rect x="{left}" y="{_f(y)}" width="{_f(sx(ref[i]) - left)}" height="{_BAR}"/>')
        bars_cur.append(
            f'<rect x="{left}" y="{_f(y + _BAR)}" width="{_f(sx(cur[i]) - left)}" height="{_BAR}"/>'
        )
        category = categories[i]
        clipped = _clip_width(category, 18)
        tip = f"<title>{_esc(category)}</title>" if clipped != category else ""
        labels.append(f'<text x="{left - 6}" y="{_f(y + _BAR + 3.5)}">{tip}{_esc(clipped)}</text>')
    out.append(f'<g class="r">{"".join(bars_ref)}</g><g class="c">{"".join(bars_cur)}</g>')
    out.append(f'<g class="yt">{"".join(labels)}</g>')
    out.append(
        f'<path class="ax" d="M{left},{top}V{base}'
        + "".join(f"M{_f(sx(t))},{base}v4" for t in x_ticks)
        + '"/>'
    )
    out.append(_x_labels([(sx(t), x_label(t)) for t in x_ticks], base + 16, _W))
    out.append(
        f'<text class="t" x="{_f(left + plot_w / 2)}" y="{height - 6}" text-anchor="middle">share of rows</text>'
    )
    out.append(
        f'<text class="t" x="{left - 6}" y="16" text-anchor="end">{_esc(_clip(name, 20)) or "category"}</text>'
    )
    out.append(_legend(_W - _RIGHT - 150, 16, current_line=False))
    out.append("</svg>")
    return "".join(out), note


def _bars_desc(name: str, categories: list[str], ref: list[float], cur: list[float]) -> str:
    text = f"Bar chart of {name or 'the column'}: share of rows in each of {len(categories)} categories, reference (grey) above current (blue)."
    i = max(range(len(categories)), key=lambda j: abs(cur[j] - ref[j]))
    return (
        text
        + f" Largest difference for {_clip(categories[i], 60)}: reference {_pct(ref[i])}, current {_pct(cur[i])}."
    )


# -------------------------------------------------------------------------------------- windows


def _windows_section(report: Mapping[str, Any]) -> str:
    windows = [w for w in _list(report.get("windows")) if isinstance(w, Mapping)]
    if not windows:
        return ""
    threshold = _fraction(report.get("share_threshold"))
    starts = [_text(w.get("start")) for w in windows]
    shares = [_fraction(w.get("drift_share")) for w in windows]
    drifts = [w.get("dataset_drift") is True for w in windows]
    svg = _windows_svg(starts, shares, drifts, windows, threshold)
    rows = []
    for window, share, drift in list(zip(windows, shares, drifts, strict=True))[:MAX_WINDOW_ROWS]:
        badge = (
            '<span class="badge drift">Drift</span>' if drift else '<span class="badge ok">No drift</span>'
        )
        rows.append(
            f"<tr><td>{_esc(_when(_text(window.get('start'))))}</td><td>{_esc(_when(_text(window.get('end'))))}</td>"
            f'<td class="num">{_rows(_int(window.get("rows")))}</td><td class="num">{_pct(share)}</td><td>{badge}</td></tr>'
        )
    more = (
        f'<p class="muted">The first {MAX_WINDOW_ROWS} of {len(windows)} windows are listed.</p>'
        if len(windows) > MAX_WINDOW_ROWS
        else ""
    )
    drifted = sum(drifts)
    return (
        f'<p class="muted">{drifted} of {len(windows)} windows had dataset drift.</p><figure class="wide">{svg}</figure>'
        f'<details><summary>Windows as a table</summary>{more}<div class="scroll"><table><thead><tr>'
        '<th scope="col">Start</th><th scope="col">End</th><th scope="col" class="num">Rows</th>'
        '<th scope="col" class="num">Drift share</th><th scope="col">Verdict</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></details>"
    )


def _windows_svg(
    starts: list[str],
    shares: list[float | None],
    drifts: list[bool],
    windows: list[Mapping[str, Any]],
    threshold: float | None,
) -> str:
    width, height = 960, 220
    left, right, top, bottom = 50, 16, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    base = top + plot_h
    count = len(shares)
    known = [s for s in shares if s is not None]
    y_ticks = _y_ticks(max([*known, threshold or 0.0, 0.0]))
    y_top = y_ticks[-1]

    def sx(i: int) -> float:
        return left + (plot_w / 2 if count == 1 else i / (count - 1) * plot_w)

    def sy(value: float) -> float:
        return base - min(value / y_top, 1.0) * plot_h

    line, pen_down = [], False
    for i, share in enumerate(shares):
        if share is None:
            pen_down = False
            continue
        line.append(f"{'L' if pen_down else 'M'}{_f(sx(i))},{_f(sy(share))}")
        pen_down = True

    labels = _window_labels(starts)
    every = max(math.ceil((count - 1) / 5), 1)  # labels on every n-th window, and the last
    picks = list(range(0, count, every))
    if count - 1 - picks[-1] >= every / 2:
        picks.append(count - 1)
    y_label = _percent_format(y_ticks)
    desc = f"Drift share in {count} windows"
    if starts[0] or starts[-1]:
        desc += f" from {_when(starts[0])} to {_when(starts[-1])}"
    if known:
        ranked = [-1.0 if share is None else share for share in shares]
        peak = max(range(count), key=ranked.__getitem__)
        desc += f"; highest {_pct(shares[peak])} in the window starting {_when(starts[peak])}"
    desc += f"; {sum(drifts)} windows with dataset drift."
    if threshold is not None:
        desc += f" Threshold {_pct(threshold)}."
    out = [_svg_open("windows", width, height, "Drift share over time", desc)]
    out.append(
        '<path class="grid" d="'
        + "".join(f"M{left},{_f(sy(t))}H{width - right}" for t in y_ticks[1:])
        + '"/>'
    )
    if threshold is not None:
        out.append(f'<path class="th" d="M{left},{_f(sy(threshold))}H{width - right}"/>')
        out.append(
            f'<text class="thl" x="{width - right}" y="{_f(sy(threshold) - 4)}" text-anchor="end">threshold {_pct(threshold)}</text>'
        )
    out.append(f'<path class="cl" d="{"".join(line)}"/>')
    markers = []
    for i, (share, drift) in enumerate(zip(shares, drifts, strict=True)):
        if share is None or (count > MAX_WINDOW_MARKERS and not drift):
            continue
        window = windows[i]
        tip = (
            f"{_when(starts[i])} – {_when(_text(window.get('end')))}: drift share {_pct(share)}, "
            f"{_rows(_int(window.get('rows')))} rows{', dataset drift' if drift else ''}"
        )
        markers.append(
            f'<circle class="pt{" d" if drift else ""}" cx="{_f(sx(i))}" cy="{_f(sy(share))}" r="{4 if drift else 3}">'
            f"<title>{_esc(tip)}</title></circle>"
        )
    out.append("".join(markers))
    out.append(
        f'<path class="ax" d="M{left},{base}H{width - right}'
        + "".join(f"M{_f(sx(i))},{base}v4" for i in picks)
        + '"/>'
    )
    out.append(
        '<g class="yt">'
        + "".join(f'<text x="{left - 5}" y="{_f(sy(t) + 3.5)}">{y_label(t)}</text>' for t in y_ticks)
        + "</g>"
    )
    out.append(_x_labels([(sx(i), labels[i]) for i in picks], base + 16, width))
    out.append(
        f'<text class="t" x="{_f(left + plot_w / 2)}" y="{height - 6}" text-anchor="middle">window start</text>'
    )
    out.append(
        f'<text class="t" transform="rotate(-90)" x="{_f(-(top + plot_h / 2))}" y="12" text-anchor="middle">drift share</text>'
    )
    out.append("</svg>")
    return "".join(out)


def _window_labels(starts: list[str]) -> list[str]:
    moments = [_parse_time(s) for s in starts]
    if any(m is None for m in moments) or not moments:
        return [_clip(s, 16) for s in starts]
    parsed = [m for m in moments if m is not None]
    try:
        span = abs((parsed[-1] - parsed[0]).total_seconds())
    except TypeError:  # naive and aware moments mixed
        return [_clip(s, 16) for s in starts]
    one_day = all(m.date() == parsed[0].date() for m in parsed)
    pattern = "%H:%M" if one_day else "%m-%d %H:%M" if span <= 7 * 86400 else "%Y-%m-%d"
    return [m.strftime(pattern) for m in parsed]


# ---------------------------------------------------------------------------------- CSS and JS

_CSS = """
:root{--fg:#1f2328;--muted:#59636e;--bg:#fff;--panel:#f6f8fa;--line:#d1d9e0;--grid:#eaeef2;--ref:#8c959f;--cur:#0969da;--bad:#cf222e;--bad-bg:#ffebe9;--good:#1a7f37;--good-bg:#dafbe1;--skip-bg:#eaeef2;--warn:#9a6700;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--panel:#151b23;--line:#3d444d;--grid:#262c36;--ref:#7d8590;--cur:#4493f8;--bad:#ff7b72;--bad-bg:#3c1618;--good:#3fb950;--good-bg:#12261e;--skip-bg:#262c36;--warn:#d29922}}
*{box-sizing:border-box}[hidden]{display:none!important}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.wrap{max-width:1240px;margin:0 auto;padding:24px 20px 48px}
a{color:var(--cur)}
h1{font-size:24px;line-height:1.25;margin:0 0 4px;overflow-wrap:anywhere}
h2{font-size:18px;margin:36px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:16px 0 6px;overflow-wrap:anywhere}
.muted,.meta,.eyebrow{color:var(--muted)}.meta,.eyebrow{margin:0}
.eyebrow{font-size:12px;text-transform:uppercase;letter-spacing:.06em}
.verdict{display:flex;gap:6px 14px;align-items:baseline;flex-wrap:wrap;margin:16px 0;padding:12px 16px;border:1px solid var(--line);border-left:6px solid var(--muted);border-radius:8px;background:var(--panel)}
.verdict.drift{border-left-color:var(--bad)}.verdict.drift strong{color:var(--bad)}
.verdict.ok{border-left-color:var(--good)}.verdict.ok strong{color:var(--good)}
.verdict strong{font-size:17px}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px;margin:0}
.facts>div{padding:10px 12px;border:1px solid var(--line);border-radius:8px}
.facts dt{color:var(--muted);font-size:12px}
.facts dd{margin:2px 0 0;font-size:18px;font-variant-numeric:tabular-nums}
.facts small{display:block;font-size:12px;color:var(--muted);overflow-wrap:anywhere}
.gauge{position:relative;height:6px;margin-top:6px;background:var(--grid);border-radius:3px}
.gauge span{position:absolute;left:0;top:0;bottom:0;background:var(--good);border-radius:3px}
.gauge.drift span{background:var(--bad)}.gauge.unknown span{background:var(--muted)}
.gauge i{position:absolute;top:-3px;bottom:-3px;width:2px;margin-left:-1px;background:var(--fg)}
nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:4px 18px;padding:0;margin:18px 0 0}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;line-height:1.6;white-space:nowrap}
.badge.drift{color:var(--bad);background:var(--bad-bg)}.badge.ok{color:var(--good);background:var(--good-bg)}
.badge.skip{color:var(--muted);background:var(--skip-bg)}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:baseline}
thead th{font-size:12px;color:var(--muted);font-weight:600;white-space:nowrap}
tbody th{font-weight:500;overflow-wrap:break-word;min-width:12ch}
.nw{white-space:nowrap}.reason{display:block;max-width:40ch;font-size:12px}
tbody tr:hover{background:var(--panel)}
.num{text-align:right;white-space:nowrap}table.perf{width:auto;min-width:min(640px,100%)}.msg{overflow-wrap:anywhere}
.scroll{overflow-x:auto}
th button{font:inherit;color:inherit;background:none;border:0;padding:0;cursor:pointer}
th[aria-sort=ascending] button::after{content:" \\25B2"}th[aria-sort=descending] button::after{content:" \\25BC"}
.up{color:var(--warn);font-weight:600}
.filters{display:flex;gap:8px 16px;align-items:center;flex-wrap:wrap;margin:8px 0}
.filters input[type=search]{font:inherit;padding:5px 10px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);min-width:260px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(440px,100%),1fr));gap:16px}
.cards.one{grid-template-columns:minmax(0,640px)}
.card{border:1px solid var(--line);border-radius:8px;padding:14px 16px;content-visibility:auto;contain-intrinsic-size:auto 440px}
.card.drift{border-top:3px solid var(--bad)}
.card>header{display:flex;justify-content:space-between;gap:8px;align-items:baseline}
.card>header h3{margin:0}.kind{margin:0;font-size:12px}
.card figure,figure.wide{margin:8px 0}
figcaption,.nochart{font-size:12px;color:var(--muted)}
.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(100px,1fr));gap:6px 12px;margin:8px 0 0;font-variant-numeric:tabular-nums}
.stats dt{font-size:12px;color:var(--muted)}.stats .wide{grid-column:1/-1}.stats dd{margin:0;overflow-wrap:anywhere}
.back{display:inline-block;margin-top:8px;font-size:12px}
.chart{display:block;width:100%;height:auto}
.chart text{font-size:11px;fill:var(--muted)}.chart .t{fill:var(--fg)}
.chart .yt text,.chart .xt .e{text-anchor:end}.chart .xt text{text-anchor:middle}
.chart .grid{stroke:var(--grid);fill:none}.chart .ax{stroke:var(--muted);fill:none}
.chart .r{fill:var(--ref)}.chart .c{fill:var(--cur)}
.chart .ra{fill:var(--ref);fill-opacity:.4;stroke:var(--ref)}
.chart .cl{fill:none;stroke:var(--cur);stroke-width:2;stroke-linejoin:round}
.chart .th{stroke:var(--bad);stroke-dasharray:5 4;fill:none}.chart .thl{fill:var(--bad)}
.chart .pt{fill:var(--cur)}.chart .pt.d{fill:var(--bad)}
details{margin-top:8px}summary{cursor:pointer;color:var(--muted)}
footer{margin-top:48px;padding-top:12px;border-top:1px solid var(--line);color:var(--muted);font-size:12px}
@media print{.filters,nav,.back{display:none}.card{break-inside:avoid;content-visibility:visible}}
"""

_JS = """
(function(){
var box=document.getElementById("filters");if(!box)return;box.hidden=false;
var q=document.getElementById("q"),only=document.getElementById("only-drift"),shown=document.getElementById("shown");
var body=document.querySelector("#columns tbody"),items=[].slice.call(document.querySelectorAll("[data-name]"));
function apply(){var t=q.value.trim().toLowerCase(),n=0;
items.forEach(function(e){var ok=e.getAttribute("data-name").indexOf(t)>=0&&(!only.checked||e.getAttribute("data-drift")==="1");
e.hidden=!ok;if(ok&&e.tagName==="TR")n++;});
shown.textContent=(t||only.checked)?n+" of "+body.rows.length+" columns":"";}
q.addEventListener("input",apply);only.addEventListener("change",apply);
[].forEach.call(document.querySelectorAll("#columns th[data-sort]"),function(th){
var b=document.createElement("button");b.type="button";b.textContent=th.textContent;th.textContent="";th.appendChild(b);
b.addEventListener("click",function(){var i=th.cellIndex,up=th.getAttribute("aria-sort")!=="ascending",num=th.getAttribute("data-sort")==="num";
[].forEach.call(th.parentNode.cells,function(h){h.removeAttribute("aria-sort");});th.setAttribute("aria-sort",up?"ascending":"descending");
var rows=[].slice.call(body.rows);rows.sort(function(a,c){var x=a.cells[i].getAttribute("data-v"),y=c.cells[i].getAttribute("data-v");
var r=num?parseFloat(x)-parseFloat(y):x.localeCompare(y);return up?r:-r;});rows.forEach(function(r){body.appendChild(r);});});});
})();
"""
