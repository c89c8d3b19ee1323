"""Reproducibility: reproduce a recorded run, and compare the environments of runs."""
