"""Placeholder for command groups whose issue has not landed yet."""

from __future__ import annotations

from ganctl.errors import GanctlError


def not_available_yet(command: str) -> None:
    """Refuse a command that is not implemented yet, with one clear line."""
    raise GanctlError(f"{command}: not available yet in this version of ganctl")
