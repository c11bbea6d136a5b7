"""What one translate call did (:class:`TranslateSummary`) and the one line that reports it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# Skip reasons are counted by how they start ("exists", "unreadable: corrupt or truncated ...").
_REASON_KEYS = ("exists", "not an image", "video", "name clash", "unreadable")
_REASON_LABELS = {"exists": "written before", "video": "videos"}


@dataclass
class TranslateSummary:
    """What one translate call did: counts, skip reasons (name -> reason), failures and timing.

    ``skipped``: files not translated on purpose or that are not readable images; ``failed``: readable
    images that could not be translated or written (the call is then incomplete).
    """

    translated: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    device: str = "cpu"
    precision: str = "fp32"
    test_mode: str | None = None  # "reference" or "eval" for generators with batch norm or dropout
    outputs: list[Path] = field(default_factory=list)

    @property
    def images_per_second(self) -> float:
        """Translated images (or video frames) per wall-clock second."""
        return self.translated / self.seconds if self.seconds > 0 else 0.0

    def skip(self, name: str, reason: str) -> None:
        """Count ``name`` as skipped for ``reason``."""
        self.skipped[name] = reason

    def fail(self, name: str, problem: str) -> None:
        """Count ``name`` as a readable image that could not be translated or written."""
        self.failed[name] = problem

    def as_json(self, out: Path) -> dict:
        """What ``translate --json`` prints."""
        return {"out": str(out), "translated": self.translated, "skipped": self.skipped, "failed": self.failed,
                "outputs": [str(p) for p in self.outputs], "seconds": round(self.seconds, 3),
                "images_per_second": round(self.images_per_second, 3), "device": self.device,
                "precision": self.precision, "test_mode": self.test_mode}

    def line(self, unit: str = "images") -> str:
        """The one-line summary: translated, skipped with reasons, rate."""
        text = f"translated {self.translated} {unit[:-1] if self.translated == 1 else unit}"
        if self.skipped:
            reasons = Counter(_reason_key(r) for r in self.skipped.values())
            detail = ", ".join(f"{n} {_REASON_LABELS.get(why, why)}" for why, n in reasons.most_common())
            if "exists" in reasons:
                detail += "; --overwrite replaces them"
            text += f", skipped {len(self.skipped)} ({detail})"
        if self.failed:
            text += f", failed {len(self.failed)}"
        mode = f", {self.test_mode} test mode" if self.test_mode else ""
        return text + f" in {self.seconds:.1f} s, {self.images_per_second:.1f} {unit}/s on {self.device} " \
                      f"({self.precision}{mode})"


def merge_summaries(parts: dict[str, TranslateSummary]) -> TranslateSummary:
    """One summary of several inputs' (``{input name: summary}``); file names get their input's name in front."""
    first = next(iter(parts.values()))
    total = TranslateSummary(device=first.device, precision=first.precision, test_mode=first.test_mode)
    for label, part in parts.items():
        total.translated += part.translated
        total.seconds += part.seconds
        total.outputs += part.outputs
        total.skipped.update({f"{label}/{name}": why for name, why in part.skipped.items()})
        total.failed.update({f"{label}/{name}": why for name, why in part.failed.items()})
    return total


def _reason_key(reason: str) -> str:
    return next((key for key in _REASON_KEYS if reason.startswith(key)), "unreadable")
