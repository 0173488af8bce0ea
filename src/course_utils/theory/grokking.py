"""The effective theory of grokking of Liu et al. (2022), "Towards understanding grokking: an
effective theory of representation learning", for the toy addition task.

Symbols 0, …, p−1 have embeddings E_k ∈ ℝ^d; the network sees the pair (i, j) only through
E_i + E_j. A **parallelogram** is a quadruple (i, j, m, n) of two different unordered pairs with
i + j = m + n; a representation "knows" it when E_i + E_j = E_m + E_n.

- :func:`parallelograms`: all of them; :func:`training_parallelograms`: P₀(D), those whose two
  pairs both lie in the training set D (the only ones the loss can enforce: two training pairs
  with the same sum share a target);
- :func:`constraint_matrix`: one row a = e_i + e_j − e_m − e_n per parallelogram;
  :func:`permissible_parallelograms`: every parallelogram *implied* by P₀(D), i.e. whose row lies
  in the span of P₀(D)'s rows (it holds in every representation that satisfies P₀(D));
- :func:`rqi`: the representation quality index, the fraction of all parallelograms that the
  (normalised) embeddings satisfy to a tolerance δ; :func:`predicted_accuracy`: the accuracy
  they imply, the fraction of pairs (i, j) with a training pair (m, n) such that (i, j, m, n)
  holds, i.e. whose answer can be read off a training answer;
- the **effective loss** ℓ_eff(E) = ℓ₀/Z₀, ℓ₀ = Σ_{P₀(D)} |E_i + E_j − E_m − E_n|² = tr(Eᵀ H E),
  Z₀ = Σ_k |E_k − Ē|² (:func:`effective_loss`, :func:`effective_loss_gradient`), with
  H = AᵀA (:func:`effective_hessian`). Its gradient is orthogonal to 1 (Σ_k E_k) and to E
  (Z₀): both are conserved by the gradient flow, so the embeddings cannot collapse to the
  trivial minimum E = 0 of ℓ₀ (:func:`effective_gradient_flow` integrates it);
- the **linear flow** at fixed normalisation, dE/dt = −(2/Z₀) H E, solved exactly by
  E(t) = V e^{−2Λt/Z₀} Vᵀ E(0) (:func:`linear_flow`). H always annihilates 1 (translation) and
  k ↦ k (the linear structure E_k = a + b k; scale is b); when the null space has dimension 2
  exactly, the training set pins a **unique linear structure** (:func:`unique_linear_structure`)
  and the third eigenvalue λ₃ — the **grokking rate** (:func:`grokking_rate`) — sets how fast
  every other component dies: t_grok ∝ Z₀/(2λ₃);
- :func:`probability_unique`: the probability that a random training set of n pairs pins the
  unique linear structure (Monte Carlo over splits), and :func:`critical_fraction`, where it
  crosses ½;
- :func:`linearity_defect`: 1 − R² of E_k against k, the distance of a representation from the
  linear structure (0 for E_k = a + b k); :func:`spacing_deviation`: the same distance as a root-mean-square
  deviation from the best line, in units of its spacing |b| (is the line equally spaced?);
- :func:`order_inversions`: how far the *order* of one-dimensional embeddings is from the order
  of the symbols (the number of pairs that a line E_k = a + b k would order differently). In
  d = 1 it can only change when two embeddings cross; :func:`order_changes` counts the recorded
  steps at which the order differs from the order at a given step (e.g. the fit);
- :func:`classify_phase`: comprehension / grokking / memorisation / confusion from the steps at
  which training and validation accuracy pass a threshold (the phases of Grokking II);
  :func:`classify_outcome`: what a run did by the end of its budget — generalised, memorised (fit on a
  representation that is not a line), did not fit, other (Grokking I).

All functions take NumPy arrays (or tensors, converted) and return NumPy values.
"""

from __future__ import annotations

import math

import numpy as np

from .. import validate as V

__all__ = ["unordered_pairs", "parallelograms", "training_parallelograms", "constraint_matrix",
           "permissible_parallelograms", "normalise_embeddings", "parallelogram_defects", "rqi",
           "predicted_accuracy", "effective_loss", "effective_loss_gradient", "effective_hessian",
           "hessian_spectrum", "null_space_dimension", "unique_linear_structure", "grokking_rate",
           "linear_flow", "effective_gradient_flow", "linearity_defect", "spacing_deviation", "order_inversions",
           "order_changes",
           "tied_symbol_pairs",
           "probability_unique",
           "critical_fraction", "PHASES", "classify_phase", "OUTCOMES", "classify_outcome"]


