"""Checkpoints: several networks plus optional training state in ONE ``.safetensors`` file.

Layout of a file written by :func:`save_checkpoint`:

* tensors ``net/<network>/<parameter>`` for every network's ``state_dict``;
* tensors ``state/<n>`` for every tensor found in the optional training state (optimisers,
  schedulers, image pools, RNG states, counters), which is any nest of dicts/lists/tuples of
  tensors and JSON values;
* metadata (strings): ``format`` (``ganctl-checkpoint``), ``format_version``, ``config`` (the JSON
  model config that rebuilds the networks), ``networks`` (JSON list of names) and ``state`` (the
  JSON skeleton of the training state, tensors replaced by ``{"__tensor__": "state/<n>"}``).

Loading never unpickles anything: a torch ``.pt``/``.pth`` pickle or any other file is refused.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ganctl import __version__
from ganctl.errors import CheckpointError
from ganctl.fsutil import atomic_path

FORMAT = "ganctl-checkpoint"
FORMAT_VERSION = "1"
_TENSOR_KEY = "__tensor__"
_TUPLE_KEY = "__tuple__"
_MAX_HEADER = 100_000_000


@dataclass
class Checkpoint:
    """What a checkpoint file holds once loaded."""

    config: dict[str, Any]
    networks: dict[str, dict[str, torch.Tensor]]
    state: Any = None
    metadata: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    def load_into(self, modules: dict[str, torch.nn.Module], strict: bool = True) -> None:
        """Load the stored weights into ``modules`` (name -> module); a missing name is an error."""
        for name, module in modules.items():
            if name not in self.networks:
                raise CheckpointError(self.path or "checkpoint", f"has no network named {name!r}")
            module.load_state_dict(self.networks[name], strict=strict)

    def build_network(self, name: str) -> torch.nn.Module:
        """The network ``name`` rebuilt from the spec in the checkpoint's config, with its stored weights."""
        from ganctl.models import create_model

        where = self.path or "checkpoint"
        spec = (self.config.get("networks") or {}).get(name)
        if not isinstance(spec, dict) or "name" not in spec:
            raise CheckpointError(where, f"config has no network spec for {name!r}")
        net = create_model(**spec)
        try:
            self.load_into({name: net})
        except RuntimeError as exc:
            raise CheckpointError(where, f"weights do not fit network {spec['name']!r} ({exc})") from None
        return net


