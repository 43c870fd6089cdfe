"""mcvp.training: batching from device tensors, the train/eval loop, and its modes."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from mcvp.training import Batches, evaluate, fit, train_epoch  # noqa: E402


def blobs(n=400, seed=0):
    """Two well separated classes in 2-D."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randn(n, 2, generator=g) * 0.5 + (y[:, None] * 2 - 1) * 2.0
    return x, y


def test_batches_cover_every_row_once_and_repeat_with_the_seed():
    x, y = torch.arange(10).float()[:, None], torch.arange(10)
    batches = Batches(x, y, batch_size=4, shuffle=True, seed=3)
    assert len(batches) == 3
    first = torch.cat([yb for _, yb in batches])
    second = torch.cat([yb for _, yb in batches])
    assert sorted(first.tolist()) == list(range(10)) and not torch.equal(first, second)
    again = torch.cat([yb for _, yb in Batches(x, y, 4, shuffle=True, seed=3)])
    assert torch.equal(first, again)
    for xb, yb in batches:
        assert torch.equal(xb[:, 0].long(), yb)  # rows stay paired
    ordered = [yb.tolist() for _, yb in Batches(x, y, 4)]
    assert ordered == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_batches_reject_mismatched_lengths():
    with pytest.raises(ValueError):
        Batches(torch.zeros(3, 1), torch.zeros(4), 2)


def test_fit_learns_and_measures_in_eval_mode():
    torch.manual_seed(0)
    x, y = blobs()
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    history = fit(model, Batches(x, y, 32, shuffle=True), (x, y), nn.CrossEntropyLoss(),
                  optimizer, epochs=3, scheduler=scheduler)  # fmt: skip
    assert history.val_accuracy[-1] > 0.95
    assert history.learning_rate == [0.1, 0.05, 0.025]
    assert len(history.train_loss) == len(history.objective) == 3
    # Evaluation is deterministic although the model has dropout: eval mode switches it off.
    assert evaluate(model, x, y, nn.CrossEntropyLoss()) == evaluate(
        model, x, y, nn.CrossEntropyLoss()
    )
    assert not model.training


def test_penalty_is_added_to_the_training_objective():
    torch.manual_seed(0)
    x, y = blobs()
    model = nn.Linear(2, 2)
    frozen = torch.optim.SGD(model.parameters(), lr=0.0)
    plain = train_epoch(model, Batches(x, y, 400), nn.CrossEntropyLoss(), frozen)
    five = train_epoch(model, Batches(x, y, 400), nn.CrossEntropyLoss(), frozen, lambda m: 5.0)
    assert five == pytest.approx(plain + 5.0)


def test_reduce_on_plateau_gets_the_validation_loss():
    torch.manual_seed(0)
    x, y = blobs()
    model = nn.Linear(2, 2)
    unrelated = torch.zeros(1, requires_grad=True)  # the model never changes: a plateau
    optimizer = torch.optim.SGD([unrelated], lr=1.0)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=0)
    history = fit(model, Batches(x, y, 400), (x, y), nn.CrossEntropyLoss(), optimizer, 3, scheduler)
    assert history.learning_rate == [1.0, 1.0, 0.5]  # the first epoch sets the best loss


def test_augment_transforms_training_batches_only():
    x, y = blobs()
    seen = []

    def flip_and_remember(batch):
        seen.append(len(batch))
        return -batch  # a visible change: the model trains on mirrored points

    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    history = fit(model, Batches(x, y, 100), (x, y), nn.CrossEntropyLoss(), optimizer, 3,
                  augment=flip_and_remember)  # fmt: skip
    assert sum(seen) == 3 * len(x), "every training batch, every epoch, and nothing else"
    # trained on mirrored points, the model gets the unmirrored ones wrong: metrics are unaugmented
    assert history.val_accuracy[-1] < 0.1
