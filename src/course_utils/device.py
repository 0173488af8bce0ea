"""Device choice, seeding and determinism: the first thing every chapter calls.

Used by every chapter's setup cell through :func:`setup`.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

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


def pick_device(prefer: str | None = None) -> torch.device:
    """Return the device to compute on: CUDA if present, then Apple's MPS, then the CPU.

    ``prefer`` ("cpu", "cuda", "mps") forces a choice; so does the environment variable
    ``COURSE_DEVICE``. Asking for a device that is not available raises ``ValueError``.
    """
    prefer = prefer or os.environ.get("COURSE_DEVICE") or None
    if prefer is not None:
        if prefer not in ("cpu", "cuda", "mps"):
            raise ValueError(f"device must be 'cpu', 'cuda' or 'mps', got {prefer!r}")
        if prefer == "cuda" and not torch.cuda.is_available():
            raise ValueError("device 'cuda' was asked for but torch.cuda.is_available() is False")
        if prefer == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise ValueError("device 'mps' was asked for but is not available on this machine")
        return torch.device(prefer)
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
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
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
    if n is None:
        n = int(os.environ.get("COURSE_NUM_THREADS", DEFAULT_NUM_THREADS))
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"number of threads must be a positive integer, got {n!r}")
    torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=n)
    except ImportError:  # threadpoolctl ships with scikit-learn; without it BLAS keeps its default
        pass
    return n


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
        raise ValueError(f"k must be a non-negative integer (or a sequence of them), got {k!r}")
    if isinstance(k, (int, np.integer)):
        if k < 0:
            raise ValueError(f"k must be non-negative, got {k}")
        return int(k) + offset
    try:
        arr = np.asarray(list(k) if isinstance(k, range) else k)
    except TypeError:
        raise ValueError(f"k must be a non-negative integer or a sequence of them, got {k!r}") from None
    if arr.dtype.kind not in "iu" or (arr.size and arr.min() < 0):
        raise ValueError(f"k must be a non-negative integer or a sequence of them, got {k!r}")
    return arr.astype(np.int64) + offset


def _seed_from_environment() -> int:
    text = os.environ.get("COURSE_SEED", "").strip()
    if not text:
        return 0
    if not text.isdigit():
        raise ValueError(f"COURSE_SEED must be a non-negative integer, got {text!r}")
    return int(text)


def setup(seed: int | None = None, device: str | None = None, num_threads: int | None = None,
          deterministic: bool = True, verbose: bool = True) -> torch.device:
    """One call for a chapter's setup cell: seed, fix threads, make runs deterministic, pick a device.

    ``seed`` is the base seed of the run; ``None`` (what chapters use) reads the environment
    variable ``COURSE_SEED`` and falls back to 0, the seed of the stored outputs. Every later
    :func:`course_utils.seed` derives from it. Returns the device. With ``verbose`` it prints one
    line naming it, so a reader sees where the chapter ran (``cpu`` in the stored book).
    """
    global _base_seed
    if seed is None:
        seed = _seed_from_environment()
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
