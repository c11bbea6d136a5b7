"""`ganctl train <recipe>`: one command per registered recipe, generated from the recipe's options dataclass.

Each option field becomes a flag (``lambda_cycle`` -> ``--lambda-cycle``) in its help panel, with its help
text and its default under every preset; every command also gets ``--preset``, ``--run``, ``--resume``,
``--config`` and ``--json``. A flag that is not given is None, so the config file, the preset and
``--resume`` keep their values for it (:func:`ganctl.training.runner.train` merges them). Nothing here
imports torch: the help of every command is instant.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.markup import escape

from ganctl import console
from ganctl.cli.helptext import paragraphs
from ganctl.training import get_recipe, list_recipes
from ganctl.training.options import DATA, MODEL, RUN, SCHEDULE, OptionInfo, flag_name
from ganctl.training.recipe import Recipe

PANELS = (DATA, MODEL, SCHEDULE, RUN)  # the order of the help panels

app = typer.Typer(help="Train models: " + ", ".join(list_recipes()) + ".", no_args_is_help=True)

# Options of every train command that are not recipe options: (name, type, flags, help); --preset's help is
# the recipe's own (preset_help).
RUN_OPTIONS: tuple[tuple[str, Any, tuple[str, ...], str], ...] = (
    ("preset", str, ("--preset",), ""),
    ("run", Path, ("--run",), "Run folder [default: runs/<recipe>/expN]."),
    ("resume", Path, ("--resume",), "Continue a run (folder or its latest.safetensors) exactly where it stopped."),
    ("config", Path, ("--config",), "TOML file of option values (flags override it; it may set preset and run)."),
    ("as_json", bool, ("--json",), "Print the result as JSON on stdout."),
)


def format_value(value: Any) -> str:
    """An option value as --help shows it."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def default_text(recipe: type[Recipe], name: str, info: OptionInfo) -> str:
    """``[default: X; digits preset: Y]`` from the field default and the presets that change it."""

    def shown(value: Any) -> str | None:
        if value is None:
            return info.derived
        return format_value(value)

    presets = list(recipe.presets.items())
    base = recipe.options.defaults()[name]
    first_name, first = presets[0]
    parts = [shown(first.get(name, base))]
    parts += [f"{preset} preset: {shown(values[name])}" for preset, values in presets[1:]
              if name in values and values[name] != first.get(name, base)]
    parts = [p for p in parts if p]
    return f"[default: {'; '.join(parts)}]" if parts else ""


def preset_help(recipe: type[Recipe]) -> str:
    """--preset's help: the recipe's presets, and which one a run gets when none is asked for."""
    names = list(recipe.presets)
    text = f"Named set of defaults (each option's help shows its value): {', '.join(names)}."
    by_kind = ", ".join(f"{kind}: {preset}" for kind, preset in recipe.presets_by_kind.items())
    chosen = f"the one the dataset's kind calls for ({by_kind}), else {names[0]}" if by_kind else names[0]
    return f"{text} [default: {chosen}]"


def _option_parameter(recipe: type[Recipe], name: str, info: OptionInfo, value_type: type) -> inspect.Parameter:
    flags = [flag_name(name)]
    if value_type is bool:
        flags = [f"{flag_name(name)}/--no-{name.replace('_', '-')}"]
    if info.short:
        flags.append(info.short)
    if info.alias:
        flags.append(info.alias)
    text = info.help
    if info.choices and not all(choice in text for choice in info.choices):
        text += f" One of: {', '.join(info.choices)}."
    text = f"{text} {default_text(recipe, name, info)}".strip()
    option = typer.Option(*flags, help=escape(text), rich_help_panel=info.panel, show_default=False)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                             annotation=Annotated[Optional[value_type], option])  # noqa: UP045 (typer reads it)


def make_command(recipe: type[Recipe]) -> Any:
    """The ``ganctl train <recipe>`` command function, its signature generated from the recipe's options."""
    types = recipe.options.value_types()
    fields = sorted(recipe.options.option_info().items(), key=lambda item: PANELS.index(item[1].panel))
    params = [_option_parameter(recipe, name, info, types[name]) for name, info in fields]
    for name, kind, flags, text in RUN_OPTIONS:
        text = text or preset_help(recipe)
        option = typer.Option(*flags, help=escape(text), rich_help_panel=RUN, show_default=False)
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                        annotation=Annotated[Optional[kind], option]))  # noqa: UP045

    def command(**values: Any) -> None:
        from ganctl.training.runner import train

        run_values = {name: values.pop(name) for name, *_ in RUN_OPTIONS}
        as_json = bool(run_values.pop("as_json"))
        if run_values["run"] is not None:
            from ganctl.runs import check_run_path

            check_run_path(run_values["run"])  # before the imports and the data: a bad --run fails at once
        result = train(recipe.name, **run_values, **values)
        report_training(recipe.name, result, as_json)

    command.__signature__ = inspect.Signature(params)
    command.__doc__ = paragraphs(recipe.help)
    return command


def report_training(kind: str, result: Any, as_json: bool) -> None:
    """The result of a run on stdout (JSON with ``--json``); a run stopped by a signal exits 128 + its number
    (130 for Ctrl-C, 143 for SIGTERM) with a resume hint."""
    if result.skipped:
        if as_json:
            console.emit_json({"skipped": result.skipped})
        return
    summary = {"run": str(result.run_dir), "step": result.step, "epoch": result.epoch,
               "checkpoint": str(result.checkpoint), "samples": str(result.run_dir / "samples"),
               "interrupted": result.interrupted, "signal": result.signal, "seconds": round(result.seconds, 1),
               "seconds_per_step": round(result.seconds_per_step, 4), "losses": result.losses, **result.extras}
    if as_json:
        console.emit_json(summary)
    else:
        lines = {"run": result.run_dir, "samples": result.run_dir / "samples", "checkpoint": result.checkpoint,
                 **result.extras}
        width = max(map(len, lines)) + 1
        typer.echo("".join(f"{key + ':':{width}s} {value}\n" for key, value in lines.items())
                   + f"trained {console.counted(result.steps_run, 'step')} in {result.seconds:.0f} s "
                   f"({result.seconds_per_step:.3f} s/step), now at step {result.step}")
    if result.interrupted:
        console.warn(f"interrupted at step {result.step}; checkpoint saved. Continue with: "
                     f"ganctl train {kind} --resume {result.run_dir}")
        raise typer.Exit(128 + (result.signal or 2))  # no signal: interrupted from Python (KeyboardInterrupt)


for _name in list_recipes():
    _recipe = get_recipe(_name)
    app.command(_name, short_help=_recipe.summary)(make_command(_recipe))
