"""FID and KID between two image sets, computed by torchmetrics, on Inception or digit features.

Distances: torchmetrics' ``FrechetInceptionDistance`` and ``KernelInceptionDistance``. Features:

* ``inception`` (default): the standard FID network, Inception v3 with the TensorFlow weights
  ``inception-2015-12-05`` converted to PyTorch (pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth``,
  which torch-fidelity mirrors as ``weights-inception-2015-12-05-6726825d.pth``), run exactly as torchmetrics
  runs it (``NoTrainInceptionV3``, 2048-d pool features). Resizing: each image goes to the network at its own
  size as uint8 and is resized there to 299 x 299 (aspect ratio not kept). ``resize="antialias"`` (default) is
  torchmetrics' default, bilinear with antialiasing; ``resize="tf1"`` is torch-fidelity's default, a bilinear
  resize without antialiasing that reproduces the original TensorFlow FID code. Scores are only comparable
  when computed with the same weights and the same resizing (Parmar et al., "On Aliased Resizing and
  Surprising Subtleties in GAN Evaluation", CVPR 2022).
* ``digits``: the embeddings of ganctl's own MNIST classifier (:mod:`ganctl.metrics.digits`), per RGB channel,
  at 28 x 28 (bilinear, antialiased). Meaningful for digit tasks, and needs no download.
* ``domain``: the pooled features of the domain classifier of one photo dataset (``--data``;
  :mod:`ganctl.metrics.domain`, trained on first use), at its 64 x 64 (bilinear, antialiased). Offline too,
  but features learnt to tell that dataset's A from B: scores compare runs on that dataset only.

FID is a distance: the few 1e-4 below 0 that the matrix square root's rounding gives for identical sets are
reported as 0. KID is the unbiased estimate, so sets from one distribution may score slightly below 0. Sets
smaller than the feature dimension (2048 for Inception) give a warning: FID is then biased upwards and noisy.

The weights are served offline from ``--weights FILE`` or ``$GANCTL_HOME/weights/``; when they are missing,
ganctl tries the download once, and otherwise says in one line which file to put where. The ``.pth`` file is a
torch pickle, loaded with ``torch.load(weights_only=True)``, which refuses anything but tensors.
"""

from __future__ import annotations

import hashlib
import os
import unittest.mock
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganctl import console
from ganctl.errors import GanctlError, InputError, OptionError
from ganctl.metrics.images import ReadStats, default_workers, image_files, iter_batches, report_skipped
from ganctl.paths import weights_dir

INCEPTION_FILE = "pt_inception-2015-12-05-6726825d.pth"
INCEPTION_ALT_FILES = ("weights-inception-2015-12-05-6726825d.pth",)
INCEPTION_URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + INCEPTION_FILE
INCEPTION_SHA256_PREFIX = "6726825d"
FEATURES = ("inception", "digits", "domain")
RESIZES = ("antialias", "tf1")
KID_SUBSET_SIZE = 1000
KID_SUBSETS = 100


class WeightsMissing(GanctlError):
    """The FID Inception weights are not on this machine and could not be downloaded."""


def inception_search_paths() -> list[Path]:
    """The cache paths where the Inception weights are looked for, in order."""
    folder = weights_dir()
    return [folder / name for name in (INCEPTION_FILE, *INCEPTION_ALT_FILES)]


