"""The `keel` command line (interface layer): parse, call a feature, render."""
