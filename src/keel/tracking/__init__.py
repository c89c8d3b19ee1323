"""Experiment tracking: runs, params, metrics, tags, artifacts, context (feature layer)."""
