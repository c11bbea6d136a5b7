"""How long `ganctl --help` takes to start, against the floor of any Typer + rich program.

Runs each command N times in a fresh process (after one untimed warm-up run each, so the file cache is
warm for all) and prints the median and min wall time, and the ratio of the medians. Goal: ganctl
--help <= 2x the floor (``python -c "import typer, rich"``), i.e. importing the CLI imports no torch.
A third row, ``--help`` of a two-command Typer app with rich help, shows what Typer's help alone costs.

ganctl is started as the installed console script (``ganctl`` beside this Python) when it exists,
else as ``python -m ganctl``; the table says which.

    python benchmarks/cli_startup.py --runs 20
    python benchmarks/cli_startup.py --runs 20 --json
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_RATIO = 2.0

MINIMAL_TYPER_APP = """
import typer

app = typer.Typer(rich_markup_mode="rich")


@app.command()
def first(count: int = 1) -> None:
    \"\"\"The first command.\"\"\"


@app.command()
def second(name: str = "x") -> None:
    \"\"\"The second command.\"\"\"


app()
"""


def ganctl_command() -> list[str]:
    """The installed console script beside this interpreter, else ``python -m ganctl``."""
    script = Path(sys.executable).with_name("ganctl")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ganctl"]


def time_command(argv: list[str], runs: int) -> list[float]:
    """Wall seconds of ``runs`` fresh processes of ``argv`` (one untimed warm-up first); fails loudly."""
    subprocess.run(argv, check=True, capture_output=True)
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="Timed runs per command (default 20).")
    parser.add_argument("--json", action="store_true", help="Print one JSON object instead of a table.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        minimal_app = Path(tmp) / "minimal_typer_app.py"
        minimal_app.write_text(MINIMAL_TYPER_APP)
        commands = {
            "floor": [sys.executable, "-c", "import typer, rich"],
            "ganctl --help": [*ganctl_command(), "--help"],
            "minimal typer app --help": [sys.executable, str(minimal_app), "--help"],
        }
        results = {}
        for label, argv in commands.items():
            seconds = time_command(argv, args.runs)
            shown = shlex.join(Path(a).name if i == 0 or a == str(minimal_app) else a for i, a in enumerate(argv))
            results[label] = {"command": shown, "median_s": statistics.median(seconds), "min_s": min(seconds),
                              "runs": args.runs}
    ratio = results["ganctl --help"]["median_s"] / results["floor"]["median_s"]
    if args.json:
        print(json.dumps({"results": results, "ratio": ratio, "goal_ratio": GOAL_RATIO}, indent=2))
        return
    print(f"{'command':<40} {'median s':>9} {'min s':>7}")
    for row in results.values():
        print(f"{row['command']:<40} {row['median_s']:9.3f} {row['min_s']:7.3f}")
    verdict = "meets" if ratio <= GOAL_RATIO else "misses"
    print(f"ratio ganctl --help / floor: {ratio:.2f}x ({verdict} the goal of <= {GOAL_RATIO:.0f}x; "
          f"{args.runs} runs each)")


if __name__ == "__main__":
    main()
