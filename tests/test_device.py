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


@pytest.mark.parametrize("prefer", ["cpu", "CPU", " Cpu ", torch.device("cpu")])
def test_pick_device_accepts_any_case_and_torch_devices(prefer, monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    assert cu.pick_device(prefer) == torch.device("cpu")


def test_pick_device_reads_the_environment_in_any_case(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "CPU")
    assert cu.pick_device() == torch.device("cpu")
    monkeypatch.setenv("COURSE_DEVICE", "gpu")
    with pytest.raises(cu.validate.ArgumentError, match="COURSE_DEVICE"):
        cu.pick_device()


@pytest.mark.parametrize("bad", [3, 2.5, ["cpu"], "tpu"])
def test_pick_device_refuses_what_is_not_a_device(bad, monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    with pytest.raises(cu.validate.ArgumentError, match="device"):
        cu.pick_device(bad)


def test_asking_for_a_missing_gpu_says_how_to_run_on_the_cpu(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(cu.validate.ArgumentError, match="no CUDA GPU.*device='cpu'"):
        cu.pick_device("CUDA")
    with pytest.raises(cu.validate.ArgumentError, match="no CUDA GPU"):
        cu.setup(seed=0, device=torch.device("cuda"), verbose=False)


@pytest.mark.parametrize("bad", [True, float("nan"), 2.0, None, np.float64(1.0)])
def test_seed_everything_refuses_non_integers(bad):
    with pytest.raises(ValueError, match="seed"):
        cu.seed_everything(bad)


def test_seed_everything_accepts_numpy_integers():
    a = cu.seed_everything(np.int64(4)).standard_normal(2)
    np.testing.assert_array_equal(a, np.random.default_rng(4).standard_normal(2))


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2", True, float("nan")])
def test_set_num_threads_refuses_bad_counts(bad):
    with pytest.raises(ValueError, match="threads"):
        cu.set_num_threads(bad)


@pytest.mark.parametrize("text", ["two", "0", "-1", "1.5"])
def test_set_num_threads_names_a_bad_environment_variable(text, monkeypatch):
    monkeypatch.setenv("COURSE_NUM_THREADS", text)
    with pytest.raises(ValueError, match="COURSE_NUM_THREADS"):
        cu.set_num_threads()


@pytest.mark.parametrize("kw", [dict(deterministic="yes"), dict(verbose=None), dict(seed=-1), dict(num_threads=0)])
def test_setup_refuses_bad_arguments(kw):
    before = torch.get_num_threads()
    try:
        with pytest.raises(ValueError):
            cu.setup(**{"device": "cpu", "verbose": False, **kw})
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("bad", ["3", None, [1, -2], [0.5], {"k": 1}])
def test_seed_refuses_what_is_not_a_non_negative_integer(bad):
    with pytest.raises(ValueError, match="k must be"):
        cu.seed(bad)


def test_setup_changes_nothing_when_an_argument_is_bad():
    cu.setup(seed=0, device="cpu", num_threads=1, verbose=False)
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    with pytest.raises(ValueError, match="threads"):
        cu.setup(seed=7, device="cpu", num_threads=0, verbose=False)
    with pytest.raises(ValueError, match="device"):
        cu.setup(seed=7, device="tpu", verbose=False)
    assert cu.current_seed() == 0 and torch.equal(torch.rand(1), expected)
