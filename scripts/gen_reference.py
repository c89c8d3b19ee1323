"""Write the generated reference pages: docs/cli.md (from the CLI) and docs/configuration.md
(from the settings registry).

    python scripts/gen_reference.py          # rewrite both pages
    python scripts/gen_reference.py --check  # exit 1 if either is out of date (CI, tests)
"""

from __future__ import annotations

import inspect
import sys
import textwrap
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
CLI_PAGE = ROOT / "docs" / "cli.md"
CONFIG_PAGE = ROOT / "docs" / "configuration.md"

CLI_INTRO = """\
# CLI reference

Generated from the `keel` command itself by `scripts/gen_reference.py`; do not edit by hand.
Every command answers `--help`. Errors are one line on stderr and an exit code
([errors.md](errors.md)); commands that print data take `--json`.
"""

CONFIG_INTRO = """\
# Configuration reference

Generated from Keel's settings registry by `scripts/gen_reference.py`; do not edit by hand.

A setting's value comes from, in order:

1. the environment variable `KEEL_<NAME>` (e.g. `KEEL_DB_URL`),
2. the `settings:` section of the project's `keel.yaml`,
3. the default below.

`keel settings` shows every value and where it came from. Booleans accept
`true/false/yes/no/on/off/1/0`. A wrong name or value is refused with the file and line
(`keel.yaml:7: unknown setting 'flush_intervall'; known settings: …`).

```yaml
# keel.yaml
version: 1
project: churn
settings:
  experiment: churn
  db_url: postgresql+psycopg://keel:secret@db.internal:5432/keel   # a team store
```
"""


def _command_doc(command: click.Command, path: list[str], level: int) -> list[str]:
    ctx = click.Context(command, info_name=path[-1], parent=None)
    lines = [f"{'#' * level} `{' '.join(path)}`", ""]
    usage = command.collect_usage_pieces(ctx)
    lines += ["```", f"{' '.join(path)} {' '.join(usage)}".rstrip(), "```", ""]
    lines += _help_markdown(command.help or "")
    params = [p for p in command.params if isinstance(p, click.Option) and not p.hidden]
    if params:
        lines += ["| option | meaning |", "|---|---|"]
        for param in params:
            names = ", ".join(f"`{n}`" for n in param.opts + param.secondary_opts)
            meaning = (param.help or "").replace("|", "\\|")
            if param.show_default and param.default is not None:
                meaning += f" (default: {param.default})"
            lines.append(f"| {names} | {meaning} |")
        lines.append("")
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                lines += _command_doc(sub, [*path, name], min(level + 1, 4))
    return lines


def _help_markdown(text: str) -> list[str]:
    """A click help text as Markdown: paragraphs, and ``\b`` blocks as code."""
    out: list[str] = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        if not paragraph.strip():
            continue
        if paragraph.startswith("\b"):
            body = paragraph[2:].strip("\n").splitlines()
            title = body[0].strip() if body and body[0].strip().endswith(":") else None
            code = body[1:] if title else body
            if title:
                out += [title, ""]
            out += ["```", *textwrap.dedent("\n".join(code)).splitlines(), "```", ""]
        else:
            out += [" ".join(line.strip() for line in paragraph.splitlines()), ""]
    return out


def cli_page() -> str:
    from keel.cli.main import cli

    lines = [*CLI_INTRO.splitlines(), ""]
    lines += _command_doc(cli, ["keel"], 2)
    return "\n".join(lines).rstrip() + "\n"


def config_page() -> str:
    from keel.core.settings import SETTINGS

    lines = [*CONFIG_INTRO.splitlines(), "", "## Settings", ""]
    lines += ["| setting | environment variable | type | default | meaning |", "|---|---|---|---|---|"]
    for setting in SETTINGS:
        default = repr(setting.default) if setting.default != "" else "(empty)"
        where = "" if setting.in_file else " Environment only."
        choices = f" One of: {', '.join(setting.choices)}." if setting.choices else ""
        lines.append(
            f"| `{setting.name}` | `{setting.env}` | {setting.type.__name__} | `{default}` | "
            f"{setting.help}{choices}{where} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    pages = {CLI_PAGE: cli_page(), CONFIG_PAGE: config_page()}
    if "--check" in sys.argv:
        stale = [p for p, text in pages.items() if not p.exists() or p.read_text() != text]
        for page in stale:
            print(f"{page.relative_to(ROOT)} is out of date: run python scripts/gen_reference.py")
        return 1 if stale else 0
    for page, text in pages.items():
        page.write_text(text)
        print(f"wrote {page.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
