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
  ``points=None`` gives the exact area under the precision envelope (PASCAL VOC 2010 onwards);
  ``match_on="masks"`` scores instance masks the same way (Chapter 9's Mask R-CNN).
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


def mask_iou(masks1: torch.Tensor, masks2: torch.Tensor) -> torch.Tensor:
    """IoU of every pair of binary masks: (N, H, W) and (M, H, W) -> (N, M), in float64."""
    a, b = masks1.flatten(1).double(), masks2.flatten(1).double()
    inter = a @ b.T
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - inter
    return inter / union.clamp(min=1)


def _match(pred_shapes, pred_scores, true_shapes, threshold: float, iou=box_iou) -> np.ndarray:
    """True for each prediction (in descending score order) that claims a ground-truth object:
    the best-overlapping one not yet claimed, if their ``iou`` (of boxes or masks) reaches
    ``threshold``."""
    order = torch.argsort(pred_scores, descending=True, stable=True)
    hits = np.zeros(len(order), bool)
    if len(true_shapes) == 0 or len(order) == 0:
        return hits
    ious = iou(pred_shapes[order], true_shapes).numpy()
    claimed = np.zeros(len(true_shapes), bool)
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
    match_on: str = "boxes",
) -> dict:
    """mAP of ``predictions`` against ``targets``, one dict per image each.

    Predictions hold ``boxes`` (K, 4) x0 y0 x1 y1, ``scores`` (K,) and ``labels`` (K,) class
    indices; targets hold ``boxes`` and ``labels``. Each class's AP is averaged over
    ``iou_thresholds``; classes without ground truth are left out. Returns ``{"map": …,
    "per_class": {label: AP}}``. Use ``COCO_IOU_THRESHOLDS`` and ``points=101`` for COCO's
    AP@[.5:.95] (pycocotools also keeps at most 100 detections per image and class).
    ``match_on="masks"`` scores instance masks instead (pycocotools' ``segm``): predictions and
    targets then also hold ``masks``, (K, H, W) booleans, compared by :func:`mask_iou`.
    """
    iou = {"boxes": box_iou, "masks": mask_iou}[match_on]
    shape_of = (lambda d: d[match_on].double()) if match_on == "boxes" else (lambda d: d["masks"])
    classes = sorted({int(c) for t in targets for c in t["labels"]})
    per_class = {}
    for label in classes:
        aps = []
        for threshold in iou_thresholds:
            scores, hits, n_true = [], [], 0
            for pred, true in zip(predictions, targets, strict=True):
                mine, theirs = pred["labels"] == label, true["labels"] == label
                true_shapes = shape_of(true)[theirs]  # boxes in float64, as pycocotools
                n_true += len(true_shapes)
                pred_shapes, pred_scores = shape_of(pred)[mine], pred["scores"][mine]
                hits.append(_match(pred_shapes, pred_scores, true_shapes, threshold, iou))
                scores.append(torch.sort(pred_scores, descending=True, stable=True).values)
            all_scores = torch.cat(scores).numpy() if scores else np.zeros(0)
            aps.append(average_precision(all_scores, np.concatenate(hits), n_true, points))
        per_class[label] = float(np.mean(aps))
    mean = float(np.mean(list(per_class.values()))) if per_class else 0.0
    return {"map": mean, "per_class": per_class}


# --------------------------------------------------------------------------- a CPU-sized Mask R-CNN


def _conv_block(in_channels: int, out_channels: int) -> torch.nn.Sequential:
    """3x3 conv, batch norm, ReLU, 2x2 max pooling (halves the resolution)."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


def small_mask_rcnn(image_size: int, num_classes: int, aspect_ratios=(1.0, 2.0, 3.0)):
    """torchvision's ``MaskRCNN`` around a four-block CNN (stride 16, 64 channels), about 0.6 M
    parameters: what Chapter 9 trains from scratch where COCO weights cannot be had (offline CI).

    ``num_classes`` counts the background (label 0). The anchors are 0.2 to 0.8 of the
    ``image_size`` square the photos are resized to; the default ``aspect_ratios`` (height /
    width 1, 2, 3) suit upright people, wide objects such as tables want (0.5, 1, 2).
    """
    from torch import nn
    from torchvision.models.detection import MaskRCNN
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
    from torchvision.ops import MultiScaleRoIAlign

    backbone = nn.Sequential(_conv_block(3, 16), _conv_block(16, 32), _conv_block(32, 64),
                             _conv_block(64, 64))  # fmt: skip
    backbone.out_channels = 64  # MaskRCNN reads this
    sides = tuple(round(image_size * f) for f in (0.2, 0.4, 0.8))
    return MaskRCNN(
        backbone,
        num_classes=None,  # the predictors below set it
        min_size=image_size,
        max_size=image_size,
        rpn_anchor_generator=AnchorGenerator(sizes=(sides,), aspect_ratios=(tuple(aspect_ratios),)),
        rpn_pre_nms_top_n_train=200,
        rpn_post_nms_top_n_train=100,
        rpn_pre_nms_top_n_test=100,
        rpn_post_nms_top_n_test=30,
        box_batch_size_per_image=32,
        box_roi_pool=MultiScaleRoIAlign(["0"], output_size=7, sampling_ratio=2),
        box_head=TwoMLPHead(64 * 7 * 7, 128),
        box_predictor=FastRCNNPredictor(128, num_classes),
        mask_roi_pool=MultiScaleRoIAlign(["0"], output_size=14, sampling_ratio=2),
        mask_head=MaskRCNNHeads(64, (64, 64), dilation=1),
        mask_predictor=MaskRCNNPredictor(64, 64, num_classes),
    )
