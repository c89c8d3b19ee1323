"""Drift monitoring: mergeable reference sketches and per-column drift tests."""