def _flatten_state(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Replace every tensor in a nest by a reference and collect it in ``tensors``."""
    if isinstance(obj, torch.Tensor):
        key = f"state/{len(tensors)}"
        tensors[key] = obj.detach().to("cpu").contiguous().clone()
        return {_TENSOR_KEY: key}
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, (str, int)):
                raise TypeError(f"state dict keys must be str or int, got {type(k).__name__}")
            # JSON object keys are strings; remember int keys (optimiser state uses them).
            out[f"i:{k}" if isinstance(k, int) else f"s:{k}"] = _flatten_state(v, tensors)
        return out
    if isinstance(obj, tuple):
        return {_TUPLE_KEY: [_flatten_state(v, tensors) for v in obj]}
    if isinstance(obj, list):
        return [_flatten_state(v, tensors) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} in a checkpoint state")


def _unflatten_state(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {_TENSOR_KEY}:
            return tensors[obj[_TENSOR_KEY]]
        if set(obj) == {_TUPLE_KEY}:
            return tuple(_unflatten_state(v, tensors) for v in obj[_TUPLE_KEY])
        out = {}
        for k, v in obj.items():
            kind, _, name = k.partition(":")
            out[int(name) if kind == "i" else name] = _unflatten_state(v, tensors)
        return out
    if isinstance(obj, list):
        return [_unflatten_state(v, tensors) for v in obj]
    return obj


def save_checkpoint(
    path: str | os.PathLike,
    networks: dict[str, torch.nn.Module | dict[str, torch.Tensor]],
    config: dict[str, Any],
    state: Any = None,
) -> Path:
    """Write networks (modules or state dicts), their JSON ``config`` and optional ``state`` atomically."""
    tensors: dict[str, torch.Tensor] = {}
    for name, net in networks.items():
        if "/" in name:
            raise ValueError(f"network name may not contain '/': {name!r}")
        sd = net.state_dict() if isinstance(net, torch.nn.Module) else net
        for key, value in sd.items():
            tensors[f"net/{name}/{key}"] = value.detach().to("cpu").contiguous().clone()
    skeleton = _flatten_state(state, tensors) if state is not None else None
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "ganctl_version": __version__,
        "config": json.dumps(config, default=str),
        "networks": json.dumps(list(networks)),
    }
    if skeleton is not None:
        metadata["state"] = json.dumps(skeleton)
    path = Path(path)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    return path


def _check_is_safetensors(path: Path) -> None:
    """Refuse anything that is not a safetensors file, with a message saying what it looks like."""
    if not path.exists():
        raise CheckpointError(path, "no such file")
    if path.is_dir():
        raise CheckpointError(path, "is a folder; give a .safetensors file or a run folder")
    with open(path, "rb") as fh:
        head = fh.read(9)
    size = path.stat().st_size
    if len(head) == 9:
        (header_len,) = struct.unpack("<Q", head[:8])
        if 0 < header_len <= min(_MAX_HEADER, size - 8) and head[8:9] == b"{":
            return
    # Not a safetensors header: say what it looks like (a zip-based or legacy torch pickle is common).
    if head[:4] == b"PK\x03\x04" or head[:1] == b"\x80":
        raise CheckpointError(
            path, "is a PyTorch pickle (.pt/.pth), not a safetensors checkpoint; ganctl never loads pickles"
        )
    raise CheckpointError(path, "is not a safetensors checkpoint")


def read_checkpoint_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The metadata strings of a ganctl checkpoint, without loading its tensors."""
    path = Path(path)
    _check_is_safetensors(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types
        raise CheckpointError(path, f"is not a readable safetensors file ({exc})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(path, "is a safetensors file but not a ganctl checkpoint (no ganctl metadata)")
    return meta


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu", with_state: bool = True) -> Checkpoint:
    """Load a checkpoint written by :func:`save_checkpoint`; tensors go to ``device``."""
    path = Path(path)
    meta = read_checkpoint_metadata(path)
    try:
        config = json.loads(meta.get("config", "{}"))
        names = json.loads(meta.get("networks", "[]"))
        skeleton = json.loads(meta["state"]) if with_state and "state" in meta else None
    except json.JSONDecodeError as exc:
        raise CheckpointError(path, f"has corrupt metadata ({exc})") from None
    networks: dict[str, dict[str, torch.Tensor]] = {n: {} for n in names}
    state_tensors: dict[str, torch.Tensor] = {}
    try:
        with safe_open(str(path), framework="pt", device=str(device)) as f:
            for key in f.keys():
                if key.startswith("net/"):
                    _, net, param = key.split("/", 2)
                    networks.setdefault(net, {})[param] = f.get_tensor(key)
                elif key.startswith("state/") and skeleton is not None:
                    state_tensors[key] = f.get_tensor(key)
    except CheckpointError:
        raise
    except Exception as exc:
        raise CheckpointError(path, f"could not be read ({exc})") from None
    state = _unflatten_state(skeleton, state_tensors) if skeleton is not None else None
    return Checkpoint(config=config, networks=networks, state=state, metadata=meta, path=path)


def resolve_checkpoint_path(model: str | os.PathLike) -> Path:
    """A run folder (-> ``checkpoints/latest.safetensors``) or a ``.safetensors`` file, checked to exist."""
    p = Path(model)
    if p.is_dir():
        latest = p / "checkpoints" / "latest.safetensors"
        if not latest.exists():
            if (p / "config.json").is_file():
                raise CheckpointError(p, "is a run that stopped before saving its first checkpoint; start it "
                                         f"again with --run {p}")
            raise CheckpointError(p, "is a folder without checkpoints/latest.safetensors (not a ganctl run?)")
        return latest
    if not p.exists():
        raise CheckpointError(p, "no such run folder or checkpoint file")
    return p
