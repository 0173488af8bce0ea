"""The progress bar of course_utils.train ends complete, also when training stops early on purpose."""

import importlib

import torch
from tqdm.std import tqdm as std_tqdm

import course_utils as cu
train_module = importlib.import_module("course_utils.train")


class RecordingBar(std_tqdm):
    bars: list = []

    def __init__(self, *args, **kwargs):
        kwargs["disable"] = False
        kwargs["file"] = open("/dev/null", "w")
        super().__init__(*args, **kwargs)
        RecordingBar.bars.append(self)


def test_bar_reaches_its_total(monkeypatch):
    monkeypatch.setattr(train_module, "progress_bar",
                        lambda total, desc=None, disable=False: RecordingBar(total=total, desc=desc))
    X = torch.randn(16, 2)
    y = X.sum(1, keepdim=True)
    RecordingBar.bars.clear()
    cu.train(torch.nn.Linear(2, 1), torch.nn.functional.mse_loss, X, y, steps=50, lr=0.1)
    cu.train(torch.nn.Linear(2, 1), torch.nn.functional.mse_loss, X, y, steps=5000, lr=0.1,
             record_steps=range(0, 5001, 10), stop_when=lambda h: h["loss"][-1] < 1e-3)
    full, early = RecordingBar.bars
    assert full.n == full.total == 50
    assert early.n == early.total < 5000
