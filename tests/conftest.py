"""Shared test settings."""

import os
import tempfile

import pytest
import torch

# torch.compile (BatchedAdamW(compile=True)) caches its compiled kernels on disk, and the cache does not
# tell an emulated CPU (ATEN_CPU_CAPABILITY=avx2, as `make test` sets) from the native one: a kernel
# compiled under one and loaded under the other gave wrong trajectories or a segfault. One cache per
# capability. (Set before any compile; an explicit TORCHINDUCTOR_CACHE_DIR is left alone.)
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", os.path.join(
    tempfile.gettempdir(), f"torchinductor_{os.environ.get('USER', 'user')}_{os.environ.get('ATEN_CPU_CAPABILITY', 'native')}"))

import course_utils as cu
from hypothesis import settings

# Property-based tests (hypothesis): in the suite and in CI the examples are drawn from a fixed
# seed (``derandomize``), so a run on any machine tests the same inputs and a failure can be
# reproduced; nothing is stored in a .hypothesis/ database. To search for new failing inputs,
# run with HYPOTHESIS_PROFILE=explore (random draws, more examples).
settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", derandomize=False, database=None, deadline=None, max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True, scope="session")
def one_cpu_thread():
    """Run every test as the chapters run: on one CPU thread (course_utils.device's default).

    The models of the tests are small; on the 2-core reference machine one thread is many times
    faster for them, and the suite runs two test workers side by side.
    """
    before = torch.get_num_threads()
    cu.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def float64():
    """float64 as the default dtype for one test, as in the chapters that compute in float64.

    A test module that needs it everywhere says ``pytestmark = pytest.mark.usefixtures("float64")``.
    """
    old_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old_dtype)
