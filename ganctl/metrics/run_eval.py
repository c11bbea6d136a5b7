"""``ganctl eval run``: evaluate a run of any registered recipe, and keep the result with the run.

The run's checkpoint (``checkpoints/latest.safetensors``) says its ``kind``; that recipe's
:meth:`ganctl.training.Recipe.evaluate` measures it (one ``ganctl.metrics.eval_<kind>`` module each, see
there for what each kind measures). Everything else happens here, once for every kind: checking
``--split``, ``--limit``, ``--batch-size``, ``--features`` and ``--device``, opening the run folder, and
writing the report to ``RUN/eval.json`` and, with group names flattened into the keys (cyclegan's
``a2b_fid``, ...), into ``RUN/metrics.jsonl`` as a ``{"kind": "eval"}`` record.

The report: ``run``, ``kind``, ``checkpoint``, ``step``, ``epoch``, ``split`` and :data:`ABOUT` (what was
evaluated how), then the recipe's scores, then ``seconds``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ganctl import console
from ganctl.checkpoint import load_checkpoint, resolve_checkpoint_path
from ganctl.data.dataset_meta import read_dataset_meta
from ganctl.device import resolve_device
from ganctl.errors import CheckpointError, GanctlError, InputError, OptionError
from ganctl.fsutil import atomic_write_json
from ganctl.metrics.evaluation import RunScores, RunToEvaluate
from ganctl.metrics.fid import FEATURES
from ganctl.runs import MetricsLog, read_config, run_dataset

_CHANNEL_WORDS = {1: "gray", 3: "colour"}

SPLITS = ("test", "train")
RUN_KEYS = ("run", "kind", "checkpoint", "step", "epoch", "split", "eval_mode")
ABOUT = ("images", "dataset", "dataset_kind", "features")
"""The report's keys that say what was evaluated and how; every key after them is a score."""


def open_run(run: str | os.PathLike, *, split: str = "test", data: str | os.PathLike | None = None,
             features: str = "auto", weights: str | os.PathLike | None = None, batch_size: int = 64,
             device: str = "auto", limit: int | None = None, eval_mode: bool = False) -> RunToEvaluate:
    """The run folder and the options, checked (one GanctlError for the first thing wrong)."""
    if split not in SPLITS:
        raise OptionError("--split", f"must be one of {', '.join(SPLITS)}, got {split!r}")
    if features not in ("auto", *FEATURES):
        raise OptionError("--features", f"must be auto, {' or '.join(FEATURES)}, got {features!r}")
    if batch_size < 1:
        raise OptionError("--batch-size", "must be at least 1")
    if limit is not None and limit < 2:
        raise OptionError("--limit", f"must be at least 2, got {limit}")
    run_dir = Path(run)
    if not run_dir.is_dir():
        raise InputError(run_dir, "no such run folder")
    checkpoint = resolve_checkpoint_path(run_dir)
    model_config = load_checkpoint(checkpoint, with_state=False).config
    target = RunToEvaluate(run_dir=run_dir, checkpoint=checkpoint, model_config=model_config,
                           config=read_config(run_dir), split=split, data=data, features=features, weights=weights,
                           batch_size=batch_size, device=resolve_device(device), limit=limit, eval_mode=eval_mode)
    if data is not None and str(data):
        check_data_fits_run(target)
    return target


def check_data_fits_run(target: RunToEvaluate) -> None:
    """Refuse ``--data`` whose domains have other channels than the run's model (its scores would be nonsense,
    and would replace the run's eval.json); warn when its kind differs from the data the run trained on."""
    folder = target.dataset()
    meta = read_dataset_meta(folder) or {}
    model_channels = target.model_config.get("channels") or {}
    data_channels = meta.get("channels") or {}
    if isinstance(model_channels, dict) and isinstance(data_channels, dict):
        differ = [d for d in ("A", "B") if d in model_channels and d in data_channels
                  and int(model_channels[d]) != int(data_channels[d])]
        if differ:
            def words(channels: dict[str, Any]) -> str:
                return " -> ".join(_CHANNEL_WORDS.get(int(channels[d]), f"{channels[d]}-channel")
                                   for d in ("A", "B") if d in channels)
            raise InputError(folder, f"holds {words(data_channels)} data (dataset.json channels), but the run "
                                     f"translates {words(model_channels)}; evaluate it on data of its own kind")
    trained_kind = None
    try:
        trained_kind = (read_dataset_meta(run_dataset(target.run_dir)) or {}).get("kind")
    except GanctlError:  # the run's own data has gone (why --data was given): nothing to compare with
        pass
    if meta.get("kind") and trained_kind and meta["kind"] != trained_kind:
        console.warn(f"{folder} is a {meta['kind']} dataset, but the run trained on {trained_kind} data; "
                     f"its scores will replace {target.run_dir / 'eval.json'}")


def flat_scores(scores: dict[str, Any]) -> dict[str, Any]:
    """Scores with groups flattened into the keys: ``{"a2b": {"fid": 1}}`` -> ``{"a2b_fid": 1}``."""
    flat: dict[str, Any] = {}
    for key, value in scores.items():
        if isinstance(value, dict):
            flat.update({f"{key}_{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def evaluate_run(run: str | os.PathLike, *, split: str = "test", data: str | os.PathLike | None = None,
                 features: str = "auto", weights: str | os.PathLike | None = None, batch_size: int = 64,
                 device: str = "auto", limit: int | None = None, eval_mode: bool = False,
                 write: bool = True) -> dict[str, Any]:
    """Evaluate a run with its recipe's measures and return the report (see the module docstring).

    ``write``: also save ``eval.json`` and the ``metrics.jsonl`` record in the run folder.
    """
    from ganctl.training import get_recipe, list_recipes

    start = time.perf_counter()
    target = open_run(run, split=split, data=data, features=features, weights=weights, batch_size=batch_size,
                      device=device, limit=limit, eval_mode=eval_mode)
    kind = target.model_config.get("kind")
    if kind not in list_recipes():
        raise CheckpointError(target.checkpoint, f"is a {kind!r} model; eval run evaluates runs of "
                                                 f"{', '.join(list_recipes())}")
    result: RunScores = get_recipe(kind).evaluate(target)
    about_run = (str(target.run_dir), kind, str(target.checkpoint), target.step, target.epoch, split, eval_mode)
    report = {**dict(zip(RUN_KEYS, about_run)), **{key: getattr(result, key) for key in ABOUT},
              **result.scores, "seconds": round(time.perf_counter() - start, 2)}
    if write:
        atomic_write_json(target.run_dir / "eval.json", report)
        MetricsLog(target.run_dir / "metrics.jsonl").append(target.step, target.epoch, kind="eval", split=split,
                                                            features=result.features, **flat_scores(result.scores))
    return report
