"""Model packages and the registry, on SQLite and PostgreSQL: log, load, aliases, lineage, faults."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import keel
from keel.core.errors import Conflict, IntegrityError, InvalidInput, MissingDependency, NotFound
from keel.models import registry
from tests.conftest import run_keel
from tests.models.conftest import Doubler


def test_log_and_load_sklearn_pipeline(project: Path, backend: str, iris: Any, iris_pipeline: Any) -> None:
    X, y = iris
    with keel.start_run(experiment="iris") as run:
        keel.log_metric("acc", float(iris_pipeline.score(X, y)))
        version = keel.log_model(iris_pipeline, "iris", input_example=X.head(5))
    assert (version.name, version.version, version.flavor, version.run_id) == ("iris", 1, "sklearn", run.id)
    model = keel.load_model("iris")
    np.testing.assert_array_equal(model.predict(X), iris_pipeline.predict(X))
    np.testing.assert_allclose(model.predict_proba(X.head(3)), iris_pipeline.predict_proba(X.head(3)))
    assert model.signature is not None
    assert model.signature.names == list(X.columns)
    assert {c.type for c in model.signature.inputs} == {"float"}
    assert model.signature.output == "label" and list(model.signature.classes) == [0, 1, 2]
    assert model.manifest["metrics"]["acc"] == pytest.approx(iris_pipeline.score(X, y))
    assert model.input_example is not None and len(model.input_example) == 5
    # no pickle: the payload is a skops file
    _, package = registry.package_of("iris/1")
    assert package.manifest["payload"] == "model.skops"
    # the same model by run reference, and records / numpy input
    by_run = keel.load_model(f"run:{run.id[:10]}/model")
    assert by_run.version is not None and by_run.version.version == 1
    assert list(model.predict(X.head(2).to_dict("records"))) == list(iris_pipeline.predict(X.head(2)))
    assert list(model.predict(X.head(2).to_numpy())) == list(iris_pipeline.predict(X.head(2)))


def test_signature_is_enforced_with_every_problem(project: Path, iris: Any, iris_pipeline: Any) -> None:
    X, _ = iris
    with keel.start_run():
        keel.log_model(iris_pipeline, "iris", input_example=X.head())
    model = keel.load_model("iris")
    bad = X.head(3).copy()
    bad = bad.drop(columns=["petal width (cm)"]).assign(extra=1)
    with pytest.raises(InvalidInput) as missing:
        model.predict(bad)
    fields = {(e["field"], e["error"].split(" ")[0]) for e in missing.value.details["errors"]}
    assert ("petal width (cm)", "missing") in fields and ("extra", "unexpected") in fields
    wrong = X.head(3).astype(object)
    wrong.iloc[1, 0] = "tall"
    wrong.iloc[2, 1] = None
    with pytest.raises(InvalidInput) as typed:
        model.predict(wrong)
    errors = {e["field"]: e for e in typed.value.details["errors"]}
    assert errors["sepal length (cm)"]["rows"] == [1]
    assert errors["sepal width (cm)"]["rows"] == [2] and "null" in errors["sepal width (cm)"]["error"]
    nan = X.head(2).copy()
    nan.iloc[0, 2] = float("nan")
    with pytest.raises(InvalidInput, match="null or NaN"):
        model.predict(nan)
    # integers for a float column are fine; a fraction for an integer column is not
    ints = X.head(2).round().astype(int)
    assert len(model.predict(ints)) == 2


def test_generic_python_model_and_signature_override(project: Path) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.5]})
    with keel.start_run():
        version = keel.log_model(
            Doubler(),
            "doubler",
            signature={"inputs": [{"name": "x", "type": "float", "nullable": False}], "output": "number"},
            requirements=["numpy>=1.26"],
        )
    assert version.flavor == "python"
    model = keel.load_model("doubler/1")
    assert list(model.predict(frame)) == [2.0, 5.0]
    _, package = registry.package_of("doubler")
    assert package.manifest["requirements"][0] == "numpy>=1.26"
    with pytest.raises(InvalidInput, match="not a scikit-learn estimator"):
        keel.log_model(object(), "nothing")


def test_log_model_outside_a_run_starts_one(project: Path, iris: Any, iris_pipeline: Any) -> None:
    X, _ = iris
    version = keel.log_model(iris_pipeline, "iris", input_example=X.head())
    run = keel.get_run(version.run_id or "")
    assert run.status == "finished" and run.tags["keel.model.model"] == "iris"


def test_aliases_history_tags_and_delete(project: Path, backend: str, iris: Any, iris_pipeline: Any) -> None:
    X, _ = iris
    with keel.start_run():
        for _ in range(3):
            keel.log_model(iris_pipeline, "iris", input_example=X.head())
    assert registry.set_alias("iris", 1, "production", reason="first") is None
    assert registry.set_alias("iris", "2", "production", reason="better") == 1
    registry.set_alias("iris", 3, "staging")
    assert keel.get_model_version("iris@production").version == 2
    assert keel.get_model_version("iris@latest").version == 3
    events = registry.alias_history("iris")
    assert [(e.alias, e.from_version, e.to_version, e.reason) for e in events] == [
        ("production", None, 1, "first"),
        ("production", 1, 2, "better"),
        ("staging", None, 3, None),
    ]
    assert all(e.actor for e in events)
    with pytest.raises(Conflict, match="production"):
        registry.delete_version("iris", 2)
    registry.delete_version("iris", 1)
    with pytest.raises(NotFound, match="no version 1; its latest is 3"):
        keel.get_model_version("iris/1")
    registry.set_tags("iris", 2, {"owner": "team-a"})
    registry.set_tags("iris", None, {"domain": "flowers"})
    assert keel.get_model_version("iris/2").tags == {"owner": "team-a"}
    [listed] = registry.list_models()
    assert listed.aliases == {"production": 2, "staging": 3} and listed.versions == 2
    assert listed.tags == {"domain": "flowers"}
    assert registry.remove_alias("iris", "staging", reason="retired") == 3
    assert registry.alias_history("iris", "staging")[-1].to_version is None


@pytest.mark.parametrize(
    ("ref", "error", "text"),
    [
        ("", InvalidInput, "empty"),
        ("iris@Prod", InvalidInput, "Alias 'Prod'"),
        ("iris/zero", InvalidInput, "not a version number"),
        ("iris/0", InvalidInput, "not a version number"),
        ("bad name", InvalidInput, "Model name"),
        ("run:xyz/model", InvalidInput, "not a run id"),
        ("ghost", NotFound, "No model named 'ghost'"),
        ("iris@production", NotFound, "has no alias 'production'"),
        ("iris/9", NotFound, "no version 9"),
        ("run:abcdef12/model", NotFound, "logged no model"),
    ],
)
def test_bad_references(
    project: Path, iris: Any, iris_pipeline: Any, ref: str, error: type, text: str
) -> None:
    X, _ = iris
    keel.log_model(iris_pipeline, "iris", input_example=X.head())
    with pytest.raises(error, match=text):
        keel.load_model(ref)


def test_alias_names_are_checked(project: Path, iris: Any, iris_pipeline: Any) -> None:
    X, _ = iris
    keel.log_model(iris_pipeline, "iris", input_example=X.head())
    for alias in ("latest", "Production", "1st", "a" * 65):
        with pytest.raises(InvalidInput):
            registry.set_alias("iris", 1, alias)
    with pytest.raises(NotFound, match="no version 4"):
        registry.set_alias("iris", 4, "production")
    assert registry.alias_history("iris") == []


def _package_file(project: Path, oid: str, name: str) -> Path:
    from keel.objects.object_store import ObjectStore
    from keel.objects.trees import Trees

    store = ObjectStore(project / ".keel" / "objects")
    entry = next(e for e in Trees(store).get(oid) if e.name == name)
    return store.path(entry.oid)


def test_tampered_package_is_refused_naming_the_object(project: Path, iris: Any, iris_pipeline: Any) -> None:
    X, _ = iris
    version = keel.log_model(iris_pipeline, "iris", input_example=X.head())
    payload = _package_file(project, version.package_oid, "model.skops")
    os.chmod(payload, stat.S_IWUSR | stat.S_IRUSR)
    data = bytearray(payload.read_bytes())
    data[-10] ^= 0xFF
    payload.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=payload.parent.name):
        keel.load_model("iris")
    result = run_keel("serve", "iris", "--port", "0", cwd=project)
    assert result.returncode == 5 and "corrupt" in result.stderr.lower() and "Traceback" not in result.stderr


def test_missing_flavor_library_names_the_package(project: Path, iris: Any, iris_pipeline: Any) -> None:
    pytest.importorskip("sklearn")
    try:
        import torch  # noqa: F401

        pytest.skip("torch is installed here: the missing-library path cannot be shown")
    except ImportError:
        pass
    from keel.models.flavors import FLAVORS
    from keel.models.package import build_package
    from keel.store.registry_repo import create_version
    from keel.tracking.session import get_session

    session = get_session()
    # A package made elsewhere with the PyTorch flavor: its manifest is all that matters here.
    package = build_package(session.objects, Doubler(), FLAVORS["python"], name="net")
    manifest = dict(package.manifest, flavor="pytorch", payload="model.pt")
    from keel.core.yaml_file import safe_dump
    from keel.objects.trees import TreeEntry, Trees

    data = safe_dump(manifest).encode()
    oid = session.objects.put_bytes(data)
    tree = Trees(session.objects).put([TreeEntry("keel-model.yaml", "file", oid, len(data))])
    create_version(
        session.db,
        name="net",
        package_oid=tree,
        size=len(data),
        flavor="pytorch",
        run_id=None,
        path="model",
        created_by="t",
    )
    with pytest.raises(MissingDependency, match=r"keel\[torch\]"):
        keel.load_model("net")


def test_models_cli(project: Path, iris: Any, iris_pipeline: Any) -> None:
    X, _ = iris
    with keel.start_run():
        keel.log_model(iris_pipeline, "iris", input_example=X.head())
        keel.log_model(iris_pipeline, "iris", input_example=X.head())
    keel.flush()
    listed = run_keel("models", "list", "--json", cwd=project)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["latest_version"] == 2
    moved = run_keel("models", "alias", "iris", "2", "production", "--reason", "ship it", cwd=project)
    assert moved.returncode == 0 and "to version 2" in moved.stdout
    shown = run_keel("models", "show", "iris@production", "--json", cwd=project)
    body = json.loads(shown.stdout)
    assert body["version"] == 2 and body["aliases"] == ["production"]
    assert body["manifest"]["signature"]["inputs"][0]["name"] == "sepal length (cm)"
    text = run_keel("models", "show", "iris", cwd=project)
    assert text.returncode == 0 and "production" in text.stdout
    history = run_keel("models", "history", "iris", "--json", cwd=project)
    assert json.loads(history.stdout)[0]["reason"] == "ship it"
    assert run_keel("models", "tag", "iris/1", "owner=me", cwd=project).returncode == 0
    refused = run_keel("models", "delete", "iris/2", cwd=project)
    assert refused.returncode == 4 and "production" in refused.stderr
    deleted = run_keel("models", "delete", "iris/1", cwd=project)
    assert deleted.returncode == 0
    for args, code in [
        (("models", "show", "ghost"), 3),
        (("models", "alias", "iris", "x", "production"), 2),
        (("models", "alias", "iris", "2", "Bad"), 2),
        (("models", "delete", "iris"), 2),
        (("models", "tag", "iris", "novalue"), 2),
    ]:
        result = run_keel(*args, cwd=project)
        assert result.returncode == code, (args, result.stderr)
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr


def test_gc_keeps_registered_packages_and_frees_deleted_ones(project: Path) -> None:
    frame = pd.DataFrame({"x": [1.0]})
    first = keel.log_model(Doubler(), "doubler", input_example=frame)
    second = keel.log_model(Doubler(), "doubler", input_example=frame.assign(x=[2.0]))
    keel.flush()
    env = {"KEEL_GC_GRACE_HOURS": "0"}
    kept = run_keel("gc", "--json", "--workspace-only", cwd=project, env=env)
    assert kept.returncode == 0, kept.stderr
    assert keel.load_model("doubler/1").predict(frame)[0] == 2.0
    registry.delete_version("doubler", first.version)
    freed = json.loads(run_keel("gc", "--json", "--workspace-only", cwd=project, env=env).stdout)
    assert freed["deleted"] >= 2  # the first package's tree and its own manifest
    assert keel.load_model(f"doubler/{second.version}").predict(frame)[0] == 2.0


def test_push_and_pull_share_model_packages_and_artifacts(
    project: Path, iris: Any, iris_pipeline: Any, tmp_path: Path
) -> None:
    """A teammate on the same metadata store loads a model once `keel pull` brought its package."""
    import shutil

    X, _ = iris
    with keel.start_run(experiment="iris"):
        keel.log_model(iris_pipeline, "iris", input_example=X.head())
        keel.log_text("notes", "notes.txt")
    keel.flush()
    assert run_keel("remote", "add", "team", str(tmp_path / "remote"), cwd=project).returncode == 0
    pushed = run_keel("push", "--json", cwd=project)
    assert pushed.returncode == 0, pushed.stderr
    assert json.loads(pushed.stdout)["transferred"] >= 4  # the package tree, its files, the artifact
    teammate = tmp_path / "teammate"
    teammate.mkdir()
    shutil.copy(project / "keel.yaml", teammate / "keel.yaml")
    env = {"KEEL_DB_URL": f"sqlite:///{project / '.keel' / 'keel.db'}"}
    code = (
        "import keel; print(keel.load_model('iris/1').predict([" + json.dumps(X.iloc[0].to_dict()) + "])[0])"
    )
    from tests.conftest import run_python

    loaded = run_python(code, cwd=teammate, env=env)  # loading fetches the package from the remote
    assert loaded.returncode == 0, loaded.stderr
    shutil.rmtree(teammate / ".keel" / "objects")
    (teammate / "keel.yaml").write_text(
        (teammate / "keel.yaml").read_text().replace("remotes:", "old_remotes:")
    )
    (teammate / "keel.yaml").write_text((project / "keel.yaml").read_text().split("remotes:")[0])
    before = run_python(code, cwd=teammate, env=env)  # no remote configured: it says what to do
    assert before.returncode != 0 and "keel pull" in before.stderr
    shutil.copy(project / "keel.yaml", teammate / "keel.yaml")
    pulled = run_keel("pull", "--json", cwd=teammate, env=env)
    assert pulled.returncode == 0, pulled.stderr
    after = run_python(code, cwd=teammate, env=env)
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == str(iris_pipeline.predict(X.head(1))[0])
