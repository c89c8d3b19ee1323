"""`keel quickstart`: an example project that runs the Keel loop (application layer)."""
