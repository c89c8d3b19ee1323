"""The tracking Python API, against SQLite and PostgreSQL (the store contract suite)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

import keel
from keel.core.errors import Conflict, InvalidInput, NotFound
from tests.conftest import run_python

pytestmark = pytest.mark.usefixtures("backend")


def test_context_manager_finishes_and_records(project: Path) -> None:
    with keel.start_run(
        experiment="exp", name="first", params={"lr": 0.1, "model": "rf"}, tags={"team": "ml"}
    ) as run:
        assert keel.active_run() is run
        keel.log_metric("loss", 0.5)
        keel.log_metric("loss", 0.25)
        keel.log_metrics({"acc": 0.9, "f1": 0.8})
    assert keel.active_run() is None
    got = keel.get_run(run.id)
    assert got.status == "finished"
    assert (got.experiment, got.name, got.kind) == ("exp", "first", "run")
    assert got.params == {"lr": 0.1, "model": "rf"}
    assert got.metrics == {"acc": 0.9, "f1": 0.8, "loss": 0.25}
    assert got.tags == {"team": "ml"}
    assert got.end_time is not None and got.end_time >= got.start_time
    assert [(p.step, p.value) for p in keel.get_metric_history(run.id, "loss")] == [(0, 0.5), (1, 0.25)]


def test_exception_marks_failed_and_keyboard_interrupt_killed(project: Path) -> None:
    with pytest.raises(ValueError, match="boom"), keel.start_run() as failed:
        raise ValueError("boom")
    got = keel.get_run(failed.id)
    assert got.status == "failed"
    assert got.tags["keel.error"] == "ValueError: boom"
    with pytest.raises(KeyboardInterrupt), keel.start_run() as killed:
        raise KeyboardInterrupt
    assert keel.get_run(killed.id).status == "killed"


def test_end_with_status_and_bad_status(project: Path) -> None:
    run = keel.start_run()
    with pytest.raises(InvalidInput, match="finished, failed, killed|failed, finished, killed"):
        run.end("exploded")
    run.end("failed")
    assert keel.get_run(run.id).status == "failed"


def test_params_are_immutable_and_errors_name_both_values(project: Path) -> None:
    with keel.start_run() as run:
        keel.log_param("lr", 0.1)
        keel.log_param("lr", 0.1)  # same value: fine
        with pytest.raises(Conflict) as info:
            keel.log_param("lr", 0.2)
        assert "'0.1'" in str(info.value) and "'0.2'" in str(info.value)
        # One bad value in a batch: nothing of the batch is written.
        with pytest.raises(InvalidInput):
            keel.log_params({"good": 1, "bad": object()})
    assert keel.get_run(run.id).params == {"lr": 0.1}


def test_nan_and_infinities_are_stored_faithfully(project: Path) -> None:
    with keel.start_run() as run:
        keel.log_metric("x", float("nan"))
        keel.log_metric("x", float("inf"))
        keel.log_metric("x", float("-inf"))
        keel.log_metric("y", float("nan"))
    values = [p.value for p in keel.get_metric_history(run.id, "x")]
    assert math.isnan(values[0]) and values[1] == math.inf and values[2] == -math.inf
    got = keel.get_run(run.id)
    assert got.metrics["x"] == -math.inf
    assert math.isnan(got.metrics["y"])


def test_steps_timestamps_and_latest_value(project: Path) -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    with keel.start_run() as run:
        keel.log_metric("m", 1.0, step=10)
        keel.log_metric("m", 2.0, step=5)  # an older step does not become the latest
        keel.log_metric("m", 3.0)  # continues after the highest step
        keel.log_metric("t", 1.0, timestamp=moment)
        keel.log_metric("t", 2.0, timestamp=1_800_000_000.5)
    history = keel.get_metric_history(run.id, "m")
    assert [(p.step, p.value) for p in history] == [(5, 2.0), (10, 1.0), (11, 3.0)]
    assert keel.get_run(run.id).metrics["m"] == 3.0
    assert keel.get_metric_history(run.id, "t")[0].timestamp == moment.timestamp()


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: keel.log_metric("acc", "high"), "not a number"),
        (lambda: keel.log_metric("bad;key", 1.0), "not allowed"),
        (lambda: keel.log_metric("k" * 251, 1.0), "limit is 250"),
        (lambda: keel.log_metric("m", 1.0, step=1.5), "whole number"),
        (lambda: keel.log_metric("m", 1.0, timestamp="now"), "seconds since the epoch"),
        (lambda: keel.log_metric("m", 1.0, timestamp=datetime(2026, 1, 1)), "no time zone"),
        (lambda: keel.log_metrics([1, 2]), "mapping"),
        (lambda: keel.set_tag("t", {"a": 1}), "tags are strings"),
        (lambda: keel.log_param("p", "x" * 7000), "limit is 6000"),
        (lambda: keel.log_artifact("no/such/file.txt"), "no such file"),
        (lambda: keel.log_text("x", "../escape.txt"), "not allowed"),
        (lambda: keel.log_text(b"x", "a.txt"), "takes a string"),
        (lambda: keel.log_dict({"a": object()}, "a.json"), "Cannot store"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(project: Path, call: object, fragment: str) -> None:
    assert callable(call)
    with keel.start_run() as run:
        with (
            pytest.raises(InvalidInput, match=fragment)
            if fragment != "no such file"
            else pytest.raises(NotFound)
        ):
            call()
    got = keel.get_run(run.id)
    assert got.metrics == {} and got.params == {} and got.tags == {} and got.artifacts == ()


def test_logging_without_a_run_or_to_a_finished_run(project: Path) -> None:
    with pytest.raises(InvalidInput, match="No active run"):
        keel.log_metric("m", 1.0)
    run = keel.start_run()
    run.end()
    with pytest.raises(Conflict, match="is finished"):
        run.log_metric("m", 1.0)
    with pytest.raises(Conflict, match="is finished"):
        run.set_tag("a", "b")


def test_tags_are_mutable(project: Path) -> None:
    with keel.start_run() as run:
        keel.set_tag("stage", "draft")
        keel.set_tags({"stage": "final", "n": 3})
    assert keel.get_run(run.id).tags == {"n": "3", "stage": "final"}


def test_nested_runs_get_their_parent(project: Path) -> None:
    with keel.start_run(experiment="sweep") as parent:
        with keel.start_run(name="trial-1") as child:
            assert keel.active_run() is child
        assert keel.active_run() is parent
    got = keel.get_run(child.id)
    assert got.parent_id == parent.id and got.experiment == "sweep"
    explicit = keel.start_run(parent=parent.id[:8])
    explicit.end()
    assert keel.get_run(explicit.id).parent_id == parent.id
    assert [r.id for r in keel.search_runs(parent=parent.id, order_by="attributes.start_time")] == [
        child.id,
        explicit.id,
    ]


def test_get_run_ids_prefixes_and_errors(project: Path) -> None:
    run = keel.start_run()
    run.end()
    assert keel.get_run(run.id[:6]).id == run.id
    assert keel.get_run(run.id.upper()).id == run.id
    with pytest.raises(NotFound, match="keel runs list"):
        keel.get_run("0" * 32)
    with pytest.raises(InvalidInput, match="not a run id"):
        keel.get_run("not-an-id")


def test_artifacts_roundtrip_and_verify(project: Path, tmp_path: Path) -> None:
    source = tmp_path / "model.txt"
    source.write_text("weights")
    folder = tmp_path / "plots"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.png").write_bytes(b"\x89PNG")
    (folder / "sub" / "b.txt").write_text("b")
    with keel.start_run() as run:
        oid = keel.log_artifact(source)
        keel.log_artifact(source, name="models/best.txt")
        assert set(keel.log_artifacts(folder, prefix="figs")) == {"figs/a.png", "figs/sub/b.txt"}
        keel.log_dict({"b": 1, "a": [1, 2]}, "config.yaml")
        keel.log_dict({"score": float("nan")}, "scores.json")
        keel.log_text("hello", "notes/readme.md")
    got = keel.get_run(run.id)
    names = [a.name for a in got.artifacts]
    assert names == sorted(
        [
            "model.txt",
            "models/best.txt",
            "figs/a.png",
            "figs/sub/b.txt",
            "config.yaml",
            "scores.json",
            "notes/readme.md",
        ]
    )
    assert next(a for a in got.artifacts if a.name == "model.txt").oid == oid
    out = keel.get_artifact(run.id, "models/best.txt", tmp_path / "out")
    assert out == tmp_path / "out" / "best.txt" or out.read_text() == "weights"
    assert out.read_text() == "weights"
    import yaml

    assert yaml.safe_load(keel.get_artifact(run.id, "config.yaml", tmp_path / "c.yaml").read_text()) == {
        "b": 1,
        "a": [1, 2],
    }
    assert "NaN" in keel.get_artifact(run.id, "scores.json", tmp_path / "s.json").read_text()
    with pytest.raises(NotFound, match="its artifacts"):
        keel.get_artifact(run.id, "nope.txt")


def test_flush_makes_data_visible_to_other_processes(project: Path) -> None:
    run = keel.start_run(experiment="visible")
    for i in range(500):
        keel.log_metric("m", float(i))
    keel.flush()
    reader = run_python(
        f"import keel; r = keel.get_run({run.id!r}); print(r.status, r.metrics['m'], len(keel.get_metric_history(r.id, 'm')))",
        cwd=project,
        env={k: v for k, v in __import__("os").environ.items() if k.startswith("KEEL_")},
    )
    assert reader.returncode == 0, reader.stderr
    assert reader.stdout.split() == ["running", "499.0", "500"]
    run.end()


def test_write_failures_are_raised_not_dropped(project: Path) -> None:
    run = keel.start_run()
    session_obj = run.session
    keel.log_metric("m", 1.0)
    keel.flush()
    with session_obj.db.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE metric_chunks RENAME TO metric_chunks_hidden"))
    keel.log_metric("m", 2.0)
    with pytest.raises(keel.KeelError) as info:
        keel.flush()
    assert "metric_chunks" in str(info.value)
    with session_obj.db.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE metric_chunks_hidden RENAME TO metric_chunks"))
    keel.log_metric("m", 3.0)
    run.end()  # retries the failed batch: nothing was lost
    assert [p.value for p in keel.get_metric_history(run.id, "m")] == [1.0, 2.0, 3.0]


def test_dead_runs_are_reported_dead(project: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if k.startswith("KEEL_")}
    result = run_python(
        "import os, keel\nr = keel.start_run(name='doomed')\nkeel.log_metric('m', 1.0)\nkeel.flush()\nprint(r.id)\nos._exit(9)",
        cwd=project,
        env=env,
    )
    assert result.returncode == 9, result.stderr
    run_id = result.stdout.strip()
    got = keel.get_run(run_id)
    assert got.status == "dead"
    assert got.metrics == {"m": 1.0}
    assert [r.id for r in keel.search_runs("attributes.status = 'dead'")] == [run_id]


def test_run_started_by_keel_is_resumed_through_keel_run_id(project: Path) -> None:
    import os

    owner = keel.start_run(experiment="owned", name="stage")
    keel.flush()
    env = {k: v for k, v in os.environ.items() if k.startswith("KEEL_")}
    env["KEEL_RUN_ID"] = owner.id
    child = run_python(
        "import keel\n"
        "keel.log_metric('from_child', 1.0)\n"
        "with keel.start_run(experiment='ignored', params={'p': 1}) as r:\n"
        "    keel.log_metric('from_child', 2.0)\n"
        "print(r.id)\n",
        cwd=project,
        env=env,
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == owner.id
    got = keel.get_run(owner.id)
    assert got.status == "running"  # the owner ends it, not the child
    assert got.params == {"p": 1}
    assert [p.step for p in keel.get_metric_history(owner.id, "from_child")] == [0, 1]
    owner.end()
    late = run_python("import keel\nkeel.log_metric('x', 1.0)", cwd=project, env=env)
    assert late.returncode != 0
    assert "is finished" in late.stderr
    env["KEEL_RUN_ID"] = "f" * 32
    missing = run_python("import keel\nkeel.log_metric('x', 1.0)", cwd=project, env=env)
    assert "names no run" in missing.stderr


def test_context_is_captured(project: Path) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "x"],
        cwd=project,
        check=True,
    )
    (project / "params.yaml").write_text("lr: 0.5\n")
    subprocess.run(["git", "add", "params.yaml"], cwd=project, check=True)
    with keel.start_run() as run:
        pass
    context = keel.get_run(run.id).context
    git = context["git"]
    assert git["available"] and len(git["commit"]) == 40 and git["dirty"] is True
    from keel.tracking.session import get_session

    objects = get_session().objects
    assert b"lr: 0.5" in objects.read_bytes(git["diff"])
    packages = objects.read_bytes(context["packages"]["oid"]).decode()
    assert "sqlalchemy==" in packages
    assert context["python"]["version"].count(".") == 2
    assert context["user"] and context["host"] and context["pid"]
    assert isinstance(context["command"], list)


def test_search_runs_df(project: Path) -> None:
    for i, model in enumerate(["rf", "gb"]):
        with keel.start_run(params={"model": model}):
            keel.log_metric("acc", 0.5 + i / 10)
    frame = keel.search_runs_df(order_by="metrics.acc desc")
    assert list(frame["params.model"]) == ["gb", "rf"]
    assert list(frame["metrics.acc"]) == [0.6, 0.5]
    assert {"run_id", "status", "start_time", "experiment"} <= set(frame.columns)


def test_list_experiments(project: Path) -> None:
    for name in ("a", "b", "b"):
        keel.start_run(experiment=name).end()
    found = {e.name: e.run_count for e in keel.list_experiments()}
    assert found == {"a": 1, "b": 2}
    assert json.loads(json.dumps(keel.list_experiments()[0].to_dict()))["name"] == "a"


def test_run_summaries_match_the_tables(project: Path) -> None:
    """Search reads each run's summary document; it must say what the tables say."""
    import os

    with keel.start_run(params={"a": 1, "b": "x", "c": [1, 2], "d": None, "e": 0.5}, tags={"t": "1"}) as run:
        keel.log_metric("m", 1.0, step=5)
        keel.flush()  # the run is now written; what follows updates it in later batches
        keel.log_params({"f": True, "g": float("nan")})
        keel.log_metric("m", 0.0, step=2)  # an older step: not the latest
        keel.log_metric("inf", float("inf"))
        keel.log_metric("nan", float("nan"))
        keel.set_tag("t", "2")
    env = {k: v for k, v in os.environ.items() if k.startswith("KEEL_")}
    other = keel.start_run()
    keel.flush()
    env["KEEL_RUN_ID"] = other.id
    child = run_python(
        "import keel\nkeel.log_param('from_child', 3)\nkeel.set_tag('c', 'y')", cwd=project, env=env
    )
    assert child.returncode == 0, child.stderr
    other.end()
    from keel.tracking.session import get_session

    session = get_session()
    summarized = {r.id: r for r in (keel.get_run(run.id), keel.get_run(other.id))}
    with session.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE runs SET summary = NULL"))
    for run_id, expected in summarized.items():
        from_tables = keel.get_run(run_id)
        assert from_tables.tags == expected.tags
        assert json.dumps(from_tables.params, sort_keys=True) == json.dumps(expected.params, sort_keys=True)
        assert json.dumps(from_tables.metrics, sort_keys=True) == json.dumps(expected.metrics, sort_keys=True)
    first = summarized[run.id]
    assert first.metrics["m"] == 1.0 and first.metrics["inf"] == math.inf and math.isnan(first.metrics["nan"])
    assert first.params["c"] == [1, 2] and first.params["d"] is None and first.params["f"] is True
    assert first.tags == {"t": "2"}
    assert summarized[other.id].params == {"from_child": 3}
