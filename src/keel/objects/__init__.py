"""The content-addressed object store (foundation layer; knows nothing of runs)."""
