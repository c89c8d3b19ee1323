"""Data versioning: `keel data add/status/checkout/diff/log`, remotes, push/pull, verify,
gc, and the dataset API (feature layer)."""
