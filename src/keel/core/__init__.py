"""Foundation: entities, ids, errors, settings, workspace, filter grammar. Standard library
only (plus blake3 and, lazily, PyYAML)."""