#: The most integration steps :func:`effective_gradient_flow` takes before it refuses (about a minute).
MAX_FLOW_STEPS = 10_000_000


def _embeddings(E, name: str = "E") -> np.ndarray:
    """Embeddings as a float (p, d) array (a vector (p,) is one-dimensional embeddings), finite, p ≥ 2."""
    E = V.array(name, E, ndim=(1, 2))
    E = E[:, None] if E.ndim == 1 else E
    if E.shape[0] < 2:
        raise V.ArgumentError(f"{name} must hold the embeddings of p ≥ 2 symbols (shape (p,) or (p, d)), "
                              f"got shape {E.shape}")
    return E


def _p(p) -> int:
    return V.integer("p", p, low=2)


def _symbols(name: str, value, width: int, p: int | None) -> np.ndarray:
    """Rows of ``width`` symbols (pairs: 2, parallelograms: 4) as an int array (n, width), each in 0 … p−1."""
    a = V.array(name, value, allow_empty=True)
    if a.size % width:
        raise V.ArgumentError(f"{name} must have shape (n, {width}) (rows of {width} symbols), got shape {a.shape}")
    if a.ndim > 2 or (a.ndim == 2 and a.size and a.shape[1] != width):
        raise V.ArgumentError(f"{name} must have shape (n, {width}) (rows of {width} symbols), got shape {a.shape}")
    if np.any(a != np.round(a)) or np.any(a < 0) or (p is not None and np.any(a >= p)):
        upper = f"{p - 1}" if p is not None else "p − 1"
        raise V.ArgumentError(f"{name} must hold integer symbols 0 … {upper}, got values from {a.min():g} to {a.max():g}")
    return a.astype(int).reshape(-1, width)


def _quads(quads, p: int) -> np.ndarray:
    return _symbols("quads", quads, 4, p)


def unordered_pairs(p: int) -> np.ndarray:
    """All unordered pairs (a, b), 0 ≤ a ≤ b < p, in the order of ``addition_table(p)``: (p(p+1)/2, 2)."""
    p = _p(p)
    # no mutate: python ints: int64 anyway, never empty
    return np.array([(a, b) for a in range(p) for b in range(a, p)], dtype=int)  # pragma: no mutate


def parallelograms(p: int) -> np.ndarray:
    """All parallelograms of p symbols: (i, j, m, n) with (i, j) < (m, n) two unordered pairs and
    i + j = m + n. Shape (Q, 4), lexicographic order."""
    pairs = unordered_pairs(p)
    out = [(*pairs[u], *pairs[v]) for u in range(len(pairs)) for v in range(u + 1, len(pairs))
           if pairs[u].sum() == pairs[v].sum()]
    return np.array(out, dtype=int).reshape(-1, 4)


def _pair_set(train_pairs, p: int | None = None, name: str = "train_pairs") -> set:
    tp = V.array(name, train_pairs, ndim=2, allow_empty=True)
    if tp.shape[1] != 2:
        raise V.ArgumentError(f"{name} must have shape (n, 2) (one pair of symbols per row), got shape {tp.shape}")
    tp = _symbols(name, tp, 2, p)
    return {(min(a, b), max(a, b)) for a, b in tp}


def training_parallelograms(train_pairs, p: int) -> np.ndarray:
    """P₀(D): the parallelograms (i, j, m, n) whose pairs (i, j) and (m, n) are both training pairs."""
    p = _p(p)
    D = _pair_set(train_pairs, p)
    Q = parallelograms(p)
    keep = [(i, j) in D and (m, n) in D for i, j, m, n in Q]
    return Q[np.asarray(keep, dtype=bool)] if len(Q) else Q


def constraint_matrix(quads, p: int) -> np.ndarray:
    """One row a = e_i + e_j − e_m − e_n per parallelogram: shape (len(quads), p).

    (A E)_q = E_i + E_j − E_m − E_n is the defect of parallelogram q.
    """
    p = _p(p)
    quads = _quads(quads, p)
    A = np.zeros((len(quads), p))
    rows = np.arange(len(quads))
    for col, sign in zip(range(4), (1.0, 1.0, -1.0, -1.0)):
        np.add.at(A, (rows, quads[:, col]), sign)
    return A


