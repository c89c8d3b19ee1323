"""Keel: the whole MLOps loop in one tool.

The public Python API is loaded on first use, so ``import keel`` stays fast::

    import keel

    with keel.start_run(experiment="churn", params={"lr": 0.1}):
        keel.log_metric("loss", 0.25)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> "module:attribute"
_API: dict[str, str] = {
    "start_run": "keel.tracking.fluent:start_run",
    "end_run": "keel.tracking.fluent:end_run",
    "active_run": "keel.tracking.fluent:active_run",
    "log_param": "keel.tracking.fluent:log_param",
    "log_params": "keel.tracking.fluent:log_params",
    "log_metric": "keel.tracking.fluent:log_metric",
    "log_metrics": "keel.tracking.fluent:log_metrics",
    "set_tag": "keel.tracking.fluent:set_tag",
    "set_tags": "keel.tracking.fluent:set_tags",
    "log_artifact": "keel.tracking.fluent:log_artifact",
    "log_artifacts": "keel.tracking.fluent:log_artifacts",
    "log_dict": "keel.tracking.fluent:log_dict",
    "log_text": "keel.tracking.fluent:log_text",
    "flush": "keel.tracking.fluent:flush",
    "log_input": "keel.tracking.fluent:log_input",
    "log_output": "keel.tracking.fluent:log_output",
    "dataset": "keel.data.api:dataset",
    "log_model": "keel.models.registry:log_model",
    "load_model": "keel.models.registry:load_model",
    "get_model_version": "keel.models.registry:get_model_version",
    "set_model_alias": "keel.checks.gate:promote",
    "check_data": "keel.checks.data_api:check_data",
    "seed": "keel.tracking.seed:seed",
    "check_model": "keel.checks.model_check:check_model",
    "ModelVersion": "keel.core.models:ModelVersion",
    "MissingDependency": "keel.core.errors:MissingDependency",
    "params": "keel.pipeline.params:read_params",
    "open": "keel.data.api:open_tracked",
    "DatasetVersion": "keel.core.entities:DatasetVersion",
    "RunDataset": "keel.core.entities:RunDataset",
    "get_run": "keel.tracking.queries:get_run",
    "get_metric_history": "keel.tracking.queries:get_metric_history",
    "search_runs": "keel.tracking.queries:search_runs",
    "search_runs_df": "keel.tracking.queries:search_runs_df",
    "list_experiments": "keel.tracking.queries:list_experiments",
    "get_artifact": "keel.tracking.queries:get_artifact",
    "ActiveRun": "keel.tracking.active_run:ActiveRun",
    "Run": "keel.core.entities:Run",
    "MetricPoint": "keel.core.entities:MetricPoint",
    "Experiment": "keel.core.entities:Experiment",
    "RunStatus": "keel.core.entities:RunStatus",
    "KeelError": "keel.core.errors:KeelError",
    "InvalidInput": "keel.core.errors:InvalidInput",
    "ConfigError": "keel.core.errors:ConfigError",
    "NotFound": "keel.core.errors:NotFound",
    "Conflict": "keel.core.errors:Conflict",
    "IntegrityError": "keel.core.errors:IntegrityError",
    "StoreUnavailable": "keel.core.errors:StoreUnavailable",
    "SchemaTooNew": "keel.core.errors:SchemaTooNew",
    "RemoteUnavailable": "keel.core.errors:RemoteUnavailable",
    "FileChanged": "keel.core.errors:FileChanged",
    "CommandNotFound": "keel.core.errors:CommandNotFound",
}

__all__ = [
    "ActiveRun",
    "CommandNotFound",
    "ConfigError",
    "Conflict",
    "DatasetVersion",
    "Experiment",
    "FileChanged",
    "IntegrityError",
    "InvalidInput",
    "KeelError",
    "MetricPoint",
    "MissingDependency",
    "ModelVersion",
    "NotFound",
    "RemoteUnavailable",
    "Run",
    "RunDataset",
    "RunStatus",
    "SchemaTooNew",
    "StoreUnavailable",
    "__version__",
    "active_run",
    "check_data",
    "check_model",
    "dataset",
    "end_run",
    "flush",
    "get_artifact",
    "get_metric_history",
    "get_model_version",
    "get_run",
    "list_experiments",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_output",
    "log_param",
    "log_params",
    "log_text",
    "open",
    "params",
    "search_runs",
    "search_runs_df",
    "seed",
    "set_model_alias",
    "set_tag",
    "set_tags",
    "start_run",
]


def __getattr__(name: str) -> Any:
    target = _API.get(name)
    if target is None:
        raise AttributeError(f"module 'keel' has no attribute {name!r}")
    module_name, _, attribute = target.partition(":")
    value = getattr(import_module(module_name), attribute)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from keel.checks.data_api import check_data
    from keel.checks.gate import promote as set_model_alias
    from keel.checks.model_check import check_model
    from keel.core.entities import DatasetVersion, Experiment, MetricPoint, Run, RunDataset, RunStatus
    from keel.core.errors import (
        CommandNotFound,
        ConfigError,
        Conflict,
        FileChanged,
        IntegrityError,
        InvalidInput,
        KeelError,
        MissingDependency,
        NotFound,
        RemoteUnavailable,
        SchemaTooNew,
        StoreUnavailable,
    )
    from keel.core.models import ModelVersion
    from keel.data.api import dataset
    from keel.data.api import open_tracked as open
    from keel.models.registry import get_model_version, load_model, log_model
    from keel.pipeline.params import read_params as params
    from keel.tracking.active_run import ActiveRun
    from keel.tracking.fluent import (
        active_run,
        end_run,
        flush,
        log_artifact,
        log_artifacts,
        log_dict,
        log_input,
        log_metric,
        log_metrics,
        log_output,
        log_param,
        log_params,
        log_text,
        set_tag,
        set_tags,
        start_run,
    )
    from keel.tracking.queries import (
        get_artifact,
        get_metric_history,
        get_run,
        list_experiments,
        search_runs,
        search_runs_df,
    )
    from keel.tracking.seed import seed
