"""Device choice, seeding and determinism: the first thing every chapter calls.

Used by every chapter's setup cell through :func:`setup`.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from . import validate
from .validate import ArgumentError

__all__ = ["pick_device", "seed_everything", "set_num_threads", "setup", "seed", "current_seed", "SEED_STRIDE"]

#: Distance between the seeds of two runs of a chapter: the k-th seed of the run with base seed
#: s is ``k + SEED_STRIDE * s`` (see :func:`seed`). Larger than any seed a chapter uses, so the
#: streams of two base seeds never meet.
SEED_STRIDE = 100_003

_base_seed = 0

#: Default number of CPU threads. On the course's 2-core reference machine small models run as
#: fast (or faster) on one intra-op thread as on two, and one thread per notebook lets the test
#: suite run two notebooks side by side; see benchmarks/README.md. Override with the
#: environment variable ``COURSE_NUM_THREADS``.
DEFAULT_NUM_THREADS = 1


def pick_device(prefer: str | torch.device | None = None) -> torch.device:
    """Return the device to compute on: CUDA if present, then Apple's MPS, then the CPU.

    ``prefer`` ("cpu", "cuda", "cuda:1", "mps" in any case, or a ``torch.device``) forces a choice;
    so does the environment variable ``COURSE_DEVICE``. Asking for a device that is not available
    raises an :class:`~course_utils.validate.ArgumentError` (a ``ValueError``) that says so.
    """
    if prefer is None or (isinstance(prefer, str) and not prefer.strip()):
        env = os.environ.get("COURSE_DEVICE", "").strip()
        if env:
            return validate.device("the environment variable COURSE_DEVICE", env)
        prefer = None
    if prefer is not None:
        return validate.device("prefer (the device)", prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's, NumPy's and PyTorch's (CPU and CUDA) random generators with ``seed``.

    Returns a fresh ``numpy.random.Generator`` seeded with ``seed``: chapters draw their NumPy
    randomness from it rather than from the global state.
    """
    if isinstance(seed, float):   # a seed is a whole number: 1.0 is most likely a mistake for a rate
        raise ArgumentError(f"seed must be a non-negative integer, got {seed!r}")
    seed = validate.nonnegative_int("seed", seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def set_num_threads(n: int | None = None) -> int:
    """Set the number of CPU threads used by PyTorch and by NumPy's BLAS, and return it.

    ``n = None`` reads ``COURSE_NUM_THREADS`` and falls back to :data:`DEFAULT_NUM_THREADS`.
    Fixing the BLAS thread count also fixes the order of floating-point sums, so the printed
    numbers of a chapter are reproducible from run to run.
    """
    n = _thread_count(n)
    torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=n)
    except ImportError:  # threadpoolctl ships with scikit-learn; without it BLAS keeps its default
        pass
    return n


def _thread_count(n: int | None, name: str = "n") -> int:
    """The number of threads asked for: ``n``, else ``COURSE_NUM_THREADS``, else the default (checked)."""
    if n is None:
        text = os.environ.get("COURSE_NUM_THREADS", "").strip()
        if not text:
            n = DEFAULT_NUM_THREADS
        elif text.isdigit() and int(text) >= 1:
            n = int(text)
        else:
            raise ArgumentError(f"COURSE_NUM_THREADS must be a positive integer (a number of threads), got {text!r}")
    if isinstance(n, float):
        raise ArgumentError(f"{name} (the number of threads) must be a positive integer, got {n!r}")
    return validate.positive_int(f"{name} (the number of threads)", n)


def current_seed() -> int:
    """Return the base seed of this run: the one :func:`setup` was given (0 before any setup)."""
    return _base_seed


def seed(k=0):
    """Return the ``k``-th seed of this run: ``k + SEED_STRIDE · s``, with s the base seed of :func:`setup`.

    Chapters draw every random number from a seed made here (``np.random.default_rng(cu.seed(1))``,
    ``torch.Generator().manual_seed(cu.seed(2))``, ``seeds=cu.seed(range(8))``) and never from a
    literal, so that one switch, ``COURSE_SEED``, moves the whole chapter to other draws. At the
    base seed 0 (the stored run) ``seed(k) == k``. ``k`` may be a non-negative integer or a
    sequence of them (a range, list or integer array), which gives an integer array.
    """
    offset = SEED_STRIDE * _base_seed
    if isinstance(k, (bool, np.bool_)):
        raise ArgumentError(f"k must be a non-negative integer (or a sequence of them), got {k!r}")
    if isinstance(k, (int, np.integer)):
        if k < 0:
            raise ArgumentError(f"k must be non-negative, got {k}")
        return int(k) + offset
    if isinstance(k, (str, bytes, dict)) or k is None:
        raise ArgumentError(f"k must be a non-negative integer or a sequence of them, got {validate.show(k)}")
    try:
        arr = np.asarray(list(k) if isinstance(k, range) else k)
    except (TypeError, ValueError):
        raise ArgumentError(f"k must be a non-negative integer or a sequence of them, got {k!r}") from None
    if arr.dtype.kind not in "iu" or (arr.size and arr.min() < 0):
        raise ArgumentError(f"k must be a non-negative integer or a sequence of them, got {k!r}")
    return arr.astype(np.int64) + offset


def _seed_from_environment() -> int:
    text = os.environ.get("COURSE_SEED", "").strip()
    if not text:
        return 0
    if not text.isdigit():
        raise ArgumentError(f"COURSE_SEED must be a non-negative integer, got {text!r}")
    return int(text)


def setup(seed: int | None = None, device: str | torch.device | None = None, num_threads: int | None = None,
          deterministic: bool = True, verbose: bool = True) -> torch.device:
    """One call for a chapter's setup cell: seed, fix threads, make runs deterministic, pick a device.

    ``seed`` is the base seed of the run; ``None`` (what chapters use) reads the environment
    variable ``COURSE_SEED`` and falls back to 0, the seed of the stored outputs. Every later
    :func:`course_utils.seed` derives from it. Returns the device. With ``verbose`` it prints one
    line naming it, so a reader sees where the chapter ran (``cpu`` in the stored book).
    """
    global _base_seed
    deterministic = validate.flag("deterministic", deterministic)
    verbose = validate.flag("verbose", verbose)
    if seed is None:
        seed = _seed_from_environment()
    if isinstance(seed, float):
        raise ArgumentError(f"seed must be a non-negative integer, got {seed!r}")
    validate.nonnegative_int("seed", seed)    # every argument is checked before anything is changed
    _thread_count(num_threads, "num_threads")
    if device is None or (isinstance(device, str) and not device.strip()):
        pick_device(None)                     # reads, and so checks, COURSE_DEVICE
    else:
        validate.device("device", device)
    seed_everything(seed)
    _base_seed = int(seed)
    threads = set_num_threads(num_threads)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    dev = pick_device(device)
    if verbose:
        extra = f", {threads} CPU thread{'s' if threads > 1 else ''}" if dev.type == "cpu" else ""
        print(f"device: {dev.type}{extra}; seed {seed}")
    return dev
