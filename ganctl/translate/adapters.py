"""How each kind of checkpoint is translated: which network runs, which image mode it reads, and how.

A :class:`ModelAdapter` per checkpoint ``kind``, made by a factory registered with :func:`register_adapter`
(which also says the directions the kind translates, :func:`adapter_directions`):

* ``cyclegan``: ``a2b`` runs ``G_A`` (domain A -> B), ``b2a`` runs ``G_B``; images in [-1, 1];
* ``colorize``: image -> Lab lightness -> ``G`` -> ab -> colour image. Images are decoded as RGB, so a
  gray image arrives with three equal channels and a colour image is made gray by keeping only its Lab
  lightness (the exact L the model was trained on, not PIL's luma). The output keeps the input's L and
  takes a and b from the generator;
* ``cut``: ``G`` maps A -> B (``a2b`` only); ``pix2pix``: ``G`` maps the side it was trained on (``a2b`` only).

Each adapter also says what its direction translates in a dataset (:attr:`ModelAdapter.examples`): the
inputs of a split and, where the data are paired, their true translations. ``viz grid`` draws them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from ganctl.color import lab_normalized_to_rgb, rgb_to_lab_normalized
from ganctl.errors import GanctlError, InputError, OptionError


@dataclass(frozen=True)
class Example:
    """One image a direction translates: ``name`` relative to the dataset folder (the key of dataset.json's
    ``labels``) and ``open()``, which decodes the input and its true translation (None when unknown)."""

    name: str
    open: Callable[[], tuple[Image.Image, Image.Image | None]]


@dataclass
class Examples:
    """What one direction of a model translates in a dataset split, as a figure shows it.

    ``title``: the direction and where its inputs come from (``A → B  (testA)``); ``input_label`` and
    ``truth_label``: the columns of the inputs and of their true translations (``truth_label`` is None when
    the dataset holds none, e.g. unpaired test sets); ``items``: the examples in name order.
    """

    title: str
    input_label: str
    truth_label: str | None
    items: list[Example]


FindExamples = Callable[[Path, str], Examples]  # (dataset folder, split "test" or "train") -> Examples


@dataclass
class ModelAdapter:
    """How one kind of model reads images and writes them back.

    ``prepare`` maps a float batch N x C x H x W in [0, 1] (C = 1 for ``in_mode`` ``L``, 3 for ``RGB``)
    to the network input; ``finish`` maps (prepared input, network output) to images in [0, 1] with
    1 or 3 channels. Both run on the model's device.
    ``domains``: the dataset domains the direction maps from and to (``("B", "A")`` for cyclegan's ``b2a``);
    ``examples``: what the direction translates in a dataset (:class:`Examples`), None when the kind does not
    say (``viz grid`` then shows the training's samples);
    ``graph_mode``: the mode of the image an exported graph (``ganctl export``) takes, when not ``in_mode``:
    ``L`` for a model that reads only lightness (colorize), whose graph repeats the gray channel into RGB;
    ``keeps_lightness``: the output has the input's Lab lightness (colorize), so only its chroma can differ
    from frame to frame (``translate --temporal`` blends only that).
    """

    network: str
    in_mode: str
    out_channels: int
    prepare: Callable[[torch.Tensor], torch.Tensor]
    finish: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    domains: tuple[str, str] = ("A", "B")
    examples: FindExamples | None = None
    graph_mode: str | None = None
    keeps_lightness: bool = False


AdapterFactory = Callable[[dict[str, Any], str], ModelAdapter]
_ADAPTERS: dict[str, AdapterFactory] = {}
_DIRECTIONS: dict[str, tuple[str, ...]] = {}


def register_adapter(kind: str, directions: tuple[str, ...] = ("a2b",)) -> Callable[[AdapterFactory], AdapterFactory]:
    """Decorator: the adapter factory ``(config, direction) -> ModelAdapter`` for checkpoints of ``kind``,
    which translate the ``directions`` given (one-way kinds: ``a2b``)."""

    def decorator(factory: AdapterFactory) -> AdapterFactory:
        _ADAPTERS[kind] = factory
        _DIRECTIONS[kind] = tuple(directions)
        return factory

    return decorator


def adapter_kinds() -> list[str]:
    """The checkpoint kinds translate serves, sorted."""
    return sorted(_ADAPTERS)


def adapter_directions(config: dict[str, Any]) -> tuple[str, ...]:
    """The directions a checkpoint config's kind translates (cyclegan: a2b and b2a); () when translate does not
    serve the kind (gan, classifier)."""
    return _DIRECTIONS.get(config.get("kind"), ())


def adapter_for(config: dict[str, Any], direction: str) -> ModelAdapter:
    """The adapter for a checkpoint config (its ``kind``), or a GanctlError naming the kinds known."""
    if direction not in ("a2b", "b2a"):
        raise OptionError("--direction", f"must be a2b or b2a, got {direction!r}")
    kind = config.get("kind")
    if kind not in _ADAPTERS:
        known = ", ".join(adapter_kinds())
        raise GanctlError(f"cannot translate with a {kind!r} model; translate serves: {known}")
    return _ADAPTERS[kind](config, direction)


def _mode_for(channels: int) -> str:
    if channels not in (1, 3):
        raise GanctlError(f"model works on {channels}-channel images; only 1 (gray) and 3 (colour) are supported")
    return "L" if channels == 1 else "RGB"


def _open_files(source: Path, truth: Path | None) -> tuple[Image.Image, Image.Image | None]:
    from ganctl.data.imageio import open_image

    return open_image(source), open_image(truth) if truth is not None else None


def domain_examples(src: str, dst: str) -> FindExamples:
    """The examples of an unpaired model translating domain ``src`` to ``dst``: the images of ``{split}{src}/``;
    their true translations are the same names in ``{split}{dst}/`` where dataset.json says the split is paired
    (``paired``, or ``paired_test`` for the test split: mnist-color, mnist-rotate)."""

    def find(root: Path, split: str) -> Examples:
        from ganctl.data.dataset_meta import read_dataset_meta
        from ganctl.data.imageio import list_images
        from ganctl.data.pairs import images_by_name

        folder = root / f"{split}{src}"
        if not folder.is_dir():
            raise InputError(folder, "no such folder (a dataset needs trainA/ trainB/ testA/ testB/)")
        meta = read_dataset_meta(root) or {}
        paired = bool(meta.get("paired") or (split == "test" and meta.get("paired_test")))
        truths = images_by_name(root / f"{split}{dst}")[0] if paired else {}
        items = [Example(path.relative_to(root).as_posix(),
                         partial(_open_files, path, truths.get(path.relative_to(folder).with_suffix("").as_posix())))
                 for path in list_images(folder)]
        return Examples(f"{src} → {dst}  ({split}{src})", f"real {src}", f"true {dst}" if truths else None, items)

    return find


@register_adapter("cyclegan", directions=("a2b", "b2a"))
def cyclegan_adapter(config: dict[str, Any], direction: str) -> ModelAdapter:
    """CycleGAN: ``a2b`` runs ``G_A`` (domain A -> B), ``b2a`` runs ``G_B``; images in [-1, 1]."""
    channels = config.get("channels") or {}
    src, dst = ("A", "B") if direction == "a2b" else ("B", "A")
    return ModelAdapter(
        network="G_A" if direction == "a2b" else "G_B",
        in_mode=_mode_for(int(channels.get(src, 3))),
        out_channels=int(channels.get(dst, 3)),
        prepare=lambda x: x * 2 - 1,
        finish=lambda _x, y: (y + 1) * 0.5,
        domains=(src, dst),
        examples=domain_examples(src, dst),
    )


def lightness_input(rgb: torch.Tensor) -> torch.Tensor:
    """RGB batch in [0, 1] (N x 3 x H x W, gray images as three equal channels) -> L scaled to [-1, 1]."""
    l_norm, _ = rgb_to_lab_normalized(rgb.float())
    return l_norm


def colour_output(l_norm: torch.Tensor, ab_norm: torch.Tensor) -> torch.Tensor:
    """L and predicted ab (both scaled to [-1, 1]) -> RGB in [0, 1]."""
    return lab_normalized_to_rgb(l_norm.float(), ab_norm.float().clamp(-1, 1))


def _gray_and_photo(path: Path) -> tuple[Image.Image, Image.Image]:
    """A colour photo made gray as the colorize model sees it (its Lab lightness, a and b zero), and the photo."""
    from ganctl.data.imageio import open_image, pil_to_tensor, tensor_to_pil, to_mode

    photo = to_mode(open_image(path), "RGB")
    l_norm = lightness_input(pil_to_tensor(photo)[None])
    gray = colour_output(l_norm, torch.zeros_like(l_norm).expand(-1, 2, -1, -1))[0]
    return tensor_to_pil(gray), photo


def colorize_examples(root: Path, split: str) -> Examples:
    """A colorize model's examples: the split's colour photos (``testB/``; a plain folder of photos has no test
    split, so its photos) made gray, with the photos as their true colours."""
    from ganctl.data.domains import find_colour_photos

    photos = find_colour_photos(root)
    if split == "train":
        files, where = photos.train, "training photos"
    elif photos.test:
        files, where = photos.test, f"{split}B photos"
    else:
        files, where = photos.train, "the folder's photos: no test split"
    items = [Example(path.relative_to(photos.root).as_posix(), partial(_gray_and_photo, path)) for path in files]
    return Examples(f"gray → colour  ({where})", "gray input", "true colours", items)


@register_adapter("colorize")
def colorize_adapter(config: dict[str, Any], direction: str) -> ModelAdapter:
    """Adapter for ``"kind": "colorize"`` checkpoints: generator ``G`` maps L to ab in Lab scaled to [-1, 1]."""
    if direction != "a2b":
        raise OptionError("--direction", "a colorize model only translates gray -> colour (a2b)")
    space = config.get("color_space", "lab")
    if space != "lab":
        raise OptionError("--model", f"colorize model in colour space {space!r}; this ganctl knows only 'lab'")
    return ModelAdapter(network="G", in_mode="RGB", out_channels=3, prepare=lightness_input, finish=colour_output,
                        examples=colorize_examples, graph_mode="L",
                        keeps_lightness=True)


@register_adapter("cut")
def cut_adapter(config: dict[str, Any], direction: str) -> ModelAdapter:
    """CUT / FastCUT: one-sided, ``G`` maps A -> B (images in [-1, 1]); there is no B -> A generator."""
    if direction != "a2b":
        raise OptionError("--direction", "a cut model is one-sided: it translates A -> B only (a2b)")
    channels = config.get("channels") or {}
    return ModelAdapter(network="G", in_mode=_mode_for(int(channels.get("A", 3))),
                        out_channels=int(channels.get("B", 3)), prepare=lambda x: x * 2 - 1,
                        finish=lambda _x, y: (y + 1) * 0.5, examples=domain_examples("A", "B"))


def _open_pair(pair: Any, src: str) -> tuple[Image.Image, Image.Image]:
    from ganctl.data.pairs import open_pair

    a, b = open_pair(pair)
    return (a, b) if src == "A" else (b, a)


def pair_examples(src: str, dst: str) -> FindExamples:
    """The examples of a pix2pix model trained ``src`` -> ``dst``: the ``src`` side of the split's pairs
    (``testA/ testB/``, or ``test/`` else ``val/`` of side-by-side images), the ``dst`` side as their truths."""

    def find(root: Path, split: str) -> Examples:
        from ganctl.data.pairs import find_pairs

        data = find_pairs(root)
        if split == "train":
            pairs, where = data.train, "training pairs"
        elif data.test:
            pairs, where = data.test, f"{split} pairs, {data.test_split}"
        else:
            raise InputError(data.root, "has no test pairs (testA/ and testB/ with the same names, or test/ or val/ "
                                        "of side-by-side images); --split train shows the training pairs")
        items = [Example(pair.a.relative_to(data.root).as_posix(), partial(_open_pair, pair, src)) for pair in pairs]
        return Examples(f"{src} → {dst}  ({where})", f"input {src}", f"true {dst}", items)

    return find


@register_adapter("pix2pix")
def pix2pix_adapter(config: dict[str, Any], direction: str) -> ModelAdapter:
    """pix2pix: ``G`` maps the input side to the target side it was trained on (``direction`` AtoB or BtoA)."""
    trained = config.get("direction", "AtoB")
    if direction != "a2b":
        raise OptionError("--direction", f"a pix2pix model translates one way only, the way it was trained "
                                         f"({trained}): use a2b, or train one with the other --direction")
    channels = config.get("channels") or {}
    src, dst = ("A", "B") if trained == "AtoB" else ("B", "A")
    return ModelAdapter(network="G", in_mode=_mode_for(int(channels.get(src, 3))),
                        out_channels=int(channels.get(dst, 3)), prepare=lambda x: x * 2 - 1,
                        finish=lambda _x, y: (y + 1) * 0.5, domains=(src, dst), examples=pair_examples(src, dst))
