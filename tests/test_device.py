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


def test_course_seed_moves_every_derived_seed(monkeypatch):
    monkeypatch.setenv("COURSE_SEED", "2")
    cu.setup(verbose=False)
    assert cu.current_seed() == 2
    assert cu.seed(5) == 5 + 2 * cu.device.SEED_STRIDE
    assert list(cu.seed(range(3))) == [2 * cu.device.SEED_STRIDE + k for k in range(3)]
    cu.setup(seed=0, verbose=False)  # an explicit seed wins over the environment
    assert cu.seed(5) == 5 and list(cu.seed([0, 1])) == [0, 1]
    monkeypatch.setenv("COURSE_SEED", "one")
    with pytest.raises(ValueError, match="COURSE_SEED"):
        cu.setup(verbose=False)
    with pytest.raises(ValueError, match="non-negative"):
        cu.seed(-1)
    with pytest.raises(ValueError, match="integer"):
        cu.seed(1.5)
