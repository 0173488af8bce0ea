"""Classification data for the chapter "The loss as an action": inputs z ∈ R^E and labels 0 … M−1.

- :func:`load_digits`: scikit-learn's 8×8 handwritten digits (1797 images, E = 64, M = 10),
  shipped with scikit-learn, so always available offline;
- :func:`gaussian_classes`: synthetic classes, Gaussian clouds around random class means, any E;
- :func:`load_fashion_mnist`: Fashion-MNIST (70 000 images, E = 784, M = 10), an *optional*
  download that is cached under a cache directory. Offline it fails with a message that names
  the offline fallback (:func:`load_digits`). No test and no default chapter run needs it;
- helpers: :func:`balanced_indices` (equal counts per class), :func:`train_val_split`,
  :func:`standardize`, :func:`pca_embed` (an E-dimensional embedding of the inputs).

All loaders return ``(z, y)`` as torch tensors: z of shape (N, E), y of shape (N,) (int64).
"""

from __future__ import annotations

import gzip
import os
import pathlib
import shutil
import struct
import urllib.error
import urllib.request

import numpy as np
import torch

from .. import validate
from ..validate import float_dtype, int_tensor
from ..validate import ArgumentError

__all__ = ["load_digits", "gaussian_classes", "balanced_indices", "train_val_split", "standardize",
           "pca_embed", "cache_dir", "load_fashion_mnist", "read_idx", "FASHION_MNIST_URL",
           "FASHION_MNIST_FILES"]


