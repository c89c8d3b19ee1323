"""Model checks: every kind of check, the promotion gate, pipeline stages, and bad specs."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import keel
from keel.checks.model_spec import load_model_spec
from keel.core.errors import ConfigError, Conflict, InvalidInput
from keel.models import registry
from tests.conftest import run_keel

VIRGINICA = {  # row 100 of iris: class 2
    "sepal length (cm)": 6.3,
    "sepal width (cm)": 3.3,
    "petal length (cm)": 6.0,
    "petal width (cm)": 2.5,
}

SPEC = """\
format: 1
model: iris
required_for: [production]
data: data/test.csv
label: species
checks:
  - metric: accuracy
    min: 0.9
  - baseline: most_frequent
    metric: f1_macro
    margin: 0.2
  - against: production
    metric: accuracy
    tolerance: 0.02
  - where: "`petal length (cm)` > 4"
    metric: recall_macro
    min: 0.8
  - perturb: {column: sepal width (cm), noise: 0.01}
    max_changed: 0.05
  - cases:
      - input: VIRGINICA
        expect: 2
"""


@pytest.fixture
def iris_project(project: Path, iris: Any, iris_pipeline: Any) -> Path:
    from sklearn.dummy import DummyClassifier

    X, y = iris
    (project / "data").mkdir(exist_ok=True)
    X.assign(species=y).sample(90, random_state=0).to_csv(project / "data" / "test.csv", index=False)
    (project / "checks").mkdir(exist_ok=True)
    (project / "checks" / "iris.model.yaml").write_text(SPEC.replace("VIRGINICA", json.dumps(VIRGINICA)))
    keel.log_model(iris_pipeline, "iris", input_example=X.head())  # version 1: good
    keel.log_model(
        DummyClassifier(strategy="most_frequent").fit(X, y), "iris", input_example=X.head()
    )  # 2: bad
    keel.flush()
    return project


def test_every_check_kind_passes_a_good_model_and_fails_a_bad_one(iris_project: Path) -> None:
    good = keel.check_model("iris/1", "checks/iris.model.yaml")
    assert good.passed and good.status == "passed", [r.message for r in good.failures]
    assert [r.rule for r in good.results] == ["metric", "baseline", "against", "where", "perturb", "cases"]
    assert good.measured["accuracy"] >= 0.9 and good.subject == "iris/1" and good.run_id
    against = good.results[2]
    assert against.passed and "no version of iris is production yet" in against.message
    bad = keel.check_model("iris/2", "checks/iris.model.yaml")
    failed = {r.rule for r in bad.failures}
    assert failed == {"metric", "baseline", "where", "cases"}, [r.message for r in bad.results]
    cases = next(r for r in bad.failures if r.rule == "cases")
    assert cases.samples == [{"row": 0, "value": 0, "expected": 2}] and cases.failing == 1
    # once version 1 is production, version 2 also regresses against it
    keel.set_model_alias("iris", 1, "production")
    again = keel.check_model("iris/2", "checks/iris.model.yaml")
    regress = next(r for r in again.results if r.rule == "against")
    assert not regress.passed and "for iris/1 (@production)" in regress.message


def test_promotion_gate_refuses_unchecked_and_failed_versions(iris_project: Path) -> None:
    with pytest.raises(Conflict, match="never ran on iris/1"):
        keel.set_model_alias("iris", 1, "production")
    assert registry.alias_history("iris") == []
    keel.set_model_alias("iris", 1, "staging")  # staging is not gated
    keel.check_model("iris/1", "checks/iris.model.yaml")
    keel.set_model_alias("iris", 1, "production")
    keel.check_model("iris/2", "checks/iris.model.yaml")
    with pytest.raises(Conflict, match="failed on iris/2"):
        keel.set_model_alias("iris", 2, "production")
    with pytest.raises(InvalidInput, match="--force needs --reason"):
        keel.set_model_alias("iris", 2, "production", force=True)
    keel.set_model_alias("iris", 2, "production", force=True, reason="hotfix, checked by hand")
    last = registry.alias_history("iris", "production")[-1]
    assert (last.to_version, last.forced, last.reason) == (2, True, "hotfix, checked by hand")
    # editing the spec invalidates earlier results
    spec = iris_project / "checks" / "iris.model.yaml"
    spec.write_text(spec.read_text().replace("min: 0.9", "min: 0.91"))
    with pytest.raises(Conflict, match="changed since it last ran"):
        keel.set_model_alias("iris", 1, "production")


def test_cli_model_check_alias_gate_and_junit(iris_project: Path) -> None:
    refused = run_keel("models", "alias", "iris", "1", "production", cwd=iris_project)
    assert (
        refused.returncode == 4
        and 'keel check model iris/1 --spec "checks/iris.model.yaml"' in refused.stderr
    )
    junit = iris_project / "reports" / "model.xml"
    ok = run_keel(
        "check",
        "model",
        "iris/1",
        "--spec",
        "checks/iris.model.yaml",
        "--junit",
        str(junit),
        cwd=iris_project,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert 'failures="0"' in junit.read_text()
    assert run_keel("models", "alias", "iris", "1", "production", cwd=iris_project).returncode == 0
    bad = run_keel("check", "model", "iris/2", "--spec", "checks/iris.model.yaml", "--json", cwd=iris_project)
    assert bad.returncode == 1 and json.loads(bad.stdout)["status"] == "failed"
    forced = run_keel(
        "models", "alias", "iris", "2", "production", "--force", "--reason", "demo", cwd=iris_project
    )
    assert forced.returncode == 0, forced.stderr
    history = run_keel("models", "history", "iris", cwd=iris_project)
    assert "forced demo" in history.stdout
    everything = run_keel("check", "all", "--json", cwd=iris_project)
    assert everything.returncode == 1  # the newest version (2) fails its checks
    assert [r["subject"] for r in json.loads(everything.stdout)] == ["iris/2"]
    for args, code, message in (
        (("check", "model", "iris/9", "--spec", "checks/iris.model.yaml"), 3, "iris"),
        (("check", "model", "nope", "--spec", "checks/iris.model.yaml"), 3, "nope"),
        (("check", "model", "iris/1", "--spec", "checks/none.yaml"), 2, "does not exist"),
    ):
        result = run_keel(*args, cwd=iris_project)
        assert result.returncode == code, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("checks: [{metric: accuracy, min: 0.9}]", "'data' is required"),
        ("data: d.csv\nlabel: y\nchecks: [{metric: speed, min: 1}]", "metric 'speed' is not one of accuracy"),
        ("data: d.csv\nlabel: y\nchecks: [{metric: accuracy}]", "needs min: or max:"),
        ("data: d.csv\nlabel: y\nchecks: [{baseline: clever, metric: accuracy}]", "baseline 'clever'"),
        ("data: d.csv\nlabel: y\nchecks: [{against: Prod!, metric: accuracy}]", "names an alias"),
        (
            "data: d.csv\nlabel: y\nchecks: [{perturb: {column: x, noise: -1}}]",
            "noise is a number in (0, 10]",
        ),
        ("data: d.csv\nlabel: y\nchecks: [{cases: [{input: 1, expect: 2}]}]", "each case is {input"),
        (
            "data: d.csv\nlabel: y\nchecks: [{metric: accuracy, min: 0.9, colour: red}]",
            "'colour' does not go",
        ),
        ("data: d.csv\nlabel: y\nchecks: [{foo: 1}]", "a check has exactly one of"),
        (
            "data: d.csv\nlabel: y\nrequired_for: [production]\nchecks: [{metric: accuracy, min: 1}]",
            "needs 'model:'",
        ),
        ("data: d.csv\nlabel: y\nchecks: []", "'checks' is a list"),
    ],
)
def test_bad_model_specs_name_file_line_and_fix(tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "m.model.yaml"
    path.write_text(body)
    with pytest.raises(ConfigError) as caught:
        load_model_spec(path)
    assert expected in str(caught.value) and str(caught.value).startswith("m.model.yaml")


def test_specs_that_do_not_fit_the_data_are_clear_errors(iris_project: Path) -> None:
    spec = iris_project / "checks" / "other.yaml"
    for checks, message in (
        ('[{where: "colour == 1", metric: accuracy, min: 0.5}]', "cannot be evaluated on data/test.csv"),
        ("[{perturb: {column: nothing}}]", "no input column 'nothing'"),
        ("[{cases: [{input: {a: 1}, expect: 0}]}]", "does not fit the model"),
    ):
        spec.write_text(f"data: data/test.csv\nlabel: species\nchecks: {checks}\n")
        with pytest.raises(ConfigError, match=message):
            keel.check_model("iris/1", spec, record=False)
    spec.write_text("data: data/test.csv\nlabel: kind\nchecks: [{metric: accuracy, min: 0.5}]\n")
    with pytest.raises(InvalidInput, match="no label column 'kind'"):
        keel.check_model("iris/1", spec, record=False)
    spec.write_text(
        "model: other\ndata: data/test.csv\nlabel: species\nchecks: [{metric: accuracy, min: 0.5}]\n"
    )
    with pytest.raises(InvalidInput, match="checks model 'other', not 'iris'"):
        keel.check_model("iris/1", spec, record=False)


def test_pipeline_stage_checks_stop_a_bad_model_and_record_under_the_stage(project: Path, iris: Any) -> None:
    X, y = iris
    (project / "data").mkdir(exist_ok=True)
    frame = X.assign(species=y)
    frame.to_csv(project / "data" / "iris.csv", index=False)
    frame.sample(90, random_state=0).to_csv(project / "data" / "test.csv", index=False)
    (project / "checks").mkdir(exist_ok=True)
    assert run_keel("check", "infer", "data/iris.csv", cwd=project).returncode == 0
    (project / "checks" / "iris.model.yaml").write_text(
        "model: iris\ndata: data/test.csv\nlabel: species\nchecks: [{metric: accuracy, min: 0.9}]\n"
    )
    (project / "train.py").write_text(
        textwrap.dedent(
            """
            import keel, pandas as pd
            from sklearn.dummy import DummyClassifier
            from sklearn.linear_model import LogisticRegression
            frame = pd.read_csv("data/iris.csv")
            X, y = frame.drop(columns="species"), frame["species"]
            good = keel.params()["train"]["good"]
            model = LogisticRegression(max_iter=500) if good else DummyClassifier()
            keel.log_model(model.fit(X, y), "iris", input_example=X.head())
            open("done.txt", "w").write(str(good))
            """
        )
    )
    (project / "params.yaml").write_text("train:\n  good: false\n")
    (project / "keel.yaml").write_text(
        textwrap.dedent(
            """
            stages:
              train:
                cmd: python train.py
                deps: [data/iris.csv, train.py]
                params: [train]
                outs: [done.txt]
                checks:
                  - {data: data/iris.csv, schema: checks/iris.schema.yaml}
                  - {model: iris, spec: checks/iris.model.yaml}
            """
        )
    )
    failed = run_keel("run", "--json", cwd=project, timeout=300)
    assert failed.returncode == 1
    stage = json.loads(failed.stdout)["stages"][0]
    assert stage["state"] == "failed" and "check checks/iris.model.yaml failed" in stage["reason"]
    assert [c["status"] for c in stage["checks"]] == ["passed", "failed"]
    children = run_keel(
        "runs", "list", "--filter", f"attributes.parent_id = '{stage['run_id']}'", "--json", cwd=project
    )
    assert sorted(r["kind"] for r in json.loads(children.stdout)) == ["check", "check"]
    (project / "params.yaml").write_text("train:\n  good: true\n")
    passed = run_keel("run", "--json", cwd=project, timeout=300)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert [c["status"] for c in json.loads(passed.stdout)["stages"][0]["checks"]] == ["passed", "passed"]
    again = run_keel("run", "--json", cwd=project, timeout=300)
    assert json.loads(again.stdout)["stages"][0]["state"] == "unchanged"
    # a stage's check file is a dependency: editing it re-runs the stage
    spec = project / "checks" / "iris.model.yaml"
    spec.write_text(spec.read_text().replace("0.9", "0.95"))
    rerun = json.loads(run_keel("run", "--json", cwd=project, timeout=300).stdout)["stages"][0]
    assert rerun["state"] == "ran" and "checks/iris.model.yaml" in rerun["reason"]
    assert pd.read_csv(project / "data" / "iris.csv").shape == (150, 5)
    # bad check entries in keel.yaml are errors with the line
    (project / "keel.yaml").write_text(
        "stages:\n  t:\n    cmd: echo\n    checks:\n      - {data: data/iris.csv, schema: checks/missing.yaml}\n"
    )
    bad = run_keel("run", cwd=project)
    assert bad.returncode == 2 and "keel.yaml:5" in bad.stderr and "does not exist" in bad.stderr


def test_spec_mistakes_found_by_review(iris_project: Path, iris: Any) -> None:
    from sklearn.tree import DecisionTreeClassifier

    X, y = iris
    spec = iris_project / "checks" / "review.yaml"
    for checks, error, message in (
        ("[{metric: rmse, max: 1}]", ConfigError, "rmse is a regression metric"),
        ("[{baseline: mean, metric: accuracy}]", ConfigError, "does not go with the classification metric"),
        ("[{against: latest, metric: accuracy}]", ConfigError, "'latest' is reserved"),
        ("[{metric: accuracy, min: 0.9, max: 0.1}]", ConfigError, "could never pass"),
    ):
        spec.write_text(f"data: data/test.csv\nlabel: species\nchecks: {checks}\n")
        with pytest.raises(error, match=message):
            keel.check_model("iris/1", spec, record=False)
    # a slice holding one class: roc_auc is undefined, a failed rule that says so (no warning leaks)
    spec.write_text(
        "data: data/test.csv\nlabel: species\nchecks: [{where: 'species == 0', metric: roc_auc, min: 0.5}]\n"
    )
    report = keel.check_model("iris/1", spec, record=False)
    assert not report.passed and "undefined on this data" in report.failures[0].message
    assert report.failures[0].name.startswith("roc_auc")  # JUnit names say which check
    # `against` when the production version takes other inputs: scored on its own inputs
    two = ["petal length (cm)", "petal width (cm)"]
    keel.log_model(DecisionTreeClassifier(random_state=0).fit(X[two], y), "iris", input_example=X[two].head())
    keel.flush()
    keel.check_model("iris/1", "checks/iris.model.yaml")
    keel.set_model_alias("iris", 1, "production")
    spec.write_text(
        "data: data/test.csv\nlabel: species\nchecks: [{against: production, metric: accuracy, tolerance: 0.1}]\n"
    )
    assert keel.check_model("iris/3", spec, record=False).passed


def test_a_broken_spec_only_blocks_its_own_model(iris_project: Path, iris: Any) -> None:
    from sklearn.dummy import DummyClassifier

    X, y = iris
    keel.log_model(DummyClassifier().fit(X, y), "other", input_example=X.head())
    keel.flush()
    (iris_project / "checks" / "broken.model.yaml").write_text(
        "model: iris\ndata: data/test.csv\nlabel: species\nchecks: [{metric: acuracy, min: 1}]\n"
    )
    keel.set_model_alias("other", 1, "production")  # not guarded, not blocked
    with pytest.raises(Conflict, match="check file broken.model.yaml cannot be read"):
        keel.set_model_alias("iris", 1, "production")
    keel.set_model_alias("iris", 1, "production", force=True, reason="rollback while the spec is fixed")
    everything = run_keel("check", "all", "--json", cwd=iris_project)
    subjects = [(r["subject"], r["status"]) for r in json.loads(everything.stdout)]
    assert ("checks/broken.model.yaml", "failed") in subjects and len(subjects) == 2  # it went on