def permissible_parallelograms(train_pairs, p: int, *, tol: float = 1e-9) -> np.ndarray:
    """The parallelograms implied by the training set: rows in the span of P₀(D)'s constraint rows.

    They hold in every representation with zero training defects, P₀(D) ⊆ permissible ⊆ all.
    """
    tol = V.nonnegative("tol", tol)
    Q = parallelograms(p)
    A0 = constraint_matrix(training_parallelograms(train_pairs, p), p)
    if len(A0) == 0:
        return Q[:0]
    _, s, vt = np.linalg.svd(A0, full_matrices=False)  # pragma: no mutate (None is falsy too)
    basis = vt[s > tol * max(1.0, s[0])]
    A = constraint_matrix(Q, p)
    residual = A - (A @ basis.T) @ basis
    return Q[np.linalg.norm(residual, axis=1) < 1e-6]


def normalise_embeddings(E) -> np.ndarray:
    """(E − Ē)/√(Σ_k |E_k − Ē|²/p): zero mean and unit root-mean-square norm, shape (p, d)."""
    E = _embeddings(E)
    C = E - E.mean(axis=0)
    z = np.sqrt((C ** 2).sum() / len(E))
    if z == 0:
        raise V.ArgumentError("E: all embeddings coincide, the normalisation is undefined")
    return C / z


def parallelogram_defects(E, quads) -> np.ndarray:
    """|E_i + E_j − E_m − E_n| for each parallelogram (on the embeddings as given): shape (Q,)."""
    E = _embeddings(E)
    q = _quads(quads, len(E))
    return np.linalg.norm(E[q[:, 0]] + E[q[:, 1]] - E[q[:, 2]] - E[q[:, 3]], axis=1)


def rqi(E, p: int | None = None, *, delta: float = 0.05) -> float:
    """Representation quality index: the fraction of all parallelograms whose defect, on the
    normalised embeddings (:func:`normalise_embeddings`), is at most δ. 1 for E_k = a + b k."""
    E = _embeddings(E)
    p = len(E) if p is None else _p(p)
    if p > len(E):
        raise V.ArgumentError(f"p = {p} symbols, but E holds only {len(E)} embeddings")
    delta = V.nonnegative("delta", delta)
    Q = parallelograms(p)
    return float(np.mean(parallelogram_defects(normalise_embeddings(E), Q) <= delta))


def predicted_accuracy(E, train_pairs, eval_pairs, *, delta: float = 0.05) -> float:
    """The accuracy a representation implies on ``eval_pairs``: the fraction of pairs (i, j) that
    are training pairs or have a training pair (m, n) with m + n = i + j and
    |Ẽ_i + Ẽ_j − Ẽ_m − Ẽ_n| ≤ δ (normalised embeddings): their answer follows from a training answer."""
    Et = normalise_embeddings(E)
    p = len(Et)
    delta = V.nonnegative("delta", delta)
    # no mutate: an empty D is never used to index
    D = np.array(sorted(_pair_set(train_pairs, p)), dtype=int).reshape(-1, 2)  # pragma: no mutate
    ev = V.array("eval_pairs", eval_pairs, ndim=2, allow_empty=True)
    if len(ev) == 0:
        raise V.ArgumentError("eval_pairs is empty: no pairs to evaluate")
    if ev.shape[1] != 2:
        raise V.ArgumentError(f"eval_pairs must have shape (n, 2) (one pair of symbols per row), got shape {ev.shape}")
    ev = _symbols("eval_pairs", ev, 2, p)
    Dset = {tuple(x) for x in D}
    hits = 0
    for i, j in ev:
        if (min(i, j), max(i, j)) in Dset:
            hits += 1
            continue
        same = D[D.sum(axis=1) == i + j]
        if len(same) and (np.linalg.norm(Et[i] + Et[j] - Et[same[:, 0]] - Et[same[:, 1]], axis=1)
                          <= delta).any():
            hits += 1
    return hits / len(ev)