def _download(url: str, dst: Path) -> None:
    """Download ``url`` to ``dst`` (torch.hub writes a temp file, checks the sha256 prefix, then renames)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    torch.hub.download_url_to_file(url, str(dst), hash_prefix=INCEPTION_SHA256_PREFIX,
                                   progress=not console.is_quiet())


def find_inception_weights(weights: str | os.PathLike | None = None, download: bool = True) -> Path:
    """The Inception weights file: ``weights`` if given, else the cache, else downloaded into the cache.

    Raises :class:`WeightsMissing` (one line: the file, its URL, the folder) when none can be had.
    """
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise InputError(path, "no such weights file (--weights)")
        return path
    for path in inception_search_paths():
        if path.is_file():
            return path
    target = inception_search_paths()[0]
    reason = "downloads disabled"
    if download:
        try:
            _download(INCEPTION_URL, target)
            return target
        except Exception as exc:  # no network, proxy, hash mismatch: all end in the same advice
            reason = f"download failed: {type(exc).__name__}"
    raise WeightsMissing(
        f"FID Inception weights not found ({reason}): download {INCEPTION_FILE} from {INCEPTION_URL} "
        f"and put it in {target.parent}/ (or pass --weights FILE), or use --features digits (digit sets) "
        f"or --features domain (photo sets)"
    )


def _sha256_prefix(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:8]


def load_inception_state(path: Path) -> dict[str, torch.Tensor]:
    """The Inception state dict from a ``.pth`` (tensors only, no code) or ``.safetensors`` file."""
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise InputError(path, f"cannot be read as Inception weights ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(path, "is not a state dict of tensors (expected the FID Inception weights)")
    return state


def build_inception(state: dict[str, torch.Tensor], resize: str = "antialias") -> nn.Module:
    """torchmetrics' ``NoTrainInceptionV3`` (2048-d features) with the given weights, never unpickling a file.

    torch-fidelity's constructor loads its weights itself, from the network or with a full-pickle
    ``torch.load``; here it is handed the already safely loaded state dict instead.
    """
    import torch_fidelity.feature_extractor_inceptionv3 as tf_inception
    from torchmetrics.image.fid import NoTrainInceptionV3

    if resize not in RESIZES:
        raise OptionError("--resize", f"unknown resize {resize!r}; use {' or '.join(RESIZES)}")
    with unittest.mock.patch.object(tf_inception, "load_state_dict_from_url", lambda *a, **k: state):
        try:
            net = NoTrainInceptionV3(name="inception-v3-compat", features_list=["2048"],
                                     antialias=resize == "antialias")
        except RuntimeError as exc:
            first_line = str(exc).splitlines()[0]
            raise GanctlError(f"the weights are not the FID Inception v3 weights ({first_line})") from None
    net.num_features = 2048
    return net


def inception_extractor(weights: str | os.PathLike | None = None, resize: str = "antialias",
                        download: bool = True) -> nn.Module:
    """The FID Inception network, weights found by :func:`find_inception_weights` (checked for the standard hash)."""
    path = find_inception_weights(weights, download)
    if path.suffix != ".safetensors" and _sha256_prefix(path) != INCEPTION_SHA256_PREFIX:
        console.warn(f"{path} is not the standard FID Inception file (sha256 does not start with "
                     f"{INCEPTION_SHA256_PREFIX}); scores are not comparable with published FIDs")
    return build_inception(load_inception_state(path), resize)


def digit_extractor(device: torch.device | str = "cpu") -> nn.Module:
    """Per-channel embeddings of ganctl's MNIST classifier (trained and cached on first use)."""
    from ganctl.metrics.classifier_cache import get_classifier
    from ganctl.metrics.digits import DigitFeatures

    return DigitFeatures(get_classifier(device).model)


def domain_extractor(data: str | os.PathLike | None, device: torch.device | str = "cpu") -> nn.Module:
    """The pooled features of the domain classifier of the dataset ``data`` (trained and cached on first use)."""
    from ganctl.metrics.classifier_cache import get_domain_classifier
    from ganctl.metrics.domain import DomainFeatures

    if data is None or not str(data):
        raise OptionError("--data", "--features domain needs the dataset (trainA/ trainB/) whose domain classifier "
                                    "gives the features: --data DATASET")
    return DomainFeatures(get_domain_classifier(data, device))


def check_choices(features: str, resize: str) -> None:
    """``--features`` and ``--resize`` checked before any image or weights file is read."""
    if features not in FEATURES:
        raise OptionError("--features", f"unknown features {features!r}; use {' or '.join(FEATURES)}")
    if resize not in RESIZES:
        raise OptionError("--resize", f"unknown resize {resize!r}; use {' or '.join(RESIZES)}")


def make_extractor(features: str = "inception", *, weights: str | os.PathLike | None = None,
                   resize: str = "antialias", device: torch.device | str = "cpu",
                   data: str | os.PathLike | None = None) -> nn.Module:
    """The feature network named by ``--features`` (``inception``, ``digits`` or ``domain`` of the dataset
    ``data``), on ``device``, in eval mode."""
    if features == "inception":
        net = inception_extractor(weights, resize)
    elif features == "digits":
        net = digit_extractor(device)
    elif features == "domain":
        net = domain_extractor(data, device)
    else:
        raise OptionError("--features", f"unknown features {features!r}; use {' or '.join(FEATURES)}")
    if torch.device(device).type == "cuda":
        torch.backends.cudnn.benchmark = True  # batches are of one size: let cuDNN pick its fastest kernels
    return net.to(device).eval()


class _GivenFeatures(nn.Module):
    """Identity "feature extractor": the metrics receive features already computed (once, for FID and KID)."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


@dataclass
class DistanceResult:
    """FID (and KID) between two sets, plus what went into it."""

    fid: float
    kid_mean: float | None
    kid_std: float | None
    real_count: int
    fake_count: int
    features: str
    skipped: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict; KID keys only when KID was computed."""
        out: dict[str, Any] = {"fid": self.fid}
        if self.kid_mean is not None:
            out.update(kid_mean=self.kid_mean, kid_std=self.kid_std)
        out.update(real_count=self.real_count, fake_count=self.fake_count, features=self.features,
                   skipped=self.skipped)
        return out


