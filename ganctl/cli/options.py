"""Command-line options that ``train colorize`` and ``train gan`` declare alike, as ``Annotated`` aliases.

Each alias carries the flag, help text and help panel; the command keeps the default in its signature::

    from ganctl.cli import options as opts

    def gan(seed: opts.Seed = None, device: opts.Device = None) -> None: ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

MODEL_PANEL = "Model"
RUN_PANEL = "Run"
PERF_PANEL = "Performance"

LearningRate = Annotated[float, typer.Option("--lr", show_default="2e-4", help="Adam learning rate.",
                                             rich_help_panel=MODEL_PANEL)]
Seed = Annotated[int, typer.Option("--seed", show_default="0", help="Random seed.", rich_help_panel=RUN_PANEL)]
Resume = Annotated[Path, typer.Option("--resume", help="Continue a run (folder or latest.safetensors).",
                                      rich_help_panel=RUN_PANEL)]
Config = Annotated[Path, typer.Option("--config", help="TOML file of options (flags override it).",
                                      rich_help_panel=RUN_PANEL)]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.", rich_help_panel=RUN_PANEL)]
Device = Annotated[str, typer.Option("--device", show_default="auto", help="auto, cpu, cuda, cuda:N or mps.",
                                     rich_help_panel=PERF_PANEL)]
Precision = Annotated[str, typer.Option("--precision", show_default="auto", rich_help_panel=PERF_PANEL,
                                        help="auto (bf16 on CUDA, fp32 on CPU), fp32, bf16 or fp16.")]
Compile = Annotated[bool, typer.Option("--compile/--no-compile", show_default="no", help="torch.compile the nets.",
                                       rich_help_panel=PERF_PANEL)]
