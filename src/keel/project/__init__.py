"""Project scaffolding: `keel init` (feature layer)."""
