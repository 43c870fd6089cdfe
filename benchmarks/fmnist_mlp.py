"""One epoch of the Chapter 3 MLP (784-1000-10, batch 32, Adam) on FashionMNIST, two ways.

(a) the course's loop: the whole dataset sits in tensors on the device once,
    ``mcvp.training.Batches`` slices mini-batches from them, and Adam runs as one fused kernel
    (``fused=True``) instead of a Python loop over the parameters;
(b) a straightforward loop: a ``Dataset`` whose ``__getitem__`` moves each sample to the device,
    batched by a ``DataLoader``, with the default Adam.

A third line, the course's data path with the default Adam, separates the two effects.

Both start from the same weights and are evaluated on the full test set. Needs the real data
(download, or ``MCVP_DATA_MIRROR``); it refuses to report numbers for a synthetic stand-in.

    MCVP_DATA_MIRROR=../shared/data python benchmarks/fmnist_mlp.py
"""

from __future__ import annotations

import argparse
import copy
import sys
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from mcvp import get_device, seed_everything
from mcvp.data import is_standin, load_fashion_mnist
from mcvp.training import Batches, evaluate, train_epoch

BATCH_SIZE = 32


class PerSampleToDevice(Dataset):
    """The common pattern this benchmark measures: one device move per sample."""

    def __init__(self, images, labels, device):
        self.x, self.y, self.device = images, labels, device

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i].to(self.device), self.y[i].to(self.device)


def straightforward_epoch(model, loader, loss_fn, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()


def timed(run) -> float:
    start = time.perf_counter()
    run()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="default: CUDA, else MPS, else CPU")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for PyTorch")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(0)
    device = get_device(args.device)

    data = load_fashion_mnist()
    if is_standin("FashionMNIST"):
        print("refusing to benchmark a synthetic stand-in: provide the real FashionMNIST")
        return 2
    train_x = data.train_images.flatten(1).float().div(255)
    test_x = data.test_images.flatten(1).float().div(255).to(device)
    test_y = data.test_labels.to(device)

    model = nn.Sequential(nn.Linear(784, 1000), nn.ReLU(), nn.Linear(1000, 10)).to(device)
    names = ("course loop", "course data, default Adam", "per-sample loop")
    models = {name: copy.deepcopy(model) for name in names}
    loss_fn = nn.CrossEntropyLoss()
    optimizers = {
        name: torch.optim.Adam(m.parameters(), lr=1e-3, fused=(name == "course loop"))
        for name, m in models.items()
    }

    batches = Batches(train_x.to(device), data.train_labels.to(device), BATCH_SIZE, shuffle=True)
    per_sample = PerSampleToDevice(train_x, data.train_labels, device)
    loader = DataLoader(per_sample, batch_size=BATCH_SIZE, shuffle=True,
                        generator=torch.Generator().manual_seed(0))  # fmt: skip

    def course(name):
        return lambda: train_epoch(models[name], batches, loss_fn, optimizers[name])

    runs = {
        "course loop": course("course loop"),
        "course data, default Adam": course("course data, default Adam"),
        "per-sample loop": lambda: straightforward_epoch(
            models["per-sample loop"], loader, loss_fn, optimizers["per-sample loop"]
        ),
    }
    print(f"device {device}, {torch.get_num_threads()} CPU threads, {len(train_x)} images, "
          f"batch {BATCH_SIZE}, {args.epochs} epoch(s)")  # fmt: skip
    warm_up = copy.deepcopy(model)  # first calls pay for one-off set-up: not in the timings
    few = Batches(train_x[:2048].to(device), data.train_labels[:2048].to(device), BATCH_SIZE)
    train_epoch(warm_up, few, loss_fn, torch.optim.Adam(warm_up.parameters()))
    seconds = {}
    for name, run in runs.items():
        seconds[name] = sum(timed(run) for _ in range(args.epochs)) / args.epochs
        _, accuracy = evaluate(models[name], test_x, test_y, loss_fn)
        print(f"{name:>26}: {seconds[name]:6.2f} s/epoch, test accuracy {accuracy:.4f}")
    ratio = seconds["course loop"] / seconds["per-sample loop"]
    print(f"ratio course/per-sample: {ratio:.2f} (target <= 0.60)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
