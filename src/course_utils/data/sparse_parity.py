"""Multitask sparse parity: many "skills" of the same difficulty, met with power-law frequencies.

An input is ``x = (c, z)``: a one-hot *control code* ``c`` of length ``n_skills`` that names the
skill k to perform, followed by ``n_bits`` random *task bits* ``z ∈ {0, 1}^n_bits``. Skill k's
answer is the parity of its own fixed subset ``S_k`` of ``m`` task bits,

    y = Σ_{i ∈ S_k} z_i  mod 2          (labels "binary", in {0, 1}), or
    y = Π_{i ∈ S_k} (1 − 2 z_i)          (labels "pm1", in {−1, +1}: y_pm1 = 1 − 2 y_binary),

and skill k is asked with the Zipf probability ``p_k = k^−(α+1) / Σ_j j^−(α+1)``, k = 1 … n_skills
(Michaud et al. 2023, "The quantization model of neural scaling"). The subsets ``S_k`` are drawn
once from a seed. Everything is torch, vectorised over samples. Used by the chapter "Skills,
quanta and emergence" (book/06_scaling/03_skills_and_quanta).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from .. import validate
from ..validate import float_dtype, int_tensor, torch_generator
from ..validate import ArgumentError
from .counting import zipf_probabilities

__all__ = ["skill_subsets", "MultitaskSparseParity"]

LABELS = ("binary", "pm1")


def skill_subsets(n_skills: int, n_bits: int, m: int, seed: int = 0) -> torch.Tensor:
    """For each skill, the sorted indices of its ``m`` task bits: a (n_skills, m) long tensor.

    Each row is a uniformly random m-subset of {0, …, n_bits − 1}, drawn from a generator seeded
    with ``seed``; rows are distinct when there are enough subsets (C(n_bits, m) ≥ n_skills).
    """
    n_bits = validate.positive_int("n_bits", n_bits)
    m = validate.integer(f"m (the bits per skill, at most n_bits = {n_bits})", m, low=1, high=n_bits)
    n_skills = validate.positive_int("n_skills", n_skills)
    seed = validate.nonnegative_int("seed", seed)
    gen = torch.Generator().manual_seed(int(seed))
    rows: list[tuple[int, ...]] = []
    seen: set[tuple[int, ...]] = set()
    distinct = math.comb(n_bits, m) >= n_skills
    while len(rows) < n_skills:
        row = tuple(sorted(torch.randperm(n_bits, generator=gen)[:m].tolist()))
        if distinct and row in seen:
            continue
        seen.add(row)
        rows.append(row)
    return torch.tensor(rows, dtype=torch.long)


@dataclass
class MultitaskSparseParity:
    """The task: ``n_skills`` parities of ``m`` out of ``n_bits`` bits, asked with Zipf frequencies.

    ``probabilities`` (p_k) and ``subsets`` (S_k, one row per skill) are computed from the
    arguments; ``seed`` fixes the subsets. ``input_dim = n_skills + n_bits``.

    Example::

        task = MultitaskSparseParity(n_skills=6, n_bits=20, m=3, alpha=0.5)
        x, y, skill = task.sample(1000, seed=0)        # x (1000, 26) float, y (1000,) long, skill (1000,)
    """

    n_skills: int
    n_bits: int
    m: int
    alpha: float
    seed: int = 0
    probabilities: torch.Tensor = field(init=False, repr=False)
    subsets: torch.Tensor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n_skills = validate.positive_int("n_skills", self.n_skills)
        alpha = validate.positive("alpha (the Zipf exponent, p_k ∝ k^-(alpha+1))", self.alpha)
        self.probabilities = torch.from_numpy(zipf_probabilities(n_skills, alpha + 1.0))   # float64
        self.subsets = skill_subsets(self.n_skills, self.n_bits, self.m, self.seed)

    @property
    def input_dim(self) -> int:
        """Length of an input: the control code plus the task bits."""
        return self.n_skills + self.n_bits

    def labels(self, skill: torch.Tensor, bits: torch.Tensor, labels: str = "binary") -> torch.Tensor:
        """The answer of skill ``skill[i]`` on task bits ``bits[i]``: parity of bits[i, S_skill[i]].

        ``labels="binary"`` gives {0, 1} (long), ``"pm1"`` gives {−1, +1} (float).
        """
        labels = validate.choice("labels", labels, LABELS)
        skill, bits = self._skill_and_bits(skill, bits)
        chosen = torch.gather(bits.long(), 1, self.subsets[skill.long()])
        parity = chosen.sum(dim=1) % 2
        return parity if labels == "binary" else 1.0 - 2.0 * parity.to(torch.get_default_dtype())

    def encode(self, skill: torch.Tensor, bits: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
        """The network input x = (one_hot(skill), bits), shape (N, n_skills + n_bits).

        Dense: N × n_skills control entries. With many skills and only the skill counts needed (the
        multilinear model), draw :meth:`sample_skills` instead.
        """
        skill, bits = self._skill_and_bits(skill, bits)
        dtype = float_dtype("dtype", dtype)
        skill = skill.long()
        control = torch.nn.functional.one_hot(skill, self.n_skills)
        return torch.cat([control, torch.as_tensor(bits).long()], dim=1).to(dtype or torch.get_default_dtype())

    def _skill_and_bits(self, skill, bits) -> tuple[torch.Tensor, torch.Tensor]:
        """skill (N,) integer indices in [0, n_skills) and bits (N, n_bits) of 0s and 1s, as tensors."""
        dims = validate.Dims(n_bits=self.n_bits)
        skill = int_tensor("skill", skill, shape=("N",), dims=dims, low=0, high=self.n_skills)
        bits = int_tensor("bits", bits, shape=("N", "n_bits"), dims=dims, low=0, high=2)
        return skill, bits

    @staticmethod
    def _generator(seed: int | None, generator: torch.Generator | None) -> torch.Generator:
        if generator is None:
            if seed is None:
                raise ArgumentError("give a seed or a torch.Generator, so that the draw is reproducible")
            generator = torch.Generator().manual_seed(validate.nonnegative_int("seed", seed))
        return torch_generator("generator", generator)

    def sample_skills(self, n: int, *, seed: int | None = None, generator: torch.Generator | None = None,
                      skill: int | None = None) -> torch.Tensor:
        """Draw only the skill indices of n samples, k ~ p_k (0-based, long): cheap for many skills.

        Inverse-CDF sampling: k is the first index whose cumulative probability exceeds u ~ U(0, 1).
        With ``skill`` every index is that skill. :meth:`sample` draws its skills with this.
        """
        n = validate.nonnegative_int("n (the number of samples)", n)
        generator = self._generator(seed, generator)
        if skill is not None:
            skill = validate.integer("skill", skill, low=0, high=self.n_skills - 1)
            return torch.full((n,), int(skill), dtype=torch.long)
        u = torch.rand(n, generator=generator, dtype=torch.float64)
        return torch.searchsorted(torch.cumsum(self.probabilities, 0), u, right=True).clamp_(max=self.n_skills - 1)

    def sample(self, n: int, *, seed: int | None = None, generator: torch.Generator | None = None,
               skill: int | None = None, labels: str = "binary",
               dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Draw n samples: skills k ~ p_k (or all equal to ``skill``), bits uniform; returns (x, y, skill).

        Give a ``seed`` or a ``generator`` (a generator continues its stream: a fresh batch per call,
        for online training). ``x`` has the default float dtype (or ``dtype``); ``skill`` is 0-based.
        """
        n = validate.nonnegative_int("n (the number of samples)", n)
        labels = validate.choice("labels", labels, LABELS)
        dtype = float_dtype("dtype", dtype)
        generator = self._generator(seed, generator)
        k = self.sample_skills(n, generator=generator, skill=skill)
        bits = torch.randint(0, 2, (n, self.n_bits), generator=generator)
        return self.encode(k, bits, dtype), self.labels(k, bits, labels), k

    def test_set(self, n_per_skill: int, seed: int = 100, labels: str = "binary",
                 dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``n_per_skill`` samples of every skill, grouped by skill (rows k·n … (k+1)·n − 1 are skill k).

        For per-skill accuracies: reshape a per-sample quantity to (n_skills, n_per_skill) and average.
        Skill k's samples are drawn with seed ``seed + k``.
        """
        n_per_skill = validate.positive_int("n_per_skill", n_per_skill)
        seed = validate.nonnegative_int("seed", seed)
        parts = [self.sample(n_per_skill, seed=seed + k, skill=k, labels=labels, dtype=dtype)
                 for k in range(self.n_skills)]
        return tuple(torch.cat([part[i] for part in parts]) for i in range(3))

    def relu_network(self, skills: int | None = None) -> torch.nn.Sequential:
        """A hand-made two-layer ReLU network that solves the first ``skills`` skills (default: all) exactly.

        Skill k gets m hidden units, h_kj = ReLU(s_k − j − B(1 − c_k)), j = 0 … m−1, where
        s_k = Σ_{i∈S_k} z_i counts its active bits and B = m + 1 switches them off unless its control
        bit c_k is on. The logit of class 1 (class 0's is 0) is

            f = −1 + 2 h_k0 + Σ_{j=1}^{m−1} (−1)^j 4 h_kj,

        the piecewise-linear interpolation of −1, +1, −1, … at s_k = 0, 1, 2, …: its sign is the parity.
        So m hidden units are enough for one skill ("a skill unit"), ``skills · m`` for ``skills`` of
        them; the chapter compares trained networks of a given width with this count.
        """
        skills = self.n_skills if skills is None else skills
        skills = validate.integer("skills", skills, low=1, high=self.n_skills)
        m, B = self.m, self.m + 1
        hidden, out = torch.nn.Linear(self.input_dim, skills * m), torch.nn.Linear(skills * m, 2)
        with torch.no_grad():
            for p in (*hidden.parameters(), *out.parameters()):
                p.zero_()
            for k in range(skills):
                rows = slice(k * m, (k + 1) * m)
                hidden.weight[rows, self.n_skills + self.subsets[k]] = 1.0      # s_k
                hidden.weight[rows, k] = B                                    # + B c_k
                hidden.bias[rows] = -torch.arange(m, dtype=hidden.bias.dtype) - B
                out.weight[1, rows] = torch.tensor([2.0] + [4.0 * (-1) ** j for j in range(1, m)])
            out.bias[1] = -1.0
        return torch.nn.Sequential(hidden, torch.nn.ReLU(), out)