def effective_loss(E, quads) -> float:
    """ℓ_eff = Σ_{(i,j,m,n) ∈ quads} |E_i + E_j − E_m − E_n|² / Σ_k |E_k − Ē|² (scale and translation invariant)."""
    E = _embeddings(E)
    Z = ((E - E.mean(axis=0)) ** 2).sum()
    if Z == 0:
        raise V.ArgumentError("E: all embeddings coincide (Σ_k |E_k − Ē|² = 0): the effective loss is undefined")
    return float((parallelogram_defects(E, quads) ** 2).sum() / Z)


def effective_loss_gradient(E, quads) -> np.ndarray:
    """∇ℓ_eff = (2 H E − 2 ℓ_eff C E)/Z₀ with H = AᵀA, C = I − 11ᵀ/p: shape (p, d).

    Orthogonal to the all-ones direction and to E − Ē, so the flow conserves Σ_k E_k and Z₀.
    """
    E = _embeddings(E)
    p = len(E)
    H = effective_hessian(quads, p)
    CE = E - E.mean(axis=0)
    Z = (CE ** 2).sum()
    if Z == 0:
        raise V.ArgumentError("E: all embeddings coincide (Σ_k |E_k − Ē|² = 0): the effective loss is undefined")
    ell = float(np.trace(E.T @ H @ E)) / Z
    return (2 * H @ E - 2 * ell * CE) / Z


def effective_hessian(quads, p: int) -> np.ndarray:
    """H = AᵀA (p × p), so that ℓ₀ = Σ |E_i + E_j − E_m − E_n|² = tr(Eᵀ H E); ∇²ℓ₀ = 2H per dimension."""
    A = constraint_matrix(quads, p)
    return A.T @ A


def hessian_spectrum(quads, p: int) -> np.ndarray:
    """Eigenvalues of H = AᵀA in increasing order (the first two are always 0: translation and the
    linear structure E_k = k)."""
    return np.clip(np.linalg.eigvalsh(effective_hessian(quads, p)), 0.0, None)


def null_space_dimension(quads, p: int, *, tol: float = 1e-8) -> int:
    """dim ker H: the number of independent representations with zero training defects (≥ 2)."""
    tol = V.nonnegative("tol", tol)
    ev = hessian_spectrum(quads, p)
    return int((ev <= tol * max(1.0, ev[-1])).sum())


def unique_linear_structure(train_pairs, p: int) -> bool:
    """True when the training set pins E_k = a + b k (up to translation a and scale b): dim ker H = 2."""
    return null_space_dimension(training_parallelograms(train_pairs, p), p) == 2


def grokking_rate(quads, p: int) -> float:
    """λ₃, the third-smallest eigenvalue of H: the slowest decay rate of a non-linear component.

    Zero when the null space is larger than 2 (the structure is not pinned: no grokking).
    """
    if null_space_dimension(quads, p) > 2:
        return 0.0
    return float(hessian_spectrum(quads, p)[2])


def linear_flow(E0, quads, times, *, Z0: float | None = None) -> np.ndarray:
    """The linear gradient flow dE/dt = −(2/Z₀) H E of ℓ₀/Z₀ at fixed Z₀ (default Z₀ of E0):
    E(t) = V exp(−2Λt/Z₀) Vᵀ E(0). Returns shape (len(times), p, d)."""
    E0 = _embeddings(E0, "E0")
    p = len(E0)
    Z0 = float(((E0 - E0.mean(axis=0)) ** 2).sum()) if Z0 is None else V.positive("Z0", Z0)
    if Z0 == 0:
        raise V.ArgumentError("E0: all embeddings coincide (Z₀ = 0): give Z0 or embeddings that differ")
    t = V.array("times", times, ndim=1, allow_empty=True)
    lam, Vec = np.linalg.eigh(effective_hessian(quads, p))
    lam = np.clip(lam, 0.0, None)
    coef = Vec.T @ E0                                           # (p, d)
    decay = np.exp(-2.0 * lam[None, :] * t[:, None] / Z0)       # (T, p)
    return np.einsum("kl,tl,ld->tkd", Vec, decay, coef)


