"""Pipelines: stages in keel.yaml, cached and parallel execution, sweeps, executors
(feature layer; uses tracking and data)."""