def load_digits(*, dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's 8×8 digits: z of shape (1797, 64) with pixel values 0 … 16, y in 0 … 9.

    Ships with scikit-learn: no download. Classes are nearly, not exactly, balanced
    (174 to 183 images each); :func:`balanced_indices` makes them exactly balanced.
    ``dtype`` defaults to torch's default dtype.
    """
    from sklearn.datasets import load_digits as _load

    dtype = float_dtype("dtype", dtype)
    d = _load()
    return (torch.as_tensor(d.data, dtype=dtype or torch.get_default_dtype()),
            torch.as_tensor(d.target, dtype=torch.int64))


def gaussian_classes(n: int, E: int, M: int, *, separation: float = 1.0, seed: int = 0,
                     dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """n samples of M balanced synthetic classes in R^E: z = μ_y + ξ, ξ ~ N(0, I_E).

    The class means μ_α have independent N(0, separation²/E) entries, so |μ_α| ≈ separation
    whatever E is. Labels cycle 0, 1, …, M−1: every class has n/M samples when M divides n.
    ``dtype`` defaults to torch's default dtype.
    """
    n, E = validate.positive_int("n", n), validate.positive_int("E", E)
    M = validate.integer("M (the number of classes)", M, low=2)
    separation = validate.nonnegative("separation", separation)
    seed = validate.nonnegative_int("seed", seed)
    dtype = float_dtype("dtype", dtype)
    g = torch.Generator().manual_seed(seed)
    means = separation * torch.randn(M, E, generator=g, dtype=torch.float64) / np.sqrt(E)
    y = torch.arange(n) % M
    z = means[y] + torch.randn(n, E, generator=g, dtype=torch.float64)
    return z.to(dtype or torch.get_default_dtype()), y


def balanced_indices(y: torch.Tensor, per_class: int, *, seed: int = 0) -> torch.Tensor:
    """Indices of ``per_class`` samples of every class, drawn at random (seeded), sorted by class.

    Raises ``ValueError`` if some class has fewer samples than asked for.
    """
    y = int_tensor("y (the labels)", y)
    if y.dim() != 1:
        raise ArgumentError(f"y must be a vector of labels, got shape {tuple(y.shape)}")
    if y.numel() == 0:
        raise ArgumentError("y (the labels) is empty: there is no class to draw samples from")
    per_class = validate.positive_int("per_class", per_class)
    seed = validate.nonnegative_int("seed", seed)
    g = torch.Generator().manual_seed(seed)
    out = []
    for c in torch.unique(y):
        idx = torch.nonzero(y == c).flatten()
        if len(idx) < per_class:
            raise ArgumentError(f"y (the labels): class {int(c)} has only {len(idx)} samples, "
                                f"fewer than per_class={per_class}")
        out.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
    return torch.cat(out)


def train_val_split(z: torch.Tensor, y: torch.Tensor, n_train_per_class: int, n_val_per_class: int,
                    *, seed: int = 0) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """Disjoint, exactly balanced training and validation sets: ((z_T, y_T), (z_V, y_V)).

    ``n_train_per_class`` ≥ 1 and ``n_val_per_class`` ≥ 0 samples of every class; z (N, …) and y (N,)
    must have the same N.
    """
    dims = validate.Dims()
    y = int_tensor("y (the labels)", y, shape=("N",), dims=dims)
    z = validate.tensor("z", z, dims=dims, shape=("N",) + (None,) * (np.ndim(z) - 1) if np.ndim(z) >= 1 else ("N",))
    n_train_per_class = validate.positive_int("n_train_per_class", n_train_per_class)
    n_val_per_class = validate.nonnegative_int("n_val_per_class", n_val_per_class)
    idx = balanced_indices(y, n_train_per_class + n_val_per_class, seed=seed)
    y_sel = y[idx]
    train, val = [], []
    for c in torch.unique(y_sel):
        ic = idx[y_sel == c]
        train.append(ic[:n_train_per_class])
        val.append(ic[n_train_per_class:])
    it, iv = torch.cat(train), torch.cat(val)
    return (z[it], y[it]), (z[iv], y[iv])


def standardize(z: torch.Tensor, reference: torch.Tensor | None = None, eps: float = 1e-8) -> torch.Tensor:
    """(z − mean) / std per input coordinate, with mean and std taken over ``reference`` (default z).

    Constant coordinates (std = 0, e.g. the always-blank corner pixels of the digits) become 0.
    ``reference`` is converted to z's dtype; it needs at least two rows (a standard deviation).
    """
    z, ref = _z_and_reference(z, reference)
    validate.positive("eps", eps)
    if ref.shape[0] < 2:
        raise ArgumentError(f"the reference set needs at least 2 samples for a standard deviation, got {ref.shape[0]}")
    mean, std = ref.mean(0), ref.std(0)
    return torch.where(std > eps, (z - mean) / std.clamp_min(eps), torch.zeros_like(z))


def pca_embed(z: torch.Tensor, E: int, reference: torch.Tensor | None = None, *,
              whiten: bool = True) -> torch.Tensor:
    """Project z onto the top ``E`` principal components of ``reference`` (default z): an E-dim embedding.

    With ``whiten`` each component is divided by its standard deviation (unit variance over the
    reference set), so inputs of every E have entries of order one.
    """
    z, ref = _z_and_reference(z, reference)
    whiten = validate.flag("whiten", whiten)
    if isinstance(E, float):
        raise ArgumentError(f"E must be an integer from 1 to {ref.shape[1]}, got {E!r}")
    E = validate.integer("E", E, low=1, high=ref.shape[1])
    mean = ref.mean(0)
    _, s, Vt = torch.linalg.svd((ref - mean).to(torch.float64), full_matrices=False)
    proj = (z.to(torch.float64) - mean) @ Vt[:E].T
    if whiten:
        proj = proj / (s[:E] / np.sqrt(max(ref.shape[0] - 1, 1))).clamp_min(1e-12)
    return proj.to(z.dtype)


def _z_and_reference(z, reference) -> tuple[torch.Tensor, torch.Tensor]:
    """z (N, E) as a floating tensor and the reference set (default z), converted to z's dtype."""
    dims = validate.Dims()
    z = validate.tensor("z", z, shape=("N", "E"), dims=dims)
    if not z.is_floating_point():
        z = z.to(torch.get_default_dtype())
    if reference is None:
        return z, z
    return z, validate.tensor("reference", reference, shape=("N_ref", "E"), dims=dims, dtype=z.dtype, device_=z.device)


# ----------------------------------------------------------------------------------------------
# Fashion-MNIST: optional, downloaded once and cached
# ----------------------------------------------------------------------------------------------

#: Where the four gzipped IDX files of Fashion-MNIST are fetched from (override with
#: the environment variable ``COURSE_FASHION_MNIST_URL`` or the ``url`` argument).
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def cache_dir() -> pathlib.Path:
    """The download cache: ``$COURSE_DATA_DIR`` if set, else ``~/.cache/course_utils``."""
    return pathlib.Path(os.environ.get("COURSE_DATA_DIR") or pathlib.Path.home() / ".cache" / "course_utils")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format; gzipped or not) into a NumPy array of unsigned bytes."""
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentError(f"path must be a file name (a str or pathlib.Path), got {validate.show(path)}")
    path = pathlib.Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    ndim = data[3]
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape} but the file holds {body.size} values")
    return body.reshape(shape)


def _fetch(url: str, target: pathlib.Path, timeout: float) -> None:
    tmp = target.with_suffix(target.suffix + ".part")
    with urllib.request.urlopen(url, timeout=timeout) as r, open(tmp, "wb") as f:
        shutil.copyfileobj(r, f)
    tmp.replace(target)


def load_fashion_mnist(split: str = "train", *, cache: str | os.PathLike | None = None,
                       url: str | None = None, timeout: float = 30.0,
                       dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST (optional): z of shape (60 000 or 10 000, 784) with pixels 0 … 255, y in 0 … 9.

    The files are downloaded on first use into ``cache`` (default :func:`cache_dir`) and read
    from there afterwards. Without a network the download fails with a ``RuntimeError`` that
    says so and names the offline fallback, :func:`load_digits`.
    """
    split = validate.choice("split", split, tuple(FASHION_MNIST_FILES))
    for name, value in (("cache", cache), ("url", url)):
        if value is not None and not isinstance(value, (str, os.PathLike)):
            raise ArgumentError(f"{name} must be a {'folder' if name == 'cache' else 'web address'} (a str), "
                                f"got {validate.show(value)}")
    if isinstance(url, str) and not url.strip():
        raise ArgumentError("url must be a web address (or None for the default), got an empty string")
    timeout = validate.positive("timeout (in seconds)", timeout)
    dtype = float_dtype("dtype", dtype)
    base = url or os.environ.get("COURSE_FASHION_MNIST_URL") or FASHION_MNIST_URL
    folder = pathlib.Path(cache) if cache is not None else cache_dir()
    folder = folder / "fashion_mnist"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in FASHION_MNIST_FILES[split]:
        target = folder / name
        if not target.exists():
            try:
                _fetch(base.rstrip("/") + "/" + name, target, timeout)
            except (urllib.error.URLError, OSError, TimeoutError) as err:
                raise RuntimeError(
                    f"could not download Fashion-MNIST file {name} from {base} ({err}). "
                    "Are you offline? Use the offline fallback instead: "
                    "course_utils.data.classification.load_digits() (scikit-learn's digits, no "
                    f"download); or put the four .gz files into {folder} by hand.") from err
        paths.append(target)
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"Fashion-MNIST {split}: {images.shape[0]} images but {labels.shape[0]} labels")
    z = torch.as_tensor(images.reshape(images.shape[0], -1).astype(np.float32),
                        dtype=dtype or torch.get_default_dtype())
    return z, torch.as_tensor(labels.astype(np.int64))
