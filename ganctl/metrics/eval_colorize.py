"""``eval run`` for colorize runs: make the dataset's test photos gray, colourise them, compare with the truth.

The photos are the run's dataset's ``testB/`` (``--split train``: the training photos); a plain folder of
photos has no test split, so its photos are used, and the run says so. Each is made gray the way training
does it (its Lab lightness L) and colourised by the model at its own size, exactly as ``ganctl translate``
would (:func:`ganctl.translate.load_translator`). Measured against the true colours:

* ``ssim``, ``psnr`` (+ ``_std``): how close the colourised photo is to the original;
* ``colourfulness_fake`` / ``colourfulness_real``: colorizers tend to wash colours out; a good one gets close
  to the real photos' colourfulness;
* ``fid``, ``kid_mean``, ``kid_std`` on Inception features (``--features``), None when the weights are missing;
* ``count``: the photos evaluated.
"""

from __future__ import annotations

from ganctl import console
from ganctl.metrics.evaluation import (
    RunScores,
    RunToEvaluate,
    distance_scores,
    feature_distance,
    mean_colourfulness,
    pair_scores,
    read_images,
    translate_all,
)


def evaluate_colorize(run: RunToEvaluate) -> RunScores:
    """Evaluate a colorize run on its dataset's colour photos (see the module docstring)."""
    from ganctl.data.domains import find_colour_photos

    photos = find_colour_photos(run.dataset())
    if run.split == "train":
        files, images = photos.train, "training photos"
    elif photos.test:
        files, images = photos.test, "testB"
    else:
        files, images = photos.train, "the folder's photos (it has no test split)"
        console.info(f"{photos.root} has no test split (testB/): evaluating on its {len(files)} colour photos, "
                     "which the run trained on")
    real = read_images(run.first(files), "RGB", photos.root, str(photos.root))
    feature_name = run.feature_name("inception")
    distance = feature_distance(run, feature_name)
    translator = run.translator("a2b")
    fakes = translate_all(translator, real.images, run.batch_size, f"{images} (gray -> colour)")
    scores = {"count": len(fakes), **distance_scores(distance, real.images, fakes, run.batch_size)}
    paired = pair_scores(real.images, fakes, real.names)
    scores.update({k: v for k, v in paired.items() if k != "pairs"})
    scores.update(colourfulness_fake=mean_colourfulness(fakes), colourfulness_real=mean_colourfulness(real.images))
    return RunScores(scores, images=images, dataset=str(photos.root), dataset_kind=photos.kind,
                     features=feature_name if distance is not None else None)
