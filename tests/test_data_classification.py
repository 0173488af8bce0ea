import gzip
import struct

import numpy as np
import pytest
import torch

from course_utils.data import classification as C


def test_digits_ship_offline():
    z, y = C.load_digits()
    assert z.shape == (1797, 64) and y.shape == (1797,)
    assert z.dtype == torch.float32 and y.dtype == torch.int64
    assert set(y.tolist()) == set(range(10)) and float(z.max()) == 16.0


def test_balanced_indices_and_split():
    z, y = C.load_digits()
    idx = C.balanced_indices(y, 174)
    assert torch.equal(torch.bincount(y[idx]), torch.full((10,), 174))
    assert len(set(idx.tolist())) == len(idx)
    (zT, yT), (zV, yV) = C.train_val_split(z, y, 20, 60, seed=1)
    assert torch.equal(torch.bincount(yT), torch.full((10,), 20))
    assert torch.equal(torch.bincount(yV), torch.full((10,), 60))
    ids = torch.arange(len(y), dtype=torch.float64)[:, None]  # each row carries its own index
    (iT, _), (iV, _) = C.train_val_split(ids, y, 20, 60, seed=1)
    assert not set(iT.flatten().tolist()) & set(iV.flatten().tolist())
    with pytest.raises(ValueError, match="fewer"):
        C.balanced_indices(y, 1000)


def test_standardize_and_pca_embedding():
    z, _ = C.load_digits(dtype=torch.float64)
    zs = C.standardize(z)
    assert torch.all(zs[:, 0] == 0)  # a blank corner pixel
    live = z.std(0) > 0
    assert torch.allclose(zs[:, live].mean(0), torch.zeros(int(live.sum()), dtype=torch.float64), atol=1e-12)
    e = C.pca_embed(z, 8)
    assert e.shape == (1797, 8)
    assert torch.allclose(torch.cov(e.T), torch.eye(8, dtype=torch.float64), atol=1e-9)
    with pytest.raises(ValueError, match="E must"):
        C.pca_embed(z, 65)


def test_gaussian_classes():
    z, y = C.gaussian_classes(300, 7, 3, separation=2.0, seed=4)
    assert z.shape == (300, 7) and torch.equal(torch.bincount(y), torch.full((3,), 100))
    z2, _ = C.gaussian_classes(300, 7, 3, separation=2.0, seed=4)
    assert torch.equal(z, z2)
    with pytest.raises(ValueError):
        C.gaussian_classes(10, 3, 1)


def _write_idx(path, array):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def test_fashion_mnist_loader_downloads_caches_and_parses(tmp_path):
    """The real loading code, on four small IDX files served from a local folder."""
    server = tmp_path / "server"
    server.mkdir()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28))
    labels = np.array([3, 1, 4, 1, 5])
    for img, lab in C.FASHION_MNIST_FILES.values():
        _write_idx(server / img, images)
        _write_idx(server / lab, labels)
    cache = tmp_path / "cache"
    z, y = C.load_fashion_mnist("test", cache=cache, url=server.as_uri())
    assert z.shape == (5, 784) and torch.equal(y, torch.tensor(labels))
    assert np.array_equal(z[2].numpy().reshape(28, 28), images[2])
    # second call reads the cache: the (now unreachable) URL is not used
    z2, _ = C.load_fashion_mnist("test", cache=cache, url=(tmp_path / "gone").as_uri())
    assert torch.equal(z, z2)


def test_fashion_mnist_offline_names_the_fallback(tmp_path):
    with pytest.raises(RuntimeError, match="load_digits"):
        C.load_fashion_mnist("train", cache=tmp_path, url=(tmp_path / "nowhere").as_uri())
    with pytest.raises(ValueError, match="split"):
        C.load_fashion_mnist("validation", cache=tmp_path)


def test_read_idx_rejects_other_files(tmp_path):
    bad = tmp_path / "x.idx"
    bad.write_bytes(b"hello world")
    with pytest.raises(ValueError, match="IDX"):
        C.read_idx(bad)


def test_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert C.cache_dir() == tmp_path
