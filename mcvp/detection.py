"""Object-detection helpers that Chapter 7 onwards reuse once they have written them by hand.

Chapter 7 builds IoU, non-maximum suppression and mean average precision from scratch and checks
them against ``torchvision.ops`` and pycocotools; the detectors of Chapters 7 and 8 are then all
scored with the same code, kept here:

- :func:`load_bus_trucks` reads the Open Images bus/truck table (``df.csv``) and its photos into
  one uint8 tensor of fixed-size images, with the boxes in pixels of the resized images;
- :func:`selective_search_boxes` runs selective search on one image and returns its proposals
  as ``(x0, y0, x1, y1)`` boxes; :func:`cached_proposals` computes them once per image set and
  keeps them on disk (one file per image set and settings), because this is the slow part of
  R-CNN;
- :func:`mean_average_precision` scores detections against ground truth the way COCO does:
  greedy matching by score, each ground-truth box matched at most once, AP per class averaged
  over IoU thresholds; ``points=101`` reproduces pycocotools' interpolation (tested), and
  ``points=None`` gives the exact area under the precision envelope (PASCAL VOC 2010 onwards).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torchvision.ops import box_iou

from mcvp.vision import read_images

COCO_IOU_THRESHOLDS = tuple(np.round(np.arange(0.5, 0.96, 0.05), 2).tolist())  # 0.5 … 0.95


# --------------------------------------------------------------------------- data


@dataclass
class DetectionData:
    """Fixed-size images with their boxes: what every detector of Chapters 7 and 8 trains on."""

    images: torch.Tensor  # (N, 3, size, size) uint8 RGB
    boxes: list[torch.Tensor]  # per image (K, 4) float, x0 y0 x1 y1 in pixels of the resized image
    labels: list[list[str]]  # per image, K class names (e.g. "Bus", "Truck")
    image_ids: list[str]

    def __len__(self) -> int:
        return len(self.images)


def load_bus_trucks(root: Path, size: int, limit: int | None = None) -> DetectionData:
    """The first ``limit`` images of the Open Images bus/truck subset, squashed to ``size``².

    ``root`` holds ``df.csv`` (one row per box, coordinates as fractions of the image, so they
    stay right after resizing) and ``images/images/<ImageID>.jpg``. Unreadable photos are
    reported and skipped (:func:`mcvp.vision.read_images`).
    """
    import pandas as pd

    table = pd.read_csv(root / "df.csv")
    ids = list(dict.fromkeys(table["ImageID"]))[:limit]  # first appearance order
    paths = [root / "images" / "images" / f"{image_id}.jpg" for image_id in ids]
    images, kept = read_images(paths, size)
    kept_ids = [path.stem for path in kept]
    by_image = {image_id: rows for image_id, rows in table.groupby("ImageID", sort=False)}
    boxes, labels = [], []
    for image_id in kept_ids:
        rows = by_image[image_id]
        fractions = rows[["XMin", "YMin", "XMax", "YMax"]].to_numpy(np.float32)
        boxes.append(torch.from_numpy(fractions * size))
        labels.append(rows["LabelName"].tolist())
    return DetectionData(images, boxes, labels, kept_ids)


# --------------------------------------------------------------------------- proposals


def selective_search_boxes(
    image: np.ndarray, scale: float = 200, min_size: int = 100, min_area: float = 0.0
) -> torch.Tensor:
    """Selective-search proposals of one (H, W, 3) uint8 RGB image as (K, 4) x0 y0 x1 y1 boxes.

    ``min_area`` drops proposals smaller than that fraction of the image; duplicates (the
    package returns a box once per merge that produced it) are removed.
    """
    import selectivesearch

    with warnings.catch_warnings():  # skimage warns about the float image the package passes it
        warnings.filterwarnings("ignore", "Applying `local_binary_pattern`", UserWarning)
        _, regions = selectivesearch.selective_search(image, scale=scale, min_size=min_size)
    height, width = image.shape[:2]
    rects = {r["rect"] for r in regions if r["size"] >= min_area * height * width}
    boxes = [(x, y, x + w, y + h) for x, y, w, h in sorted(rects) if w > 0 and h > 0]
    return torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)


def cached_proposals(data: DetectionData, cache_dir: Path, **search) -> list[torch.Tensor]:
    """:func:`selective_search_boxes` for every image of ``data``, computed once.

    The proposals are saved in ``cache_dir`` under a name derived from the image ids, the image
    size and the search settings, so different image sets or settings never overwrite each
    other, and a later call with the same ones loads the file instead of searching again.
    """
    import hashlib
    import json

    key = {"image_ids": data.image_ids, "size": list(data.images.shape[-2:]), "search": search}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    cache_file = Path(cache_dir) / f"proposals-{digest}.pt"
    if cache_file.exists():
        return torch.load(cache_file)
    proposals = [
        selective_search_boxes(image.permute(1, 2, 0).numpy(), **search) for image in data.images
    ]
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    partial = cache_file.with_suffix(".partial")
    torch.save(proposals, partial)
    partial.replace(cache_file)  # atomic: never a half-written cache
    return proposals


# --------------------------------------------------------------------------- mean average precision


def _match(pred_boxes, pred_scores, true_boxes, threshold: float) -> np.ndarray:
    """True for each prediction (in descending score order) that claims a ground-truth box:
    the best-overlapping one not yet claimed, if their IoU reaches ``threshold``."""
    order = torch.argsort(pred_scores, descending=True, stable=True)
    hits = np.zeros(len(order), bool)
    if len(true_boxes) == 0 or len(order) == 0:
        return hits
    ious = box_iou(pred_boxes[order], true_boxes).numpy()
    claimed = np.zeros(len(true_boxes), bool)
    for i, row in enumerate(ious):
        row = np.where(claimed, -1.0, row)
        best = int(row.argmax())
        if row[best] >= threshold:
            claimed[best], hits[i] = True, True
    return hits


def average_precision(scores, hits, n_true: int, points: int | None = None) -> float:
    """AP of detections with ``scores`` (any order) that are ``hits`` (true positives), given
    ``n_true`` ground-truth boxes. ``points=None``: area under the precision envelope;
    ``points=101``: COCO's mean of the envelope at recall 0, 0.01, …, 1."""
    order = np.argsort(-np.asarray(scores), kind="mergesort")
    hits = np.asarray(hits, bool)[order]
    true_positives, false_positives = np.cumsum(hits), np.cumsum(~hits)
    recall = true_positives / n_true
    precision = true_positives / np.maximum(true_positives + false_positives, 1)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]  # best precision at this recall or more
    if points is None:
        steps = np.diff(np.concatenate([[0.0], recall]))
        return float((steps * envelope).sum())
    levels = np.linspace(0, 1, points)
    where = np.searchsorted(recall, levels, side="left")
    sampled = np.where(where < len(envelope), envelope[np.minimum(where, len(envelope) - 1)], 0.0)
    return float(sampled.mean())


