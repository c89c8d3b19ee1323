"""The scoring server (`keel serve`), its prediction log, and batch scoring."""
