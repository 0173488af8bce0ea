import numpy as np
import pytest
import torch

import course_utils as cu


def test_pick_device_defaults_to_an_available_device():
    dev = cu.pick_device()
    assert dev.type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        assert dev.type != "cuda"


def test_pick_device_rejects_unknown_and_unavailable(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    with pytest.raises(ValueError, match="must be"):
        cu.pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="cuda"):
            cu.pick_device("cuda")
    assert cu.pick_device("cpu").type == "cpu"


def test_course_device_environment_variable(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert cu.pick_device().type == "cpu"


def test_seed_everything_makes_draws_reproducible():
    rng = cu.seed_everything(3)
    a = (torch.randn(4), np.random.rand(3), rng.standard_normal(2))
    rng = cu.seed_everything(3)
    b = (torch.randn(4), np.random.rand(3), rng.standard_normal(2))
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2])


@pytest.mark.parametrize("bad", [-1, 1.5, "0"])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed"):
        cu.seed_everything(bad)


def test_set_num_threads(monkeypatch):
    before = torch.get_num_threads()
    try:
        assert cu.set_num_threads(1) == 1 and torch.get_num_threads() == 1
        monkeypatch.setenv("COURSE_NUM_THREADS", "2")
        assert cu.set_num_threads() == 2
        with pytest.raises(ValueError, match="threads"):
            cu.set_num_threads(0)
    finally:
        torch.set_num_threads(before)


def test_setup_prints_the_device(capsys):
    dev = cu.setup(seed=1, device="cpu", num_threads=1)
    assert dev.type == "cpu"
    assert capsys.readouterr().out.strip() == "device: cpu, 1 CPU thread; seed 1"
