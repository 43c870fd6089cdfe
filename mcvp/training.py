"""The training and evaluation loop that Chapter 3 onwards reuse once they have written it by hand.

Chapter 3's first classifier writes this loop in the notebook, line by line; the notebooks that
follow vary one thing (batch size, optimizer, learning rate, depth, batch norm, dropout, penalty)
and call :func:`fit`, so each compares variants with the same, correct loop:

- the data sits in tensors on the device once (:class:`Batches` slices them; no ``Dataset`` that
  moves one sample at a time);
- training runs in ``model.train()``; every metric is computed in ``model.eval()`` under
  ``torch.inference_mode()`` in large batches, so dropout is off and batch norm uses its running
  statistics when accuracy is measured.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from torch import nn


class Batches:
    """Mini-batches of ``(x, y)`` cut from tensors that already sit on the device.

    With ``shuffle=True`` every pass draws a new order from a generator seeded with ``seed``,
    so runs repeat exactly.
    """

    def __init__(self, x, y, batch_size: int, shuffle: bool = False, seed: int = 0):
        if len(x) != len(y):
            raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
        self.x, self.y, self.batch_size, self.shuffle = x, y, batch_size, shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.x)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.x.device)
            for start in range(0, n, self.batch_size):
                rows = order[start : start + self.batch_size]
                yield self.x[rows], self.y[rows]
        else:
            for start in range(0, n, self.batch_size):
                yield (
                    self.x[start : start + self.batch_size],
                    self.y[start : start + self.batch_size],
                )


def train_epoch(
    model: nn.Module,
    batches: Batches,
    loss_fn: Callable,
    optimizer: torch.optim.Optimizer,
    penalty: Callable[[nn.Module], torch.Tensor] | None = None,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> float:
    """One pass over ``batches`` in training mode; returns the mean loss (penalty included).

    ``augment(x)``, if given, transforms each training batch on the device before the model sees
    it (data augmentation); evaluation never augments.
    """
    model.train()
    total, count = 0.0, 0
    for x, y in batches:
        if augment is not None:
            x = augment(x)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        if penalty is not None:
            loss = loss + penalty(model)
        loss.backward()
        optimizer.step()
        total = total + loss.detach() * len(y)  # a tensor: no device sync per step
        count += len(y)
    return float(total / count)


@torch.inference_mode()
def evaluate(model: nn.Module, x, y, loss_fn: Callable, batch_size: int = 4096):
    """Mean loss and accuracy of ``model`` on ``(x, y)``, in eval mode (dropout off)."""
    model.eval()
    total_loss, correct = 0.0, 0
    for start in range(0, len(x), batch_size):
        logits = model(x[start : start + batch_size])
        labels = y[start : start + batch_size]
        total_loss += float(loss_fn(logits, labels)) * len(labels)
        correct += int((logits.argmax(dim=1) == labels).sum())
    return total_loss / len(x), correct / len(x)


@dataclass
class History:
    """Per-epoch curves. Train metrics are measured like validation ones: in eval mode."""

    train_loss: list[float] = field(default_factory=list)  # eval mode, on a training subset
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    objective: list[float] = field(default_factory=list)  # mean loss minimised during the epoch
    learning_rate: list[float] = field(default_factory=list)  # at the start of each epoch


def fit(
    model: nn.Module,
    train: Batches,
    val: tuple[torch.Tensor, torch.Tensor],
    loss_fn: Callable,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    scheduler=None,
    penalty: Callable[[nn.Module], torch.Tensor] | None = None,
    train_eval_size: int = 10_000,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> History:
    """Train for ``epochs`` and measure train/validation loss and accuracy after each one.

    ``scheduler`` is stepped once per epoch (``ReduceLROnPlateau`` with the validation loss).
    ``penalty(model)`` is added to the loss during training (L1/L2 regularisation).
    ``augment(x)`` transforms every training batch (data augmentation); metrics use the
    unaugmented images.
    Train metrics use the first ``train_eval_size`` training samples, to keep epochs fast.
    """
    history = History()
    train_x, train_y = train.x[:train_eval_size], train.y[:train_eval_size]
    for _ in range(epochs):
        history.learning_rate.append(optimizer.param_groups[0]["lr"])
        history.objective.append(train_epoch(model, train, loss_fn, optimizer, penalty, augment))
        for split, (x, y) in (("train", (train_x, train_y)), ("val", val)):
            loss, accuracy = evaluate(model, x, y, loss_fn)
            getattr(history, f"{split}_loss").append(loss)
            getattr(history, f"{split}_accuracy").append(accuracy)
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(history.val_loss[-1])
        elif scheduler is not None:
            scheduler.step()
    return history
