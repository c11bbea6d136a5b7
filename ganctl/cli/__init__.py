"""The ``ganctl`` command line: one Typer app, one module per command group.

Error handling lives in one place, :class:`GanctlGroup`: user errors (:class:`GanctlError`, bad
options, missing paths, a full disk) become one red line and exit code 2; anything unexpected becomes one line,
"run with --debug for details" and exit code 1. ``--quiet`` and ``--debug`` are accepted anywhere
on the command line (before or after a command's arguments).
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

from ganctl import __version__, console
from ganctl.errors import GanctlError
from ganctl.fsutil import is_disk_full

GLOBAL_FLAGS = {"--quiet": "quiet", "-q": "quiet", "--debug": "debug"}


def _split_global_flags(args: list[str]) -> tuple[list[str], set[str]]:
    """Remove --quiet/-q/--debug from anywhere before a ``--`` and report which were seen."""
    kept, seen = [], set()
    for i, arg in enumerate(args):
        if arg == "--":
            kept.extend(args[i:])
            break
        if arg in GLOBAL_FLAGS:
            seen.add(GLOBAL_FLAGS[arg])
        else:
            kept.append(arg)
    return kept, seen


class GanctlGroup(TyperGroup):
    """Root group: strips global flags and turns every error into one line and an exit code."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        argv, seen = _split_global_flags(argv)
        console.set_quiet("quiet" in seen)
        console.set_debug("debug" in seen)
        code = self._run(argv, prog_name or "ganctl", complete_var, **extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def _run(self, argv: list[str], prog_name: str, complete_var: str | None, **extra: Any) -> int:
        try:
            rv = super().main(args=argv, prog_name=prog_name, complete_var=complete_var,
                              standalone_mode=False, **extra)
            return rv if isinstance(rv, int) else 0
        except typer.Abort:
            console.error("aborted")
            return 130
        except typer.TyperException as exc:  # typer's click errors: usage errors (exit 2) and the rest
            if _is_no_args_help(exc):
                if exc.format_message():  # plain-text help; rich help is printed while the error is made
                    typer.echo(exc.format_message())
                return 0
            console.error(_usage_message(exc))
            return exc.exit_code
        except GanctlError as exc:
            if console.is_debug():
                console.stderr.print_exception()
            console.error(str(exc))
            return exc.exit_code
        except KeyboardInterrupt:
            console.error("interrupted")
            return 130
        except OSError as exc:
            if not is_disk_full(exc):
                return _unexpected(exc)
            where = f"{exc.filename}: " if exc.filename else ""
            console.error(f"{where}no space left on device (free some space and run again)")
            return 2
        except Exception as exc:  # a bug: keep it to one line unless --debug
            return _unexpected(exc)


def _unexpected(exc: Exception) -> int:
    """A bug: one line (a traceback with --debug), exit 1."""
    if console.is_debug():
        console.stderr.print_exception()
    console.error(f"unexpected {type(exc).__name__}: {exc} (run with --debug for details)")
    return 1


def _is_no_args_help(exc: typer.TyperException) -> bool:
    """True for the error a group or command raises when run without arguments (``no_args_is_help``).

    The class is public by name only, so it is recognised by name, as typer does itself
    (``typer.rich_utils.rich_format_error``). Its message is the help text.
    """
    return type(exc).__name__ == "NoArgsIsHelpError"


def _usage_message(exc: typer.TyperException) -> str:
    """One line for a click usage error, naming the command so the user knows which --help to read."""
    message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        return f"{message} (see '{ctx.command_path} --help')"
    return message


app = typer.Typer(
    name="ganctl",
    cls=GanctlGroup,
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="GAN image-to-image translation: prepare data, train, translate, evaluate, visualise.\n\n"
    "Example: [bold]ganctl train cyclegan --data mnist-color[/]",
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"ganctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="Show the version and exit."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or messages (any position)."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for unexpected errors (any position)."),
) -> None:
    """GAN image-to-image translation from the command line."""
    # --quiet/--debug are consumed by GanctlGroup.main wherever they appear; declared here for --help.


def _register() -> None:
    from ganctl.cli import datasets, evaluate, export, generate, prepare, train, translate, viz

    app.add_typer(prepare.app, name="prepare", rich_help_panel="Data")
    app.command("datasets", rich_help_panel="Data")(datasets.datasets)
    app.add_typer(train.app, name="train", rich_help_panel="Models")
    app.command("translate", rich_help_panel="Models")(translate.translate)
    app.command("generate", rich_help_panel="Models")(generate.generate)
    app.command("export", rich_help_panel="Models")(export.export)
    app.add_typer(evaluate.app, name="eval", rich_help_panel="Results")
    app.add_typer(viz.app, name="viz", rich_help_panel="Results")


_register()


def main() -> None:
    """Entry point of the ``ganctl`` console script and ``python -m ganctl``."""
    app()
