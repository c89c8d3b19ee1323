"""Checks: data validation, model quality gates and train/serve comparisons, recorded as runs."""