class FeatureDistance:
    """Accumulates features of a real and a fake set into torchmetrics' FID (and KID) and computes them."""

    def __init__(self, extractor: nn.Module, kid: bool = False, device: torch.device | str = "cpu"):
        from torchmetrics.image.fid import FrechetInceptionDistance
        from torchmetrics.image.kid import KernelInceptionDistance

        self.extractor = extractor
        self.device = torch.device(device)
        d = int(extractor.num_features)
        self.fid = FrechetInceptionDistance(feature=_GivenFeatures(d)).to(self.device)
        self.kid = None
        if kid:
            import warnings

            with warnings.catch_warnings():  # "KID keeps all features in memory": expected, a few MB here
                warnings.simplefilter("ignore", UserWarning)
                self.kid = KernelInceptionDistance(feature=_GivenFeatures(d), subset_size=2).to(self.device)
        self.counts = {True: 0, False: 0}

    @torch.inference_mode()
    def add_images(self, batch: torch.Tensor, real: bool) -> None:
        """Add a uint8 batch N x 3 x H x W (or N x 1 x H x W) of one set."""
        batch = batch.to(self.device, non_blocking=True)
        if batch.shape[1] == 1:
            batch = batch.expand(-1, 3, -1, -1)
        self.add_features(self.extractor(batch), real)

    @torch.inference_mode()
    def add_features(self, features: torch.Tensor, real: bool) -> None:
        """Add precomputed features N x d of one set."""
        features = features.to(self.device)
        self.fid.update(features, real=real)
        if self.kid is not None:
            self.kid.update(features, real=real)
        self.counts[real] += features.shape[0]

    def compute(self, kid_subset_size: int = KID_SUBSET_SIZE, kid_subsets: int = KID_SUBSETS,
                seed: int = 0) -> tuple[float, float | None, float | None]:
        """(fid, kid_mean, kid_std); KID uses subsets of min(``kid_subset_size``, both set sizes), seeded."""
        n_real, n_fake = self.counts[True], self.counts[False]
        if n_real < 2 or n_fake < 2:
            raise GanctlError(f"FID needs at least 2 images in each set (got {n_real} real, {n_fake} fake)")
        # FID is a distance: identical sets give 0, and the matrix square root's rounding a few 1e-4 below it
        fid = max(0.0, float(self.fid.compute()))
        if min(n_real, n_fake) < self.extractor.num_features:
            console.warn(f"FID/KID on {min(n_real, n_fake)} images: fewer than the {self.extractor.num_features} "
                         f"features, so FID is biased upwards and noisy; compare only scores of sets of one size")
        kid_mean = kid_std = None
        if self.kid is not None:
            self.kid.subset_size = min(kid_subset_size, n_real, n_fake)
            self.kid.subsets = kid_subsets
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                mean, std = self.kid.compute()
            kid_mean, kid_std = float(mean), float(std)
        return fid, kid_mean, kid_std


def _add_folder(dist: FeatureDistance, paths: Sequence[Path], real: bool, batch_size: int, strict: bool,
                name: str) -> ReadStats:
    stats = ReadStats()
    for batch in iter_batches(paths, batch_size, strict=strict, stats=stats, description=f"features {name}",
                              workers=default_workers(dist.device)):
        dist.add_images(batch, real)
    report_skipped(stats, name)
    return stats


def compute_fid(real: str | os.PathLike, fake: str | os.PathLike, *, features: str = "inception", kid: bool = False,
                weights: str | os.PathLike | None = None, resize: str = "antialias", batch_size: int = 64,
                device: torch.device | str = "cpu", strict: bool = False,
                data: str | os.PathLike | None = None) -> DistanceResult:
    """FID (and KID with ``kid``) between the images of two folders (any sizes, gray or colour, recursive);
    ``data``: the dataset of ``features="domain"``."""
    if batch_size < 1:
        raise OptionError("--batch-size", "must be at least 1")
    check_choices(features, resize)
    if features == "domain" and (data is None or not str(data)):
        domain_extractor(data)  # the one error for a missing --data, before any image is read
    real_paths, fake_paths = image_files(real), image_files(fake)
    extractor = make_extractor(features, weights=weights, resize=resize, device=device, data=data)
    dist = FeatureDistance(extractor, kid=kid, device=device)
    real_stats = _add_folder(dist, real_paths, True, batch_size, strict, str(real))
    fake_stats = _add_folder(dist, fake_paths, False, batch_size, strict, str(fake))
    fid, kid_mean, kid_std = dist.compute()
    return DistanceResult(fid=fid, kid_mean=kid_mean, kid_std=kid_std, real_count=real_stats.read,
                          fake_count=fake_stats.read, features=features,
                          skipped=len(real_stats.skipped) + len(fake_stats.skipped))
