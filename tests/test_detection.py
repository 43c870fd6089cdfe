"""mcvp.detection: the bus/truck loader, cached selective-search proposals, mAP vs pycocotools."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from mcvp import data  # noqa: E402
from mcvp.detection import (  # noqa: E402
    COCO_IOU_THRESHOLDS,
    average_precision,
    cached_proposals,
    load_bus_trucks,
    mask_iou,
    mean_average_precision,
    selective_search_boxes,
)


def random_boxes(rng, n, size=100):
    corners = rng.uniform(0, size * 0.8, (n, 2))
    sides = rng.uniform(5, size * 0.4, (n, 2))
    return torch.tensor(np.hstack([corners, corners + sides]), dtype=torch.float32)


def jittered(rng, boxes, amount):
    """``boxes`` with each side moved at random, kept valid (x0 < x1, y0 < y1)."""
    moved = boxes + torch.tensor(rng.normal(0, amount, boxes.shape), dtype=torch.float32)
    low, high = torch.minimum(moved[:, :2], moved[:, 2:]), torch.maximum(moved[:, :2], moved[:, 2:])
    return torch.cat([low, torch.maximum(high, low + 1)], dim=1)


def generated_detections(seed, n_images=12, n_classes=3):
    """Ground truth plus detections: near-misses of the truth (some very loose) and noise."""
    rng = np.random.default_rng(seed)
    targets, predictions = [], []
    for _ in range(n_images):
        n_true = int(rng.integers(0, 5))
        true = {"boxes": random_boxes(rng, n_true), "labels": torch.tensor(
            rng.integers(0, n_classes, n_true))}  # fmt: skip
        found = rng.random(n_true) < 0.8
        near = jittered(rng, true["boxes"][found], float(rng.choice([0.5, 2.0, 5.0])))
        noise = random_boxes(rng, int(rng.integers(0, 4)))
        labels = torch.cat([true["labels"][found], torch.tensor(
            rng.integers(0, n_classes, len(noise)))])  # fmt: skip
        flip = torch.tensor(rng.random(len(labels)) < 0.1)  # a few right boxes, wrong class
        labels = torch.where(flip, (labels + 1) % n_classes, labels)
        predictions.append({
            "boxes": torch.cat([near, noise]).clamp(0, 100),
            "scores": torch.tensor(rng.uniform(0.05, 1.0, len(labels)), dtype=torch.float32),
            "labels": labels,
        })  # fmt: skip
        targets.append(true)
    return predictions, targets


def coco_average_precision(predictions, targets, iou_type="bbox"):
    """AP@[.5:.95] and AP@.5 per the official pycocotools evaluation, of boxes (``bbox``) or
    of instance masks (``segm``, RLE-encoded)."""
    from pycocotools import mask as rle
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    def described(box, mask):
        """The annotation fields that say where an object is, with its area."""
        if iou_type == "segm":
            encoded = rle.encode(np.asfortranarray(mask.numpy().astype(np.uint8)))
            return {"segmentation": encoded, "area": float(mask.sum())}
        x0, y0, x1, y1 = (float(v) for v in box)
        return {"bbox": [x0, y0, x1 - x0, y1 - y0], "area": (x1 - x0) * (y1 - y0)}

    def objects(d):
        masks = d.get("masks", [None] * len(d["labels"]))
        return zip(d["boxes"], masks, d["labels"], strict=True)

    annotations = []
    for i, target in enumerate(targets):
        for box, mask, label in objects(target):
            annotations.append({"id": len(annotations) + 1, "image_id": i, "iscrowd": 0,
                                "category_id": int(label), **described(box, mask)})  # fmt: skip
    truth = COCO()
    images = [{"id": i, "width": 100, "height": 100} for i in range(len(targets))]
    categories = [{"id": c} for c in sorted({int(c) for t in targets for c in t["labels"]})]
    truth.dataset = {"images": images, "annotations": annotations, "categories": categories}
    with contextlib.redirect_stdout(io.StringIO()):
        truth.createIndex()
        detections = truth.loadRes([
            {"image_id": i, "category_id": int(label), "score": float(score),
             **described(box, mask)}
            for i, p in enumerate(predictions)
            for (box, mask, label), score in zip(objects(p), p["scores"], strict=True)
        ])  # fmt: skip
        evaluation = COCOeval(truth, detections, iou_type)
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation.stats[0], evaluation.stats[1]


def rasterised(boxes, size=100):
    """Each box as a (size, size) boolean mask, corners rounded to whole pixels."""
    masks = torch.zeros(len(boxes), size, size, dtype=torch.bool)
    for mask, (x0, y0, x1, y1) in zip(masks, boxes.round().int().tolist(), strict=True):
        mask[y0:y1, x0:x1] = True
    return masks


def with_masks(detections):
    """The generated detections with a mask for each box, a corner cut off every other one."""
    for d in detections:
        d["masks"] = rasterised(d["boxes"])
        d["masks"][::2, :20, :20] = False
    return detections


def test_mask_iou_by_hand():
    square = torch.zeros(1, 4, 4, dtype=torch.bool)
    square[0, :2, :2] = True  # 4 pixels
    wide = torch.zeros(2, 4, 4, dtype=torch.bool)
    wide[0, :2, :] = True  # 8 pixels, 4 shared with the square
    assert mask_iou(square, wide).tolist() == [[0.5, 0.0]]  # an empty mask overlaps nothing


@pytest.mark.parametrize("seed", range(3))
def test_mask_map_equals_pycocotools(seed):
    pytest.importorskip("pycocotools")
    predictions, targets = (with_masks(d) for d in generated_detections(seed))
    coco_map, coco_ap50 = coco_average_precision(predictions, targets, "segm")
    ours = mean_average_precision(predictions, targets, COCO_IOU_THRESHOLDS, 101, "masks")
    ours50 = mean_average_precision(predictions, targets, (0.5,), 101, "masks")
    assert ours["map"] == pytest.approx(coco_map, abs=1e-6)
    assert ours50["map"] == pytest.approx(coco_ap50, abs=1e-6)
    boxes = mean_average_precision(predictions, targets, COCO_IOU_THRESHOLDS, 101)
    assert ours["map"] != pytest.approx(boxes["map"], abs=1e-3)  # the masks really were used


@pytest.mark.parametrize("seed", range(5))
def test_map_equals_pycocotools(seed):
    pytest.importorskip("pycocotools")
    predictions, targets = generated_detections(seed)
    coco_map, coco_ap50 = coco_average_precision(predictions, targets)
    ours = mean_average_precision(predictions, targets, COCO_IOU_THRESHOLDS, points=101)
    ours50 = mean_average_precision(predictions, targets, (0.5,), points=101)
    assert ours["map"] == pytest.approx(coco_map, abs=1e-6)
    assert ours50["map"] == pytest.approx(coco_ap50, abs=1e-6)
    assert 0.05 < coco_map < 0.95  # the generated set is neither hopeless nor perfect


def test_average_precision_by_hand():
    # 3 true boxes; detections by score: hit, miss, hit, hit -> precision 1, 1/2, 2/3, 3/4
    scores, hits = [0.9, 0.8, 0.7, 0.6], [True, False, True, True]
    # envelope at recall 1/3: 1; at 2/3 and 1: 3/4 -> area 1/3 * (1 + 3/4 + 3/4)
    assert average_precision(scores, hits, 3) == pytest.approx((1 + 0.75 + 0.75) / 3)
    assert average_precision([0.5], [True], 1) == 1.0 == average_precision([0.5], [True], 1, 101)
    assert average_precision([0.5, 0.4], [False, False], 2) == 0.0


def test_perfect_detections_score_one_and_missing_ones_lower_it():
    _, targets = generated_detections(0)
    perfect = [{"boxes": t["boxes"], "scores": torch.ones(len(t["labels"])),
                "labels": t["labels"]} for t in targets]  # fmt: skip
    assert mean_average_precision(perfect, targets, COCO_IOU_THRESHOLDS)["map"] == 1.0
    halved = [{k: v[: len(v) // 2] for k, v in p.items()} for p in perfect]
    assert mean_average_precision(halved, targets)["map"] < 1.0


@pytest.fixture
def bus_trucks(monkeypatch, tmp_path):
    for name, value in {"MCVP_SMOKE": "1", "MCVP_OFFLINE": "1", "MCVP_DATA": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MCVP_DATA_MIRROR", raising=False)
    return data.fetch("open-images-bus-trucks")


def test_load_bus_trucks_scales_boxes_to_the_resized_images(bus_trucks):
    loaded = load_bus_trucks(bus_trucks, size=64, limit=10)
    assert loaded.images.shape == (10, 3, 64, 64) and loaded.images.dtype == torch.uint8
    assert len(loaded.boxes) == len(loaded.labels) == len(loaded.image_ids) == 10
    for boxes, labels in zip(loaded.boxes, loaded.labels, strict=True):
        assert boxes.shape == (len(labels), 4) and set(labels) <= {"Bus", "Truck"}
        assert (boxes >= 0).all() and (boxes <= 64).all()
        assert (boxes[:, 2:] > boxes[:, :2]).all()


def test_selective_search_finds_the_vehicles_and_the_cache_is_reused(bus_trucks, tmp_path):
    pytest.importorskip("selectivesearch")
    from torchvision.ops import box_iou

    loaded = load_bus_trucks(bus_trucks, size=160, limit=4)
    proposals = cached_proposals(loaded, tmp_path, scale=200, min_size=50)
    (cache,) = tmp_path.glob("proposals-*.pt")
    assert len(proposals) == 4
    for boxes, found in zip(loaded.boxes, proposals, strict=True):
        assert found.shape[1] == 4 and len(found) == len(found.unique(dim=0))
        assert (box_iou(boxes, found).max(dim=1).values > 0.5).all()
    stamp = cache.stat().st_mtime_ns
    again = cached_proposals(loaded, tmp_path, scale=200, min_size=50)  # loaded, not searched
    assert cache.stat().st_mtime_ns == stamp
    assert all(torch.equal(a, b) for a, b in zip(proposals, again, strict=True))
    cached_proposals(load_bus_trucks(bus_trucks, size=160, limit=2), tmp_path, scale=200,
                     min_size=50)  # fmt: skip
    assert len(list(tmp_path.glob("proposals-*.pt"))) == 2  # another image set: its own file
    image = loaded.images[0].permute(1, 2, 0).numpy()
    assert len(selective_search_boxes(image, min_area=0.05)) < len(proposals[0])


def test_small_mask_rcnn_trains_and_predicts_masks():
    from mcvp.detection import small_mask_rcnn

    torch.manual_seed(0)
    model = small_mask_rcnn(96, num_classes=3)
    mask = torch.zeros(1, 96, 96, dtype=torch.uint8)
    mask[0, 20:80, 30:55] = 1
    target = {"boxes": torch.tensor([[30.0, 20, 55, 80]]), "labels": torch.tensor([2]),
              "masks": mask}  # fmt: skip
    model.train()
    losses = model([torch.rand(3, 96, 96)], [target])
    assert set(losses) == {"loss_classifier", "loss_box_reg", "loss_mask", "loss_objectness",
                           "loss_rpn_box_reg"}  # fmt: skip
    assert model.roi_heads.box_predictor.cls_score.out_features == 3
    assert model.roi_heads.mask_predictor.mask_fcn_logits.out_channels == 3
    model.eval()
    with torch.inference_mode():
        (output,) = model([torch.rand(3, 96, 96)])
    assert output["masks"].shape[1:] == (1, 96, 96)  # one soft mask per detection, image-sized
