"""The CLI starts at once: ``import ganctl.cli``, every ``--help`` and ``ganctl datasets`` import no torch.

One fresh Python process imports ``ganctl.cli``, walks the real click command tree built from
``ganctl.cli.app`` (so a new command is covered by being registered), invokes ``--help`` of the root, of
every group and of every command, then ``ganctl datasets --json``, and reports which heavy modules got
imported and from which ganctl line. Timing is left to ``benchmarks/cli_startup.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

# torch is the 2 s one; the others are slow too, and none of them is needed to parse a command line.
HEAVY_MODULES = ("torch", "torchvision", "torchmetrics", "torch_fidelity", "kornia", "safetensors", "av",
                 "matplotlib", "numpy", "PIL")

PROBE = textwrap.dedent("""
    import json, os, sys, traceback

    heavy = set(sys.argv[1].split(","))
    first_importer = {}

    class RecordHeavyImports:
        # Remembers the ganctl lines on the stack when a heavy module is first looked for; finds nothing itself.
        def find_spec(self, name, path=None, target=None):
            if name in heavy and name not in first_importer:
                stack = traceback.extract_stack()
                frames = [f"{f.filename}:{f.lineno}" for f in stack if f"{os.sep}ganctl{os.sep}" in f.filename]
                first_importer[name] = frames[-3:]
            return None

    sys.meta_path.insert(0, RecordHeavyImports())

    import typer
    from typer.testing import CliRunner

    from ganctl.cli import app

    def command_paths(command, path=()):
        yield list(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from command_paths(sub, (*path, name))

    runner = CliRunner()
    invocations = [[*path, "--help"] for path in command_paths(typer.main.get_command(app))]
    invocations.append(["datasets", "--json"])
    results = []
    for args in invocations:
        result = runner.invoke(app, args)
        results.append({"args": args, "exit_code": result.exit_code, "output": result.output})
    print(json.dumps({"results": results, "heavy": first_importer}))
""")


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> dict:
    """The probe's report: every invocation with its exit code and output, and the heavy modules imported."""
    env = {**os.environ, "GANCTL_HOME": str(tmp_path_factory.mktemp("ganctl_home")), "COLUMNS": "120"}
    proc = subprocess.run([sys.executable, "-c", PROBE, ",".join(HEAVY_MODULES)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_the_walk_reaches_every_group_and_command(probe):
    walked = {" ".join(r["args"][:-1]) for r in probe["results"] if r["args"][-1] == "--help"}
    for expected in ("", "prepare", "prepare frames", "datasets", "train", "train cyclegan", "train colorize",
                     "train gan", "train classifier", "translate", "generate", "eval", "eval run", "viz",
                     "viz report"):
        assert expected in walked


def test_every_help_and_datasets_json_succeed(probe):
    failed = [f"ganctl {' '.join(r['args'])} -> exit {r['exit_code']}\n{r['output']}"
              for r in probe["results"] if r["exit_code"] != 0]
    assert not failed, "\n".join(failed)
    datasets = json.loads(probe["results"][-1]["output"])
    assert any(row["name"] == "mnist-color" for row in datasets["datasets"])


def test_no_heavy_module_is_imported(probe):
    heavy = probe["heavy"]
    assert not heavy, "imported while only parsing the command line (module: first ganctl lines on the stack):\n" + \
        "\n".join(f"  {name}: {' <- '.join(reversed(lines))}" for name, lines in heavy.items())


@pytest.mark.parametrize("args", [["train", "cyclegan", "--data", "no-such-folder"],
                                  ["train", "cut", "--data", "no-such-folder", "--lr", "-1"],
                                  ["train", "colorize", "--data", "no-such-folder"]])
def test_training_mistakes_are_told_before_torch_is_imported(args, tmp_path):
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom ganctl.cli import app\n"
            f"result = CliRunner().invoke(app, {args!r})\n"
            "print(result.exit_code, 'torch' in sys.modules)\nprint(result.output)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "GANCTL_HOME": str(tmp_path / "home")})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "2 False", proc.stdout
