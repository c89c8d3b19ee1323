"""The one settings registry.

Every setting has a name, a type, a default and a help text. A value comes from, in order of
precedence: the ``KEEL_<NAME>`` environment variable, the ``settings:`` section of the
project's ``keel.yaml``, then the default. Settings are resolved once per workspace and passed
around explicitly; nothing here reads the environment at import time.

The configuration reference (``docs/configuration.md``) documents every entry of
:data:`SETTINGS`; a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from keel.core.errors import ConfigError

#: Words a true or false setting accepts (any case).
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE = {"0", "false", "no", "off"}


class Setting(NamedTuple):
    """One entry of the registry."""

    name: str
    type: type
    default: Any
    help: str
    #: False for settings that only make sense per process (read from the environment only).
    in_file: bool = True
    choices: tuple[str, ...] = ()

    @property
    def env(self) -> str:
        return "KEEL_" + self.name.upper()

    def parse(self, raw: Any, source: str) -> Any:
        """Convert ``raw`` (a string from the environment or a YAML value) to this type."""
        where = f"{source}: setting '{self.name}'"
        value: Any
        if self.type is bool:
            if isinstance(raw, bool):
                value = raw
            elif str(raw).strip().lower() in TRUE_WORDS:
                value = True
            elif str(raw).strip().lower() in _FALSE:
                value = False
            else:
                raise ConfigError(f"{where} must be true or false, not {raw!r}.")
        elif self.type in (int, float):
            if isinstance(raw, bool):
                raise ConfigError(f"{where} must be a number, not {raw!r}.")
            try:
                value = self.type(raw)
            except (TypeError, ValueError):
                kind = "a whole number" if self.type is int else "a number"
                raise ConfigError(f"{where} must be {kind}, not {raw!r}.") from None
            if value < 0:
                raise ConfigError(f"{where} must not be negative, got {raw!r}.")
        else:
            if isinstance(raw, dict | list):
                raise ConfigError(f"{where} must be a single value, not {type(raw).__name__}.")
            value = "" if raw is None else str(raw)
        if self.choices and value not in self.choices:
            raise ConfigError(f"{where} must be one of {', '.join(self.choices)}; got {value!r}.")
        return value


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "db_url",
        str,
        "",
        "Metadata store URL (SQLAlchemy form). Empty means `sqlite:///<project>/.keel/keel.db`; "
        "for a team store use `postgresql+psycopg://user:password@host:5432/dbname`.",
    ),
    Setting(
        "objects_dir",
        str,
        ".keel/objects",
        "Folder of the content-addressed object store, relative to the project root.",
    ),
    Setting(
        "experiment",
        str,
        "default",
        "Experiment a run belongs to when none is given.",
    ),
    Setting(
        "workspace",
        str,
        "",
        "Project root to use instead of searching upwards from the current folder for keel.yaml.",
        in_file=False,
    ),
    Setting(
        "run_id",
        str,
        "",
        "Set by Keel for the processes it starts (`keel track`, pipeline stages): `keel.log_*` "
        "calls without `keel.start_run()` log into this run.",
        in_file=False,
    ),
    Setting(
        "cli_full",
        bool,
        False,
        "Send every `keel` invocation through the full command-line parser. `keel run` and "
        "`keel data status` (bare or with `--json`) are otherwise answered without loading it, "
        "with the same output.",
        in_file=False,
    ),
    Setting(
        "auto_migrate",
        bool,
        True,
        "Create or upgrade the metadata store schema on first open. When false, an outdated "
        "store is refused until `keel db upgrade` is run.",
    ),
    Setting(
        "sqlite_busy_timeout",
        float,
        60.0,
        "Seconds a SQLite writer waits for another process's write to finish.",
    ),
    Setting(
        "sqlite_synchronous",
        str,
        "normal",
        "SQLite `synchronous` mode. `normal` (WAL) survives a killed process; `full` also "
        "survives power loss, at a lower write rate.",
        choices=("normal", "full"),
    ),
    Setting(
        "flush_interval",
        float,
        0.5,
        "Seconds between background writes of buffered metrics, params and tags.",
    ),
    Setting(
        "flush_max_items",
        int,
        20000,
        "Buffered items that trigger a background write before the interval elapses.",
    ),
    Setting(
        "capture_git",
        bool,
        True,
        "Record the git commit, branch, remote and uncommitted diff of each run.",
    ),
    Setting(
        "git_diff_max_bytes",
        int,
        1_000_000,
        "Largest uncommitted diff stored with a run; a larger diff is skipped and the run "
        "notes that it was too large.",
    ),
    Setting(
        "capture_env",
        str,
        "PYTHONHASHSEED,OMP_NUM_THREADS,MKL_NUM_THREADS,OPENBLAS_NUM_THREADS,CUDA_VISIBLE_DEVICES,"
        "CUBLAS_WORKSPACE_CONFIG,TZ,LANG,LC_ALL",
        "Environment variables recorded with each run (comma-separated names): the ones that "
        "change results. Values of other variables are never recorded.",
    ),
    Setting(
        "data_link",
        str,
        "auto",
        "How `keel data checkout` puts files into the workspace: `auto` (reflink where the "
        "filesystem supports it, else copy), `reflink`, `hardlink` (read-only files that share "
        "the stored object; fastest, no extra space) or `copy`.",
        choices=("auto", "reflink", "hardlink", "copy"),
    ),
    Setting(
        "jobs",
        int,
        0,
        "Parallel workers for hashing and for transfers with network remotes (S3 and other "
        "fsspec URLs); 0 picks a number from the CPU count.",
    ),
    Setting(
        "gc_grace_hours",
        float,
        24.0,
        "`keel gc` keeps unreferenced objects younger than this, so it never deletes what a "
        "concurrent `keel data add` or push is still recording.",
    ),
    Setting(
        "capture_packages",
        bool,
        True,
        "Record the installed Python distributions (name and version) of each run.",
    ),
    Setting(
        "predictions_dir",
        str,
        ".keel/predictions",
        "Folder of the scoring server's prediction log (Parquet segments per model), relative "
        "to the project root.",
    ),
    Setting(
        "serve_max_body_mb",
        float,
        16.0,
        "Largest request body `keel serve` accepts, in MiB; a bigger one is answered 413.",
    ),
    Setting(
        "serve_log_flush_seconds",
        float,
        5.0,
        "The prediction log writes a segment at least this often while requests arrive.",
    ),
    Setting(
        "serve_log_max_rows",
        int,
        10000,
        "The prediction log writes a segment when it holds this many rows.",
    ),
    Setting(
        "serve_poll_seconds",
        float,
        2.0,
        "How often `keel serve NAME@ALIAS` checks whether the alias moved (then loads the new "
        "version and swaps it in).",
    ),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


class Settings(NamedTuple):
    """Resolved settings: a value and the source it came from, for each registry entry."""

    values: Mapping[str, Any]
    sources: Mapping[str, str]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @classmethod
    def resolve(
        cls,
        env: Mapping[str, str],
        file_values: Mapping[str, Any] | None = None,
        where: Callable[[str], str] | None = None,
    ) -> Settings:
        """Resolve every setting from ``env`` (``KEEL_*`` variables) and ``file_values``.

        ``where(name)`` tells where a file value was written (``keel.yaml:12``) for errors.
        """
        file_values = file_values or {}
        where = where or (lambda name: "keel.yaml")
        for key in file_values:
            file_label = where(str(key))
            setting = BY_NAME.get(key)
            if setting is None:
                known = ", ".join(s.name for s in SETTINGS if s.in_file)
                raise ConfigError(f"{file_label}: unknown setting '{key}'; known settings: {known}.")
            if not setting.in_file:
                raise ConfigError(
                    f"{file_label}: setting '{key}' cannot be set in a file; "
                    f"set the {setting.env} environment variable instead."
                )
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for setting in SETTINGS:
            if setting.env in env and env[setting.env] != "":
                values[setting.name] = setting.parse(env[setting.env], setting.env)
                sources[setting.name] = "env"
            elif setting.name in file_values:
                values[setting.name] = setting.parse(file_values[setting.name], where(setting.name))
                sources[setting.name] = "file"
            else:
                values[setting.name] = setting.default
                sources[setting.name] = "default"
        return cls(values=values, sources=sources)