def effective_gradient_flow(E0, quads, times, *, max_dt: float = 0.01) -> np.ndarray:
    """The gradient flow dE/dt = −∇ℓ_eff of the normalised effective loss (RK4), at ``times``.

    Returns (len(times), p, d). Σ_k E_k and Z₀ are conserved (up to the integration error).
    ``max_dt`` > 0 is the largest RK4 step; at most :data:`MAX_FLOW_STEPS` steps are taken (a larger
    ``times[-1]/max_dt`` is refused up front, so no input makes the loop run for ever).
    """
    E = _embeddings(E0, "E0").copy()
    p = len(E)
    H = effective_hessian(quads, p)
    max_dt = V.positive("max_dt", max_dt)
    if ((E - E.mean(axis=0)) ** 2).sum() == 0:
        raise V.ArgumentError("E0: all embeddings coincide (Z₀ = 0): the effective loss is undefined")

    def grad(X):
        CX = X - X.mean(axis=0)
        Z = (CX ** 2).sum()
        ell = float(np.sum(X * (H @ X))) / Z
        return (2 * H @ X - 2 * ell * CX) / Z

    times = V.array("times", times, ndim=1, allow_empty=True)
    if (np.diff(times) < 0).any() or (times < 0).any():
        raise V.ArgumentError(f"times must be non-negative and increasing, got {V.show(times)}")
    if len(times) and math.ceil(times[-1] / max_dt) > MAX_FLOW_STEPS:
        raise V.ArgumentError(f"times[-1]/max_dt = {times[-1] / max_dt:.3g} RK4 steps is more than "
                              f"{MAX_FLOW_STEPS}: increase max_dt (now {max_dt:g}) or shorten times")
    out, t = [], 0.0
    for target in times:
        while t < target - 1e-12:
            h = min(max_dt, target - t)
            k1 = -grad(E)
            k2 = -grad(E + 0.5 * h * k1)
            k3 = -grad(E + 0.5 * h * k2)
            k4 = -grad(E + h * k3)
            E = E + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            t += h
        out.append(E.copy())
    return np.stack(out) if out else np.zeros((0, *E.shape))


def linearity_defect(E) -> np.ndarray:
    """1 − R² of a straight-line fit E_k ≈ a + b k of one-dimensional embeddings:
    ‖(I − P)(E − Ē)‖²/‖E − Ē‖², P the projector on k − k̄. ``E`` of shape (…, p) (e.g. a
    trajectory (T, p) or an ensemble (K, p)); 0 exactly for a linear structure E_k = a + b k."""
    E = V.array("E", E)
    if E.ndim == 0 or E.shape[-1] < 2:
        raise V.ArgumentError(f"E must have shape (..., p) with p ≥ 2 symbols, got shape {E.shape}")
    p = E.shape[-1]
    k = np.arange(p) - (p - 1) / 2
    C = E - E.mean(axis=-1, keepdims=True)
    if np.any((C ** 2).sum(axis=-1) == 0):
        raise V.ArgumentError("E: some embeddings are all equal (E_k = a for every k): the fit's R² is undefined")
    b = (C @ k) / (k @ k)
    R = C - b[..., None] * k
    return (R ** 2).sum(axis=-1) / (C ** 2).sum(axis=-1)


def spacing_deviation(E) -> np.ndarray:
    """√(mean_k (E_k − Ē − b k̃)²) / |b|, k̃ = k − k̄, b the slope of the least-squares line: how far one-dimensional
    embeddings ``E`` (…, p) are from an equally spaced line, in units of its spacing (0 for E_k = a + b k; far
    above 1 for a shuffled line, whose slope is small; NaN for constant E, which has no spacing)."""
    E = V.array("E", E)
    if E.ndim == 0 or E.shape[-1] < 2:
        raise V.ArgumentError(f"E must have shape (..., p) with p ≥ 2 symbols, got shape {E.shape}")
    k = np.arange(E.shape[-1]) - (E.shape[-1] - 1) / 2                  # centred, so Σ_k E_k k̃ = Σ_k (E_k − Ē) k̃
    b = (E * k).sum(axis=-1) / (k ** 2).sum()
    residual = E - E.mean(axis=-1, keepdims=True) - b[..., None] * k
    with np.errstate(divide="ignore", invalid="ignore"):                 # constant E: 0/0, NaN
        return np.sqrt((residual ** 2).mean(axis=-1)) / np.abs(b)


