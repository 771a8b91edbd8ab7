"""The classifier training loop: the explanation paper's schedule, seeded and deterministic.

docs/methods.md §3: cross-entropy, mini-batches of 32, SGD (learning rate 0.1, momentum 0.9, weight
decay 1e-4), 25 epochs, learning rate multiplied by 0.1 at epochs 12 and 22. Shuffling uses a
numpy Generator from ``seed`` and dropout draws from a torch generator state forked from the
same seed, so the global random state is untouched and two runs give the same weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from exprlab._progress import track
from exprlab._validation import check_count, check_interval


@dataclass(frozen=True)
class TrainingSchedule:
    """Optimiser settings; the defaults are the paper's."""

    epochs: int = 25
    batch_size: int = 32
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    milestones: Sequence[int] = field(default=(12, 22))
    gamma: float = 0.1

    def validate(self) -> None:
        """Refuse settings that cannot train (non-positive epochs, batch size or rate)."""
        for name in ("epochs", "batch_size"):
            check_count(getattr(self, name), name, minimum=1)
        check_interval(self.lr, "lr", 0.0, None, closed="neither")


def seed_int(seed) -> int:
    """An integer seed from an int or a numpy Generator (drawn once from it).

    Torch and the batch order need an integer; this lets every seed option also take a
    Generator, as numpy code does.

    Parameters
    ----------
    seed
        An integer, a numpy Generator or None (0).

    Returns
    -------
    int
        The seed.
    """
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**31 - 1))
    if seed is None:
        return 0
    return int(seed)


def _batches(order: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Consecutive mini-batches of ``order``; a trailing batch of one joins the previous one.

    BatchNorm cannot normalise a single example.
    """
    batches = [order[i : i + batch_size] for i in range(0, order.size, batch_size)]
    if len(batches) > 1 and batches[-1].size == 1:
        last = batches.pop()
        batches[-1] = np.concatenate([batches[-1], last])
    return batches


def train_classifier(
    module: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    *,
    schedule: TrainingSchedule = TrainingSchedule(),
    seed: int = 0,
    description: str = "training",
    class_weights: np.ndarray | None = None,
) -> list[float]:
    """Train ``module`` in place on standardised inputs ``x`` (n, p) and class indices ``y``.

    ``class_weights`` (one per class) weight the cross-entropy; ``None`` is the paper's
    unweighted loss. Returns the mean training loss of every epoch. The module is left in eval
    mode.
    """
    schedule.validate()
    rng = np.random.default_rng(seed)
    inputs = torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32)
    targets = torch.as_tensor(np.asarray(y), dtype=torch.long)
    optimiser = torch.optim.SGD(
        module.parameters(), lr=schedule.lr, momentum=schedule.momentum, weight_decay=schedule.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.MultiStepLR(
        optimiser, milestones=list(schedule.milestones), gamma=schedule.gamma
    )
    weight = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)
    loss_fn = nn.CrossEntropyLoss(weight=weight)
    history: list[float] = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module.train()
        for _ in track(range(schedule.epochs), description):
            total, count = 0.0, 0
            for batch in _batches(rng.permutation(inputs.shape[0]), schedule.batch_size):
                index = torch.from_numpy(batch)
                optimiser.zero_grad(set_to_none=True)
                loss = loss_fn(module(inputs[index]), targets[index])
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * batch.size
                count += batch.size
            scheduler.step()
            history.append(total / count)
    module.eval()
    return history
