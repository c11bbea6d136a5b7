"""``eval run`` for domain-classifier runs: the run's own classifier (its checkpoint) on its dataset.

* ``test_accuracy`` (``--split train``: ``train_accuracy``): the share of the images of both domains it puts in
  their own domain, and ``_A`` / ``_B`` per domain; the test images are the test split, or the training images
  the run held out when the dataset has none (the same seeded share); the first ``--limit`` of each domain
  when given;
* ``count``: the images read.
"""

from __future__ import annotations

from ganctl.metrics.evaluation import RunScores, RunToEvaluate, read_images


def evaluate_domain_classifier(run: RunToEvaluate) -> RunScores:
    """Evaluate a domain-classifier run's checkpoint on its dataset's split (see the module docstring)."""
    from ganctl.checkpoint import load_checkpoint
    from ganctl.data.domains import inspect_domain_folders
    from ganctl.metrics.domain import accuracy, split_files

    ckpt = load_checkpoint(run.checkpoint, with_state=False)
    model = ckpt.build_network("classifier")
    model.to(run.device)
    options = run.config.get("options") or {}
    folders = inspect_domain_folders(run.dataset())
    train, test, how = split_files(folders.files, float(options.get("holdout", 0.1)), int(options.get("seed", 0)))
    files = test if run.split == "test" else train
    images = {d: read_images(run.first(files[d]), "RGB", folders.root, f"{run.split}{d}").images for d in "AB"}
    scores = accuracy(model, images, int(ckpt.config.get("size") or ckpt.config.get("image_size")))
    key = f"{run.split}_accuracy"
    what = how if run.split == "test" else "the training images"
    return RunScores({key: scores["accuracy"], f"{key}_A": scores["accuracy_A"], f"{key}_B": scores["accuracy_B"],
                      "count": sum(len(v) for v in images.values())},
                     images=what, dataset=str(folders.root), dataset_kind=folders.kind)
