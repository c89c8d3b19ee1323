"""The ``keel`` command: a click group whose subcommands load only when used.

``keel --help`` must answer in a fraction of a second, so the root group lists commands
from :data:`COMMANDS` (name → module path and one-line help) without importing them, and
every error a user can cause ends as one line on stderr and the exit code of its
:class:`~keel.core.errors.KeelError` class — never a traceback (see :mod:`keel.cli.entry`).
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any

import click

from keel import __version__
from keel.cli.entry import fail, guarded

#: name -> ("module:attribute", one-line help). Order here is the order in `keel --help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "quickstart": (
        "keel.cli.quickstart_cmd:quickstart",
        "Create an example project and run Keel's loop on it.",
    ),
    "init": ("keel.cli.project_cmds:init", "Create a Keel project: keel.yaml, params.yaml and folders."),
    "track": ("keel.cli.track_cmd:track", "Run any command as a tracked run."),
    "run": (
        "keel.cli.pipeline_cmds:run",
        "Run the pipeline: changed stages only, in parallel; sweeps with --set.",
    ),
    "dag": ("keel.cli.pipeline_cmds:dag", "Show the stage graph (text, --mermaid or --dot)."),
    "data": ("keel.cli.data_cmds:data", "Version data: add, status, checkout, diff, log, verify."),
    "remote": ("keel.cli.data_cmds:remote", "Add, list and remove remotes (folders, S3, any fsspec URL)."),
    "push": ("keel.cli.data_cmds:push", "Send tracked data the remote lacks."),
    "pull": ("keel.cli.data_cmds:pull", "Fetch tracked data the local store lacks, and check it out."),
    "gc": ("keel.cli.data_cmds:gc", "Delete objects nothing refers to."),
    "models": (
        "keel.cli.models_cmds:models",
        "The model registry: list, show, alias, history, tag, lineage.",
    ),
    "check": (
        "keel.cli.check_cmds:check",
        "Check data against schemas and models against quality gates (JUnit for CI).",
    ),
    "monitor": (
        "keel.cli.monitor_cmds:monitor",
        "Monitor drift, data quality and performance; retrain on rules.",
    ),
    "reproduce": ("keel.cli.repro_cmds:reproduce", "Make a recorded run again and compare its results."),
    "env": ("keel.cli.repro_cmds:env", "Show a run's environment, or what differed between two runs."),
    "ci": ("keel.cli.ci_cmds:ci", "Write the project's CI steps (script, GitHub Actions workflow)."),
    "serve": ("keel.cli.serve_cmds:serve", "Serve a model over HTTP, logging every prediction."),
    "predict": ("keel.cli.serve_cmds:predict", "Score a CSV/Parquet file with a registered model."),
    "predictions": ("keel.cli.serve_cmds:predictions", "Export the prediction log."),
    "runs": ("keel.cli.runs_cmds:runs", "List, show, compare, delete and restore runs."),
    "experiments": ("keel.cli.runs_cmds:experiments", "List experiments."),
    "settings": ("keel.cli.project_cmds:settings", "Show every setting, its value and where it came from."),
    "db": ("keel.cli.db_cmds:db", "Inspect and upgrade the metadata store."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.lazy, *sorted(self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = self.lazy.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target[0].partition(":")
        command = getattr(import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            import difflib

            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1, cutoff=0.6)
            ctx.fail(f"No such command {name!r}" + (f"; did you mean `keel {close[0]}`?" if close else ""))
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in self.lazy.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="keel", message="%(prog)s %(version)s")
def cli() -> None:
    """Keel runs the whole machine-learning operations loop: versioning, testing,
    automation, monitoring & tracking, and reproducibility — in one tool.

    \b
    Start here:
      keel quickstart           an example project, trained and tracked
      keel init                 make the current folder a Keel project
      keel track -- python train.py
                                record any command as a run
      keel runs list            what has been recorded
      keel data add data/raw    version a dataset (keel push shares it)

    Every list and show command takes --json for scripts. Docs: docs/ in Keel's repository.
    """


def main(argv: list[str] | None = None) -> None:
    """Run ``keel`` with ``argv`` through the click group (the console script is
    :func:`keel.cli.entry.main`, which answers a few invocations without click)."""
    args = list(sys.argv[1:] if argv is None else argv)

    def body() -> None:
        try:
            cli.main(args=args, prog_name="keel", standalone_mode=False)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            # One line, like every other error: what is wrong, and where the usage is.
            path = exc.ctx.command_path if exc.ctx is not None else "keel"
            message = exc.format_message().rstrip(".")
            error = {"error": {"code": "usage", "message": message, "details": {}}}
            fail(f"{message} (see `{path} --help`)", exc.exit_code, args, error)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            print("Aborted.", file=sys.stderr)
            sys.exit(130)

    guarded(body, args)