def order_inversions(E) -> np.ndarray:
    """Inversions of one-dimensional embeddings relative to the symbols' order:
    I(E) = min(n, p(p−1)/2 − n), n = #{i < j : E_i > E_j}. The minimum counts a line running
    either way (b > 0 or b < 0) as ordered. ``E`` of shape (…, p); returns integers of shape (…).
    0 for E_k = a + b k with b ≠ 0; it changes only when two embeddings cross (E_i = E_j)."""
    E = V.array("E", E)
    if E.ndim == 0 or E.shape[-1] < 2:
        raise V.ArgumentError(f"E: need embeddings of shape (..., p) with p ≥ 2, got shape {E.shape}")
    p = E.shape[-1]
    i, j = np.triu_indices(p, k=1)  # pragma: no mutate (i = j never counts: E_i > E_i)
    n = (E[..., i] > E[..., j]).sum(axis=-1)
    return np.minimum(n, p * (p - 1) // 2 - n)


def order_changes(E, start: int, symbol_pairs=None) -> int:
    """Along a trajectory of one-dimensional embeddings ``E`` of shape (T, p): the number of records
    t > ``start`` at which the symbols, sorted by their embedding, come in another order than at
    ``start``, #{t > start : argsort E(t) ≠ argsort E(start)}. 0 when the order is fixed from ``start`` on.

    With ``symbol_pairs`` (an (n, 2) array of symbols i ≠ j), only the relative order of those pairs
    counts: #{t > start : sign(E_i − E_j)(t) ≠ sign(E_i − E_j)(start) for some listed pair}."""
    E = V.array("E", E)
    if E.ndim != 2:
        raise V.ArgumentError(f"E: need a trajectory of shape (T, p), got shape {E.shape}")
    start = V.integer("start (a record index)", start, low=0, high=len(E) - 1)
    if symbol_pairs is not None:
        sp = _symbols("symbol_pairs", symbol_pairs, 2, E.shape[1])
        if len(sp) == 0:
            return 0
        sign = np.sign(E[start:, sp[:, 0]] - E[start:, sp[:, 1]])
        return int((sign[1:] != sign[0]).any(axis=-1).sum())  # pragma: no mutate (2-d: axis 1 is -1)
    rank = np.argsort(E[start:], axis=-1)  # pragma: no mutate (2-d: axis 1 and the default are -1)
    return int((rank[1:] != rank[0]).any(axis=-1).sum())  # pragma: no mutate (2-d: axis 1 is -1)


def tied_symbol_pairs(train_pairs, p: int) -> np.ndarray:
    """The pairs of symbols i < j that a training set ties: some symbol k (k = i or j included) with
    both {i, k} and {j, k} training pairs. Their sums differ, so E_i = E_j would send two training
    pairs with different targets to the same decoder input: such a pair cannot cross without
    breaking a fit. Returns an (n, 2) integer array."""
    p = _p(p)
    D = _pair_set(train_pairs, p)
    out = [(i, j) for i in range(p) for j in range(i + 1, p)
           if any((min(i, k), max(i, k)) in D and (min(j, k), max(j, k)) in D for k in range(p))]
    return np.array(out, dtype=int).reshape(-1, 2)


def probability_unique(p: int, n_train, *, n_splits: int = 200, seed: int = 0) -> np.ndarray:
    """Probability that a random training set of n pairs (uniform among the p(p+1)/2) pins a unique
    linear structure, estimated over ``n_splits`` random splits per size. Returns one value per n."""
    n_splits = V.positive_int("n_splits", n_splits)
    pairs = unordered_pairs(p)
    N = len(pairs)
    sizes = np.atleast_1d(V.array("n_train", n_train, ndim=(0, 1)))
    if np.any(sizes != np.round(sizes)) or (sizes < 0).any() or (sizes > N).any():
        raise V.ArgumentError(f"n_train (training-set sizes) must be integers in 0 … {N}, got {V.show(n_train)}")
    sizes = sizes.astype(int)
    rng = V.generator("seed", seed)
    Q = parallelograms(p)
    A = constraint_matrix(Q, p)
    index = {tuple(x): u for u, x in enumerate(pairs)}
    qu = np.array([[index[(i, j)], index[(m, n)]] for i, j, m, n in Q], dtype=int).reshape(-1, 2)   # p = 2: none
    out = []
    for n in sizes:
        hits = 0
        for _ in range(n_splits):
            inside = np.zeros(N, dtype=bool)
            inside[rng.permutation(N)[:n]] = True
            rows = A[inside[qu[:, 0]] & inside[qu[:, 1]]]
            rank = np.linalg.matrix_rank(rows) if len(rows) else 0  # pragma: no mutate (matrix_rank of no rows is 0)
            hits += rank == p - 2                 # dim ker H = p − rank A = 2
        out.append(hits / n_splits)
    return np.asarray(out)


def critical_fraction(fractions, probabilities, level: float = 0.5) -> float:
    """The training fraction at which the probability first reaches ``level`` (linear interpolation)."""
    dims = V.Dims()
    f = V.array("fractions", fractions, shape=("n",), dims=dims)
    pr = V.array("probabilities", probabilities, shape=("n",), dims=dims)
    level = V.real("level", level)
    above = np.flatnonzero(pr >= level)
    if len(above) == 0:
        return float("nan")
    i = above[0]
    if i == 0:
        return float(f[0])
    return float(f[i - 1] + (level - pr[i - 1]) * (f[i] - f[i - 1]) / (pr[i] - pr[i - 1]))


#: The four phases, in the order of their integer codes.
PHASES = ("comprehension", "grokking", "memorisation", "confusion")


def classify_phase(train_step, val_step, *, budget: float, delay_ratio: float = 1.0,
                   min_delay: float | None = None) -> np.ndarray:
    """Phase codes (indices into :data:`PHASES`) from the steps at which training and validation
    accuracy first pass the threshold (NaN or inf: never within ``budget``):

    - confusion (3): training accuracy never gets there;
    - memorisation (2): training does, validation never does;
    - grokking (1): both do, but validation only after t_val > delay_ratio·t_train + min_delay;
    - comprehension (0): both do, validation within that delay.

    The default rule (``delay_ratio=1``, ``min_delay=budget/10``): grokking when validation
    arrives more than a tenth of the step budget after training, as in Liu et al. (2022), who
    compare both with fixed step windows.
    """
    tr = V.array("train_step", train_step, finite=False, allow_empty=True)  # pragma: no mutate (None is falsy too)
    va = V.array("val_step", val_step, finite=False, allow_empty=True)  # pragma: no mutate (None is falsy too)
    try:
        np.broadcast_shapes(tr.shape, va.shape)
    except ValueError:
        raise V.ArgumentError(f"train_step and val_step must have the same shape, got {tr.shape} and {va.shape}") \
            from None
    budget = V.positive("budget", budget)
    delay_ratio = V.nonnegative("delay_ratio", delay_ratio)
    min_delay = budget / 10 if min_delay is None else V.nonnegative("min_delay", min_delay)
    tr_ok = np.isfinite(tr) & (tr <= budget)
    va_ok = np.isfinite(va) & (va <= budget)
    late = va > delay_ratio * np.where(np.isfinite(tr), tr, 0) + min_delay
    return np.where(~tr_ok, 3, np.where(~va_ok, 2, np.where(late, 1, 0))).astype(int)


#: What a run did by the end of its budget (codes of :func:`classify_outcome`).
OUTCOMES = ("generalised", "memorised", "did not fit", "other")


def classify_outcome(generalised, train_acc, rqi, *, threshold: float = 0.9) -> np.ndarray:
    """Outcome codes (indices into :data:`OUTCOMES`) of runs at the end of training: 0 generalised; otherwise
    2 did not fit (training accuracy < ``threshold``), 1 memorised (fit, RQI < ``threshold``: the decoder fit the
    training pairs on a representation that is not a line), 3 other (fit on a line that is not read out)."""
    gen = V.array("generalised", generalised, dtype=bool, allow_empty=True)
    tr = V.array("train_acc", train_acc, allow_empty=True)
    q = V.array("rqi", rqi, finite=False, allow_empty=True)
    if not gen.shape == tr.shape == q.shape:
        raise V.ArgumentError(f"generalised, train_acc and rqi must have the same shape, got {gen.shape}, "
                              f"{tr.shape} and {q.shape}")
    threshold = V.fraction("threshold", threshold)
    return np.where(gen, 0, np.where(tr < threshold, 2, np.where(q < threshold, 1, 3))).astype(int)