def mean_average_precision(
    predictions: Sequence[dict],
    targets: Sequence[dict],
    iou_thresholds: Sequence[float] = (0.5,),
    points: int | None = None,
) -> dict:
    """mAP of ``predictions`` against ``targets``, one dict per image each.

    Predictions hold ``boxes`` (K, 4) x0 y0 x1 y1, ``scores`` (K,) and ``labels`` (K,) class
    indices; targets hold ``boxes`` and ``labels``. Each class's AP is averaged over
    ``iou_thresholds``; classes without ground truth are left out. Returns ``{"map": …,
    "per_class": {label: AP}}``. Use ``COCO_IOU_THRESHOLDS`` and ``points=101`` for COCO's
    AP@[.5:.95] (pycocotools also keeps at most 100 detections per image and class).
    """
    classes = sorted({int(c) for t in targets for c in t["labels"]})
    per_class = {}
    for label in classes:
        aps = []
        for threshold in iou_thresholds:
            scores, hits, n_true = [], [], 0
            for pred, true in zip(predictions, targets, strict=True):
                mine, theirs = pred["labels"] == label, true["labels"] == label
                true_boxes = true["boxes"][theirs].double()  # float64, as pycocotools
                n_true += len(true_boxes)
                pred_boxes, pred_scores = pred["boxes"][mine].double(), pred["scores"][mine]
                hits.append(_match(pred_boxes, pred_scores, true_boxes, threshold))
                scores.append(torch.sort(pred_scores, descending=True, stable=True).values)
            all_scores = torch.cat(scores).numpy() if scores else np.zeros(0)
            aps.append(average_precision(all_scores, np.concatenate(hits), n_true, points))
        per_class[label] = float(np.mean(aps))
    mean = float(np.mean(list(per_class.values()))) if per_class else 0.0
    return {"map": mean, "per_class": per_class}
