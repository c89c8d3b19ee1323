"""The small-request fast path answers exactly what the DataFrame path answers, or stands aside."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import keel
from keel.models.model import KeelModel


def _logged(model: Any, example: Any, name: str = "m") -> KeelModel:
    keel.log_model(model, name, input_example=example)
    return keel.load_model(name)


def _general(model: KeelModel, rows: list[dict[str, Any]]) -> Any:
    return model.predict_rows(model.prepare(pd.DataFrame.from_records(rows)))


def test_records_and_split_rows_match_the_general_path(project: Path, iris: Any, iris_pipeline: Any) -> None:
    X, _ = iris
    model = _logged(iris_pipeline, X.head())
    fast = model.fast
    assert fast is not None and model.argmax_labels
    for start, count in ((0, 1), (50, 3), (100, 50), (0, 64)):
        rows = X.iloc[start : start + count].to_dict("records")
        matrix = fast.matrix(rows)
        assert matrix is not None
        found, expected = fast.predict(matrix), _general(model, rows)
        assert found.values == expected.values == list(iris_pipeline.predict(X.iloc[start : start + count]))
        assert found.probabilities is not None and expected.probabilities is not None
        for a, b in zip(found.probabilities, expected.probabilities, strict=True):
            assert a.keys() == b.keys() and all(math.isclose(a[k], b[k]) for k in a)
    # column-split rows in another column order, integers where floats are expected
    columns = list(reversed(X.columns))
    split = fast.matrix_split(columns, [[6, 3, 5, 2]])
    assert split is not None
    row = dict(zip(columns, [6, 3, 5, 2], strict=True))
    assert fast.predict(split).values == _general(model, [row]).values
    # what the fast path does not take goes to the general path (which reports the problem)
    good = X.iloc[0].to_dict()
    refused = [
        [{**good, "sepal length (cm)": "5.1"}],
        [{**good, "sepal length (cm)": True}],
        [{**good, "sepal length (cm)": None}],
        [{**good, "sepal length (cm)": float("nan")}],
        [{**good, "sepal length (cm)": float("inf")}],
        [{**good, "extra": 1}],
        [{k: v for k, v in good.items() if k != "petal width (cm)"}],
        [good] * 65,
        [],
        [[1, 2, 3, 4]],
    ]
    for rows in refused:
        assert fast.matrix(rows) is None, rows
    assert fast.matrix_split(list(X.columns), [[1, 2, 3]]) is None
    assert fast.matrix_split(list(X.columns)[:3], [[1, 2, 3]]) is None


def test_integer_and_nullable_columns(project: Path) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.integers(18, 90, 300), "score": rng.normal(size=300)})
    frame.loc[::7, "score"] = np.nan  # HistGradientBoosting takes missing values
    labels = (frame["age"] > 50).astype(int)
    model = _logged(HistGradientBoostingClassifier(max_iter=20).fit(frame, labels), frame.head(20))
    fast = model.fast
    assert fast is not None
    assert fast.matrix([{"age": 40.0, "score": None}]) is not None  # whole float for an integer, null allowed
    assert fast.matrix([{"age": 40.5, "score": 1.0}]) is None  # not an integer
    rows = [{"age": 40, "score": None}, {"age": 70, "score": 0.5}]
    matrix = fast.matrix(rows)
    assert matrix is not None
    assert fast.predict(matrix).values == _general(model, rows).values == [0, 1]
    logged = fast.inputs(matrix)
    assert logged["age"] == [40, 70] and all(isinstance(v, int) for v in logged["age"])
    assert math.isnan(logged["score"][0]) and logged["score"][1] == 0.5


def test_models_the_fast_path_is_not_for(project: Path, iris: Any) -> None:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    X, y = iris
    # columns chosen by name need a DataFrame: the fast path is not proven, the general path answers
    by_name = make_pipeline(
        ColumnTransformer([("scale", StandardScaler(), ["sepal length (cm)", "petal length (cm)"])]),
        DecisionTreeClassifier(random_state=0),
    ).fit(X, y)
    model = _logged(by_name, X.head(), "by_name")
    assert model.fast is None
    assert _general(model, X.head(3).to_dict("records")).values == list(by_name.predict(X.head(3)))
    # a string input
    plans = X.assign(plan=np.where(y > 0, "pro", "free"))
    strings = make_pipeline(
        ColumnTransformer([("plan", OneHotEncoder(), ["plan"])], remainder="passthrough"),
        DecisionTreeClassifier(random_state=0),
    ).fit(plans, y)
    assert _logged(strings, plans.head(), "strings").fast is None
    # a classifier outside the known argmax set: two passes, its own predict gives the label
    svc = CalibratedClassifierCV(SVC(random_state=0), ensemble=False).fit(X, y)
    model = _logged(svc, X.head(), "svc")
    assert not model.argmax_labels
    rows = X.sample(40, random_state=1).to_dict("records")
    assert _general(model, rows).values == list(svc.predict(pd.DataFrame.from_records(rows)))
    # a model fitted without feature names takes the signature's order
    plain = DecisionTreeClassifier(random_state=0).fit(X.to_numpy(), y)
    model = _logged(plain, X.head(), "plain")
    assert model.fast is not None
    matrix = model.fast.matrix(X.head(10).to_dict("records"))
    assert matrix is not None
    assert model.fast.predict(matrix).values == list(plain.predict(X.head(10).to_numpy()))


def test_the_fast_path_predicts_in_the_fitted_column_order(project: Path, iris: Any) -> None:
    """A matrix in the wrong column order would predict silently wrong: the order is the model's."""
    from sklearn.tree import DecisionTreeClassifier

    X, y = iris
    tree = DecisionTreeClassifier(random_state=0).fit(X, y)
    model = _logged(tree, X.head())
    fast = model.fast
    assert fast is not None and fast.order == list(X.columns)
    shuffled = [dict(reversed(list(row.items()))) for row in X.to_dict("records")]
    matrix = fast.matrix(shuffled)
    assert matrix is None  # more than MAX_ROWS rows
    for start in range(0, len(X), 50):
        chunk = shuffled[start : start + 50]
        matrix = fast.matrix(chunk)
        assert matrix is not None
        assert fast.predict(matrix).values == list(tree.predict(X.iloc[start : start + 50]))


@pytest.mark.parametrize("rows", [1, 5])
def test_twin_leaves_the_registered_model_untouched(
    project: Path, iris: Any, iris_pipeline: Any, rows: int
) -> None:
    X, _ = iris
    model = _logged(iris_pipeline, X.head())
    assert model.fast is not None
    assert list(model.raw.feature_names_in_) == list(X.columns)
    assert not hasattr(model.fast.twin, "feature_names_in_")
    np.testing.assert_array_equal(model.predict(X.head(rows)), iris_pipeline.predict(X.head(rows)))
