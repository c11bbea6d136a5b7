"""The network registry: every network is a small factory function registered under a name.

This module imports no network: ``ganctl/models/__init__.py`` imports it first and then every network
module (timm's pattern), so ``from ganctl.models import create_model`` sees them all and nothing here
imports back into the networks.

A network is described by a *spec*, ``{"name": <registered name>, "kwargs": {...}}``: the constructor
arguments are the saved config (checkpoint metadata), so weights + spec rebuild it anywhere::

    @register_model("resnet_9blocks", kind="generator")
    def resnet_9blocks(in_channels=3, out_channels=3, ngf=64): ...

    net = create_model("resnet_9blocks", in_channels=1, out_channels=3)
    net = create_model(**spec)   # spec == model_spec("resnet_9blocks", in_channels=1, out_channels=3)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ganctl.errors import OptionError

if TYPE_CHECKING:
    import torch

_REGISTRY: dict[str, tuple[str, Callable[..., torch.nn.Module]]] = {}


def register_model(name: str, kind: str) -> Callable[[Callable[..., torch.nn.Module]], Callable[..., torch.nn.Module]]:
    """Decorator: register a factory under ``name``; ``kind`` is e.g. ``generator`` or ``discriminator``."""

    def decorator(factory: Callable[..., torch.nn.Module]) -> Callable[..., torch.nn.Module]:
        if name in _REGISTRY:
            raise ValueError(f"network {name!r} is registered twice")
        _REGISTRY[name] = (kind, factory)
        return factory

    return decorator


def unregister_model(name: str) -> None:
    """Remove ``name`` from the registry (for tests that register networks of their own); absent names are ignored."""
    _REGISTRY.pop(name, None)


def list_models(kind: str | None = None) -> list[str]:
    """Registered network names (optionally only one kind), sorted."""
    return sorted(n for n, (k, _) in _REGISTRY.items() if kind is None or k == kind)


def create_model(name: str, kwargs: dict[str, Any] | None = None, **more: Any) -> torch.nn.Module:
    """Build the network registered as ``name`` with constructor ``kwargs``; unknown names are an OptionError."""
    if name not in _REGISTRY:
        raise OptionError("network", f"unknown network {name!r}; known: {', '.join(list_models())}")
    _, factory = _REGISTRY[name]
    return factory(**{**(kwargs or {}), **more})


def accepts(name: str, argument: str) -> bool:
    """True when the network registered as ``name`` takes a constructor argument called ``argument``."""
    if name not in _REGISTRY:
        return False
    return argument in inspect.signature(_REGISTRY[name][1]).parameters


def model_spec(name: str, **kwargs: Any) -> dict[str, Any]:
    """The JSON-able spec that :func:`create_model` rebuilds a network from."""
    return {"name": name, "kwargs": kwargs}
