"""Where and how a training step runs: device, precision (autocast + GradScaler), DDP, compile.

Shared by every recipe. DDP here means: ``torchrun`` starts one process
per device, each reads its own shard of the data, and gradients are averaged with one all-reduce
per network before each optimiser step. That works for GANs, whose steps run several networks
several times and freeze some of them, where wrapping each network in ``DistributedDataParallel``
does not.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from ganctl.device import resolve_device
from ganctl.precision import autocast_dtype, resolve_precision
from ganctl.runs import create_run_dir


class Precision:
    """``--precision`` during training (:mod:`ganctl.precision`): autocast dtype plus a GradScaler for fp16."""

    def __init__(self, mode: str, device: torch.device):
        self.mode = resolve_precision(mode, device)
        self.device_type = device.type
        self.dtype = autocast_dtype(self.mode)
        self.scaler = torch.amp.GradScaler(device.type) if self.mode == "fp16" else None

    def autocast(self) -> contextlib.AbstractContextManager:
        """Context in which forward passes run at the chosen precision."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def backward(self, loss: torch.Tensor) -> None:
        """``loss.backward()``, scaled under fp16."""
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        """``optimizer.step()``, skipping steps with inf/NaN gradients under fp16."""
        if self.scaler is not None:
            self.scaler.step(optimizer)
        else:
            optimizer.step()

    def update(self) -> None:
        """End of a training step: adjust the fp16 loss scale."""
        if self.scaler is not None:
            self.scaler.update()

    def state_dict(self) -> dict[str, Any]:
        """The GradScaler state ({} without one)."""
        return self.scaler.state_dict() if self.scaler is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)


class Distributed:
    """This process's place in a ``torchrun`` job (world size 1 without torchrun)."""

    def __init__(self) -> None:
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.owns_group = False

    @property
    def enabled(self) -> bool:
        """True under torchrun with more than one process."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes files and shows progress."""
        return self.rank == 0

    def setup(self, device: torch.device) -> None:
        """Join the process group (NCCL on CUDA, gloo on CPU) when running under torchrun."""
        if self.enabled and not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
            self.owns_group = True

    def close(self) -> None:
        """Leave the process group this object joined."""
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self.owns_group = False

    def broadcast_object(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank."""
        if not self.enabled:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    @torch.no_grad()
    def broadcast_parameters(self, module: nn.Module) -> None:
        """Make every rank start from rank 0's weights."""
        if self.enabled:
            for tensor in list(module.parameters()) + list(module.buffers()):
                dist.broadcast(tensor.data, src=0)

    @torch.no_grad()
    def average_gradients(self, *modules: nn.Module) -> None:
        """All-reduce (mean) the gradients of ``modules`` in one flat buffer: one collective per call."""
        if not self.enabled:
            return
        grads = [p.grad for m in modules for p in m.parameters() if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for g in grads:
            n = g.numel()
            g.copy_(flat[offset: offset + n].view_as(g))
            offset += n

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """Element-wise mean of ``values`` over ranks."""
        if self.enabled:
            values = values.clone()
            dist.all_reduce(values)
            values /= self.world_size
        return values

    def largest(self, value: int, device: torch.device) -> int:
        """The largest of the ranks' ``value`` (e.g. a stop signal's number, 0 for none)."""
        if not self.enabled:
            return value
        t = torch.tensor([value], dtype=torch.int64, device=device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return int(t.item())

    def barrier(self) -> None:
        """Wait for every rank."""
        if self.enabled:
            dist.barrier()


@dataclass
class TrainContext:
    """Everything a trainer needs to place and run its networks."""

    device: torch.device
    precision: Precision
    dist: Distributed = field(default_factory=Distributed)
    channels_last: bool = False
    compile: bool = False

    @classmethod
    def create(cls, device: str = "auto", precision: str = "auto", compile: bool = False,
               channels_last: bool | None = None) -> TrainContext:
        """Resolve ``--device``, ``--precision`` and ``--compile``; join DDP under torchrun.

        channels_last defaults to on for CUDA (its convolutions are faster in NHWC) and off elsewhere.
        """
        ddp = Distributed()
        dev = resolve_device(device)
        if dev.type == "cuda" and ddp.enabled:
            dev = torch.device("cuda", ddp.local_rank)
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        ddp.setup(dev)
        if channels_last is None:
            channels_last = dev.type == "cuda"
        return cls(device=dev, precision=Precision(precision, dev), dist=ddp, channels_last=channels_last,
                   compile=compile)

    def create_run_dir(self, kind: str, run: str | os.PathLike | None, runs_root: str | os.PathLike) -> Path:
        """The new run folder: made by the main process (see :func:`ganctl.runs.create_run_dir`), shared with all."""
        made = str(create_run_dir(kind, run, runs_root)) if self.dist.is_main else None
        return Path(self.dist.broadcast_object(made))

    def place(self, net: nn.Module) -> nn.Module:
        """Move ``net`` to the device (channels_last when enabled) and align it across ranks."""
        net = net.to(self.device)
        if self.channels_last:
            net = net.to(memory_format=torch.channels_last)
        self.dist.broadcast_parameters(net)
        return net

    def fast(self, net: nn.Module) -> nn.Module:
        """The callable to run ``net`` with: ``torch.compile(net)`` under ``--compile``, else ``net``.

        Keep the original for checkpoints: a compiled module's state dict has prefixed keys.
        """
        return torch.compile(net) if self.compile else net

    def to_device(self, x: torch.Tensor) -> torch.Tensor:
        """A batch tensor on the device (non-blocking from pinned memory), in the nets' memory format."""
        x = x.to(self.device, non_blocking=True)
        if self.channels_last and x.ndim == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def adam(self, params: Any, lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
        """Adam, fused into one kernel per step on CUDA."""
        kwargs = {"fused": True} if self.device.type == "cuda" else {}
        return torch.optim.Adam(params, lr=lr, betas=betas, **kwargs)
