"""``eval run`` for classifier runs: the run's own classifier (its checkpoint, not the installed copy) on MNIST.

* ``test_accuracy`` (``--split train``: ``train_accuracy``): the share of MNIST's digits of that split read
  right, on the first ``--limit`` digits when given (where the run's ``--source`` says MNIST is, or ``--data``);
  on the whole test split it is the accuracy the run printed when it finished;
* ``count``: the digits read.
"""

from __future__ import annotations

from ganctl.metrics.evaluation import RunScores, RunToEvaluate


def evaluate_classifier(run: RunToEvaluate) -> RunScores:
    """Evaluate a classifier run's checkpoint on MNIST's split (see the module docstring)."""
    from ganctl.checkpoint import load_checkpoint
    from ganctl.data.mnist import MnistOffline, load_mnist, mnist_source_label
    from ganctl.metrics.digits import evaluate_accuracy

    model = load_checkpoint(run.checkpoint, with_state=False).build_network("classifier")
    source = run.mnist_source()
    try:
        mnist = load_mnist(source)
    except MnistOffline as exc:
        raise exc.with_hint(" or pass --data DIR (a folder with them)") from None
    images, labels = (mnist.test_images, mnist.test_labels) if run.split == "test" else \
        (mnist.train_images, mnist.train_labels)
    images, labels = run.first(images.unsqueeze(1)), run.first(labels)
    accuracy = evaluate_accuracy(model.to(run.device), images.float().div(255), labels, device=run.device)
    return RunScores({f"{run.split}_accuracy": accuracy, "count": len(labels)},
                     images=f"MNIST {run.split} digits", dataset=mnist_source_label(source), dataset_kind="mnist")
