"""mcvp.vision: shifting images without wrap-around, and probing a model with shifted images."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from mcvp.vision import probability_under_shift, shift  # noqa: E402


def test_shift_moves_pixels_and_fills_the_uncovered_border():
    image = torch.arange(1, 13).float().view(1, 3, 4)  # values 1..12, no zeros
    right = shift(image, 1)
    assert torch.equal(right[0, :, 1:], image[0, :, :-1])
    assert torch.equal(right[0, :, 0], torch.zeros(3))  # filled, not wrapped around
    up_left = shift(image, -2, -1, fill=-1.0)
    assert torch.equal(up_left[0, :2, :2], image[0, 1:, 2:])
    assert (up_left[0, 2, :] == -1).all() and (up_left[0, :, 2:] == -1).all()


def test_shift_by_zero_is_identity_and_past_the_edge_is_blank():
    images = torch.rand(2, 1, 5, 5)
    assert torch.equal(shift(images, 0, 0), images)
    assert torch.equal(shift(images, 5), torch.zeros_like(images))
    assert torch.equal(shift(images, 0, -7, fill=0.5), torch.full_like(images, 0.5))


def test_shift_agrees_with_roll_away_from_the_border():
    images = torch.rand(3, 1, 8, 8)
    images[..., :, -2:] = 0  # empty right border: a shift by 2 loses nothing
    assert torch.equal(shift(images, 2), torch.roll(images, 2, dims=-1))


def test_probability_under_shift_has_one_column_per_shift_and_uses_eval_mode():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(16, 3))
    images, labels = torch.rand(4, 1, 4, 4), torch.tensor([0, 1, 2, 0])
    table = probability_under_shift(model, images, labels, [-1, 0, 1])
    assert table.shape == (4, 3) and not model.training
    assert ((table > 0) & (table < 1)).all()
    with torch.inference_mode():
        expected = model(images).softmax(1)[torch.arange(4), labels]  # eval mode: no dropout
    assert torch.allclose(table[:, 1], expected)
    again = probability_under_shift(model, images, labels, [-1, 0, 1])
    assert torch.equal(table, again)


def test_read_images_decodes_to_rgb_and_skips_unreadable_files(tmp_path, capsys):
    cv2 = pytest.importorskip("cv2")
    import numpy as np

    from mcvp.vision import read_images

    blue = np.zeros((20, 30, 3), np.uint8)
    blue[..., 0] = 255  # OpenCV stores BGR: channel 0 is blue
    cv2.imwrite(str(tmp_path / "blue.png"), blue)
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "Thumbs.db").write_bytes(b"not an image")
    paths = [tmp_path / "blue.png", tmp_path / "empty.png", tmp_path / "Thumbs.db"]
    images, kept = read_images(paths, size=8)
    assert images.shape == (1, 3, 8, 8) and images.dtype == torch.uint8
    assert kept == [tmp_path / "blue.png"]
    assert (images[0, 2] == 255).all() and (images[0, :2] == 0).all()  # RGB: blue is last
    out = capsys.readouterr().out
    assert "empty.png" in out and "Thumbs.db" in out
    nothing, none_kept = read_images([tmp_path / "empty.png"], size=8)
    assert nothing.shape == (0, 3, 8, 8) and none_kept == []
