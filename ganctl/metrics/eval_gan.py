"""``eval run`` for gan runs: draw digits from seeded noise and compare them with MNIST's digits.

``count`` samples (as many as MNIST's split has digits, 10,000 for ``test``; ``--limit`` lowers it) come from
the generator with the noise of ``ganctl generate --seed 0`` (:func:`ganctl.generate.sample_images`), so two
evaluations of one checkpoint draw the same digits. Against the first ``count`` digits of MNIST's split
(where the run's ``--source`` says MNIST is, or ``--data``):

* ``fid``, ``kid_mean``, ``kid_std`` on digit features (``--features``; the digit classifier's embeddings);
* ``digit_share``: the share of samples the digit classifier reads as each digit 0-9 (ten numbers);
* ``digit_coverage_entropy``: the entropy of that share divided by log 10: 1.0 when every digit comes up
  equally often, lower when the generator favours some digits, 0 when it draws only one (mode collapse).
"""

from __future__ import annotations

import math

import torch

from ganctl.metrics.evaluation import RunScores, RunToEvaluate, distance_scores, feature_distance

SAMPLE_SEED = 0


def digit_coverage_entropy(share: list[float]) -> float:
    """Entropy of a distribution over the ten digits divided by log 10 (1.0: uniform, 0: one digit only)."""
    return sum(p * math.log(1 / p) for p in share if p > 0) / math.log(len(share))


def evaluate_gan(run: RunToEvaluate) -> RunScores:
    """Evaluate a gan run's generator against MNIST's digits (see the module docstring)."""
    from ganctl.data.mnist import MnistOffline, load_mnist, mnist_source_label
    from ganctl.generate import load_generator, sample_images
    from ganctl.metrics.classifier_cache import get_classifier
    from ganctl.metrics.digits import predict_digits

    source = run.mnist_source()
    try:
        mnist = load_mnist(source)
    except MnistOffline as exc:
        raise exc.with_hint(" or pass --data DIR (a folder with them)") from None
    digits = mnist.test_images if run.split == "test" else mnist.train_images
    real = run.first(digits.unsqueeze(1))
    count = len(real)
    net, config = load_generator(run.checkpoint, run.device)
    samples = sample_images(net, int(config["latent_dim"]), count, SAMPLE_SEED, run.batch_size)

    classifier = get_classifier(run.device, source).model  # installed first, so digit features find it
    predicted = torch.cat([predict_digits(classifier, samples[i: i + run.batch_size])
                           for i in range(0, count, run.batch_size)])
    share = (torch.bincount(predicted, minlength=10).double() / count).tolist()

    feature_name = run.feature_name("digits")
    distance = feature_distance(run, feature_name)
    fakes = samples.mul(255).round_().to(torch.uint8)
    scores = {"count": count, **distance_scores(distance, list(real), list(fakes), run.batch_size),
              "digit_share": [round(p, 6) for p in share], "digit_coverage_entropy": digit_coverage_entropy(share)}
    return RunScores(scores, images=f"{count} samples (seed {SAMPLE_SEED}) vs MNIST {run.split} digits",
                     dataset=mnist_source_label(source), dataset_kind="mnist",
                     features=feature_name if distance is not None else None)
