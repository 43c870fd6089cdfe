"""Seconds per epoch of Chapter 3's MLP on FashionMNIST: the course's loop vs a straightforward one.

The model is the chapter's 784-1000-10 MLP (Linear-ReLU-Linear), trained with batch 32 and Adam
(lr 1e-3) on the full training set, from the same initial weights, in two ways:

(a) the chapter's loop: the whole training set sits in tensors on the device once,
    ``mcvp.training.Batches`` cuts shuffled mini-batches out of them, ``mcvp.training.train_epoch``
    trains, and Adam updates all parameters in one fused kernel (``fused=True``), as the chapter's
    notebooks do;
(b) a straightforward loop: a ``Dataset`` whose ``__getitem__`` moves one sample to the device,
    a ``DataLoader(batch_size=32, shuffle=True)`` that stacks 32 of them into a batch, and the
    default Adam (a Python loop over the parameters).

Both loops draw the same shuffled order (the same seeded ``randperm``), so they compute the same
training run up to float rounding: the script prints the largest weight difference to prove it.

Both models are then evaluated on the full test set with ``mcvp.training.evaluate``. The script
prints seconds per epoch, their ratio (a/b) and both test accuracies. It needs the real data (a
download, or a local copy through ``MCVP_DATA_MIRROR``) and refuses to time a synthetic stand-in:

    MCVP_DATA_MIRROR=../shared/data MCVP_OFFLINE=1 python benchmarks/fmnist_mlp.py
"""

from __future__ import annotations

import argparse
import copy
import itertools
import sys
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, RandomSampler

from mcvp import get_device, seed_everything
from mcvp.data import is_standin, load_fashion_mnist
from mcvp.training import Batches, evaluate, train_epoch

BATCH_SIZE = 32
LEARNING_RATE = 1e-3
TARGET_RATIO = 0.6  # the chapter's loop should take at most 0.6x the straightforward one
WARM_UP_BATCHES = 50  # first calls pay one-off costs (allocations, kernel set-up): not timed


class OneSampleToDevice(Dataset):
    """The pattern under test: every ``__getitem__`` copies one sample to the device."""

    def __init__(self, features: torch.Tensor, labels: torch.Tensor, device: torch.device):
        self.features, self.labels, self.device = features, labels, device

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, index: int):
        return self.features[index].to(self.device), self.labels[index].to(self.device)


def make_model(device: torch.device) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(784, 1000), nn.ReLU(), nn.Linear(1000, 10)).to(device)


def straightforward_epoch(model, loader, loss_fn, optimizer) -> None:
    """One epoch of the loop a learner writes first: batches come from the DataLoader."""
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so a timer measures the work and not only its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def seconds_for(run, device: torch.device) -> float:
    synchronize(device)
    start = time.perf_counter()
    run()
    synchronize(device)
    return time.perf_counter() - start


def make_sources(features, labels, device):
    """(a) the whole training set on the device once; (b) one sample at a time from the CPU."""
    batches = Batches(features.to(device), labels.to(device), BATCH_SIZE, shuffle=True, seed=0)
    dataset = OneSampleToDevice(features, labels, device)
    # The sampler gets its own generator, seeded like Batches' one, so both draw the same order.
    # (A generator passed to the DataLoader itself would first be drawn from for worker seeds.)
    sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(0))
    loader = DataLoader(dataset, batch_size=BATCH_SIZE, sampler=sampler)
    return batches, loader


def warm_up(start_model, sources, loss_fn, device) -> None:
    """Run a few batches of both loops on throwaway copies, so neither pays the first-call cost."""
    for source, fused in zip(sources, (True, False), strict=True):  # (a) fused Adam, (b) default
        model = copy.deepcopy(start_model)
        optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, fused=fused)
        straightforward_epoch(model, itertools.islice(source, WARM_UP_BATCHES), loss_fn, optimizer)
    synchronize(device)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--device", help="cpu, cuda, cuda:1, mps (default: CUDA, else MPS, else CPU)"
    )
    parser.add_argument("--epochs", type=int, default=1, help="epochs per loop (default 1)")
    parser.add_argument("--threads", type=int, help="CPU threads for PyTorch (default: its own)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(0)
    device = get_device(args.device)

    data = load_fashion_mnist()
    if is_standin("FashionMNIST"):
        print(
            "fmnist_mlp.py: FashionMNIST was served as a synthetic stand-in (1,000 images); "
            "timings on it say nothing. Provide the real data, e.g. "
            "MCVP_DATA_MIRROR=../shared/data, or run online once.",
            file=sys.stderr,
        )
        return 2

    train_features = data.train_images.flatten(1).float().div(255)  # (60000, 784), on the CPU
    test_features = data.test_images.flatten(1).float().div(255).to(device)
    test_labels = data.test_labels.to(device)
    batches, loader = make_sources(train_features, data.train_labels, device)

    start_model = make_model(device)  # both loops start from these weights
    loss_fn = nn.CrossEntropyLoss()
    models = {"course": copy.deepcopy(start_model), "straightforward": copy.deepcopy(start_model)}
    optimizers = {
        "course": torch.optim.Adam(models["course"].parameters(), lr=LEARNING_RATE, fused=True),
        "straightforward": torch.optim.Adam(
            models["straightforward"].parameters(), lr=LEARNING_RATE
        ),
    }
    epochs = {
        "course": lambda: train_epoch(models["course"], batches, loss_fn, optimizers["course"]),
        "straightforward": lambda: straightforward_epoch(
            models["straightforward"], loader, loss_fn, optimizers["straightforward"]
        ),
    }

    print(
        f"torch {torch.__version__}, device {device}, {torch.get_num_threads()} CPU thread(s); "
        f"{len(train_features):,} training and {len(test_labels):,} test images, "
        f"batch {BATCH_SIZE}, Adam lr {LEARNING_RATE}, {args.epochs} epoch(s) per loop"
    )
    warm_up(start_model, make_sources(train_features, data.train_labels, device), loss_fn, device)
    seconds = {name: [] for name in epochs}
    for _ in range(args.epochs):
        for name, run_epoch in epochs.items():  # alternate, so load changes hit both loops alike
            seconds[name].append(seconds_for(run_epoch, device))

    accuracy = {}
    labels = {"course": "(a) course loop", "straightforward": "(b) straightforward loop"}
    for name, model in models.items():
        _, accuracy[name] = evaluate(model, test_features, test_labels, loss_fn)
        per_epoch = sum(seconds[name]) / len(seconds[name])
        print(
            f"{labels[name]:>25}: {per_epoch:6.2f} s/epoch "
            f"(epochs: {', '.join(f'{s:.2f}' for s in seconds[name])}), "
            f"test accuracy {accuracy[name]:.4f}"
        )
    ratio = sum(seconds["course"]) / sum(seconds["straightforward"])
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"ratio a/b: {ratio:.2f} (target <= {TARGET_RATIO}: {verdict})")
    print(f"accuracy difference a-b: {accuracy['course'] - accuracy['straightforward']:+.4f}")
    weight_gap = max(
        (p - q).abs().max().item()
        for p, q in zip(
            models["course"].parameters(), models["straightforward"].parameters(), strict=True
        )
    )
    print(f"largest weight difference between the two trained models: {weight_gap:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
