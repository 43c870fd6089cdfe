"""Small image helpers that Chapter 4 onwards reuse: shifting images and probing a model with them.

Chapter 4 shows that a fully connected network trained on centred FashionMNIST images fails on
the same images moved by a few pixels, and that a CNN (and augmentation) fixes it. Three notebooks
draw the same picture, so the shifting and probing live here:

- :func:`shift` moves a batch of images by whole pixels, filling the uncovered border with a
  constant (black by default), instead of wrapping around as ``torch.roll`` does;
- :func:`probability_under_shift` shifts each image horizontally by every amount in ``shifts``
  and returns the model's probability of each image's true class, ready for a heat map;
- :func:`read_images` decodes a list of image files once into one uint8 tensor, reporting and
  skipping files that cannot be decoded (Chapter 6 onwards).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn


def shift(images: torch.Tensor, dx: int, dy: int = 0, fill: float = 0.0) -> torch.Tensor:
    """``images`` (..., H, W) moved ``dx`` pixels right and ``dy`` down; the rest is ``fill``.

    Pixels pushed over an edge are lost (no wrap-around); negative values move left or up.
    """
    height, width = images.shape[-2:]
    moved = torch.full_like(images, fill)
    if abs(dx) >= width or abs(dy) >= height:
        return moved
    source_rows = slice(max(0, -dy), height - max(0, dy))
    source_cols = slice(max(0, -dx), width - max(0, dx))
    target_rows = slice(max(0, dy), height - max(0, -dy))
    target_cols = slice(max(0, dx), width - max(0, -dx))
    moved[..., target_rows, target_cols] = images[..., source_rows, source_cols]
    return moved


@torch.inference_mode()
def probability_under_shift(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, shifts: Sequence[int]
) -> torch.Tensor:
    """The probability ``model`` gives each image's true class when moved by each of ``shifts``.

    ``images`` are model inputs, e.g. (N, 1, 28, 28) floats, shifted along their last axis.
    Returns an (N, len(shifts)) tensor on the CPU. The model is evaluated in ``eval()`` mode.
    """
    model.eval()
    columns = []
    for dx in shifts:
        probabilities = model(shift(images, dx)).softmax(dim=1)
        columns.append(probabilities.gather(1, labels[:, None]).squeeze(1))
    return torch.stack(columns, dim=1).cpu()


def read_images(paths: Sequence, size: int) -> tuple[torch.Tensor, list]:
    """Decode image files once into an (N, 3, size, size) uint8 RGB tensor.

    Each file is read with OpenCV (BGR, so the channels are swapped to RGB) and squashed to
    ``size`` x ``size`` with ``INTER_AREA``. Files OpenCV cannot decode (empty, truncated, or
    not an image at all) are reported by name and skipped, never retried. Returns the tensor and
    the paths that were kept, in order, so labels can be matched to the images that survived.
    """
    import cv2
    import numpy as np

    images, kept = [], []
    for path in paths:
        bgr = cv2.imread(str(path)) if Path(path).stat().st_size else None
        if bgr is None:
            print(f"skipped an unreadable image: {path}")
            continue
        small = cv2.resize(bgr, (size, size), interpolation=cv2.INTER_AREA)
        images.append(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
        kept.append(path)
    batch = np.stack(images) if images else np.empty((0, size, size, 3), np.uint8)
    return torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous(), kept
