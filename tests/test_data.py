"""MNIST reading, checking and download on test-written files; preprocessing; batching; real MNIST."""
import gzip
import hashlib
import os
import struct

import numpy as np
import pytest

from minidi.data import batches, epoch_order, load_dataset, mnist, synthetic
from minidi.data.download import download
from minidi.errors import MinidiError


def write_idx(path, array, magic=None, header_dims=None, compress=True):
    """Write an IDX file (gzip'd) the way the MNIST distribution does."""
    magic = magic if magic is not None else (2051 if array.ndim == 3 else 2049)
    dims = header_dims if header_dims is not None else array.shape
    raw = struct.pack(f">i{len(dims)}i", magic, *dims) + array.astype(np.uint8).tobytes()
    with open(path, "wb") as f:
        f.write(gzip.compress(raw) if compress else raw)
    return path


def test_read_idx_round_trip(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
    got = mnist.read_idx(write_idx(tmp_path / "i.gz", images), 2051)
    assert got.dtype == np.uint8 and np.array_equal(got, images)
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    assert np.array_equal(mnist.read_idx(write_idx(tmp_path / "l.gz", labels), 2049), labels)


def test_read_idx_rejects_wrong_magic(tmp_path):
    path = write_idx(tmp_path / "x.gz", np.zeros((2, 4, 4)), magic=2049, header_dims=(2, 4, 4))
    with pytest.raises(MinidiError, match="x.gz has IDX magic 2049, expected 2051"):
        mnist.read_idx(path, 2051)


def test_read_idx_rejects_truncated_data(tmp_path):
    path = write_idx(tmp_path / "t.gz", np.zeros((2, 4, 4)), header_dims=(3, 4, 4))
    with pytest.raises(MinidiError, match="t.gz holds 32 data bytes"):
        mnist.read_idx(path, 2051)


def test_read_idx_rejects_truncated_gzip_and_non_gzip(tmp_path):
    good = write_idx(tmp_path / "g.gz", np.zeros((20, 28, 28)))
    data = open(good, "rb").read()
    (tmp_path / "cut.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(MinidiError, match="cut.gz is not a readable gzip file"):
        mnist.read_idx(tmp_path / "cut.gz", 2051)
    (tmp_path / "plain.gz").write_bytes(b"hello, not gzip")
    with pytest.raises(MinidiError, match="plain.gz is not a readable gzip file"):
        mnist.read_idx(tmp_path / "plain.gz", 2051)
    with pytest.raises(MinidiError, match="missing data file"):
        mnist.read_idx(tmp_path / "absent.gz", 2051)


def _fake_mnist(folder, monkeypatch):
    """Four small valid IDX files in `folder`, and FILES pointed at their real MD5 sums."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    sums = {}
    for prefix, n in (("train", 30), ("t10k", 10)):
        for kind, arr in (("images-idx3", rng.integers(0, 256, (n, 28, 28))), ("labels-idx1", rng.integers(0, 10, n))):
            name = f"{prefix}-{kind}-ubyte.gz"
            write_idx(folder / name, arr)
            sums[name] = hashlib.md5((folder / name).read_bytes()).hexdigest()
    monkeypatch.setattr(mnist, "FILES", sums)
    return sums


def test_corrupt_local_file_is_a_clear_error_naming_it(tmp_path, monkeypatch):
    _fake_mnist(tmp_path / "mnist", monkeypatch)
    path = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(MinidiError, match="t10k-labels-idx1-ubyte.gz is corrupt or truncated"):
        mnist.load_raw(str(tmp_path), download_ok=False)


def test_search_order_data_dir_then_env_then_cache(tmp_path, monkeypatch):
    _fake_mnist(tmp_path / "env" / "mnist", monkeypatch)
    monkeypatch.setenv("MINIDI_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert mnist.find_mnist(None) == str(tmp_path / "env" / "mnist")
    _fake_mnist(tmp_path / "given", monkeypatch)
    assert mnist.find_mnist(str(tmp_path / "given")) == str(tmp_path / "given")
    monkeypatch.delenv("MINIDI_DATA")
    with pytest.raises(MinidiError, match="MNIST not found"):
        mnist.find_mnist(None, download_ok=False)


def test_an_explicit_data_dir_is_the_only_place_searched(tmp_path, monkeypatch):
    _fake_mnist(tmp_path / "env" / "mnist", monkeypatch)              # a complete copy the search must not use
    monkeypatch.setenv("MINIDI_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    _fake_mnist(tmp_path / "given", monkeypatch)
    os.remove(tmp_path / "given" / "t10k-images-idx3-ubyte.gz")
    with pytest.raises(MinidiError) as info:
        mnist.find_mnist(str(tmp_path / "given"))
    message = str(info.value)
    assert f"{tmp_path / 'given'} (lacks t10k-images-idx3-ubyte.gz)" in message
    assert f"{tmp_path / 'given' / 'mnist'} (does not exist)" in message
    assert "download" not in message and str(tmp_path / "env") not in message
    with pytest.raises(MinidiError, match="data folder .*nowhere does not exist"):
        mnist.find_mnist(str(tmp_path / "nowhere"))
    assert not os.path.exists(tmp_path / "home")                      # nothing downloaded anywhere


def test_a_failed_download_names_the_missing_file_and_the_folders_searched(tmp_path, monkeypatch):
    sums = _fake_mnist(tmp_path / "env" / "mnist", monkeypatch)
    os.remove(tmp_path / "env" / "mnist" / "t10k-labels-idx1-ubyte.gz")
    monkeypatch.setenv("MINIDI_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(mnist, "MIRRORS", ["file:///nonexistent/"])
    with pytest.raises(MinidiError) as info:
        mnist.find_mnist(None)
    message = str(info.value)
    assert message.startswith(f"MNIST not found: searched {tmp_path / 'env' / 'mnist'} (lacks t10k-labels-idx1")
    assert "could not download train-images-idx3-ubyte.gz" in message and len(sums) == 4


def test_download_verifies_md5_and_writes_atomically(tmp_path, monkeypatch):
    sums = _fake_mnist(tmp_path / "mirror", monkeypatch)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MINIDI_DATA", raising=False)
    monkeypatch.setattr(mnist, "MIRRORS", ["file:///nonexistent/", (tmp_path / "mirror").as_uri() + "/"])
    folder = mnist.find_mnist(None)                           # first mirror fails, second serves
    assert folder == str(tmp_path / "home" / ".cache" / "minidi" / "mnist")
    assert sorted(os.listdir(folder)) == sorted(sums)         # no temporary files left behind
    raw = mnist.load_raw(None)
    assert raw["train"][0].shape == (30, 28, 28) and raw["test"][1].shape == (10,)


def test_download_with_wrong_md5_leaves_nothing(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"payload")
    target = tmp_path / "out" / "file.gz"
    with pytest.raises(MinidiError, match="could not download file.gz.*MD5"):
        download([src.as_uri()], str(target), "0" * 32)
    assert not (tmp_path / "out").exists()                    # nothing written, not even a temporary file


def test_bilinear_resize_matches_the_interpolation_formula():
    r = mnist.bilinear_matrix(28, 32)
    np.testing.assert_allclose(r.sum(axis=1), 1.0)            # a partition of unity: constants stay constant
    c = 5.5 * 28 / 32 - 0.5                                   # output pixel 5 samples input position c
    lo = int(np.floor(c))
    assert r[5, lo] == pytest.approx(1 - (c - lo)) and r[5, lo + 1] == pytest.approx(c - lo)
    ramp = np.tile(np.arange(28, dtype=np.float64) * 9, (1, 28, 1))   # a horizontal ramp, 0..243
    out = mnist.resize(ramp.astype(np.uint8), 32)
    expected = np.clip(np.arange(32) * 28 / 32 + 28 / 64 - 0.5, 0, 27) * 9
    np.testing.assert_allclose(out[0, 7], np.rint(expected), atol=1)
    assert (out[0] == out[0, 0]).all(axis=0).all()            # each column constant: rows are untouched


def test_preprocess_normalizes_and_flattens():
    images = np.full((2, 28, 28), 255, np.uint8)
    x = mnist.preprocess(images, resize_to=32)
    assert x.shape == (2, 1024) and x.dtype == np.float32
    np.testing.assert_allclose(x, (1 - 0.1307) / 0.3081, rtol=1e-6)
    assert mnist.preprocess(images, resize_to=None, flatten=False).shape == (2, 1, 28, 28)


def test_real_mnist_shapes_counts_and_statistics(mnist_dir):
    raw = mnist.load_raw(os.path.dirname(mnist_dir), download_ok=False)
    (xtr, ytr), (xte, _) = raw["train"], raw["test"]
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28)
    assert np.bincount(ytr).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    x = mnist.preprocess(xtr[:2000], resize_to=32)
    assert x.shape == (2000, 1024)
    assert abs(float(x.mean())) < 0.05 and abs(float(x.std()) - 1) < 0.1   # normalized by MNIST's own stats


def test_epoch_order_is_a_seeded_permutation():
    a, b, c = epoch_order(100, 0, 3), epoch_order(100, 0, 3), epoch_order(100, 0, 4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(np.sort(a), np.arange(100))


def test_batches_cover_every_sample_once():
    x, y = np.arange(23)[:, None], np.arange(23)
    order = epoch_order(23, 1, 0)
    got = list(batches(x, y, 5, order))
    assert [len(b[1]) for b in got] == [5, 5, 5, 5, 3]
    seen = np.concatenate([b[1] for b in got])
    assert np.array_equal(seen, order) and np.array_equal(np.concatenate([b[0][:, 0] for b in got]), seen)


def test_synthetic_data_shapes_and_determinism():
    x, y = synthetic(50, 12, 3, seed=1)
    x2, y2 = synthetic(50, 12, 3, seed=1)
    assert x.shape == (50, 12) and set(np.unique(y)) <= {0, 1, 2}
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    xi, _ = synthetic(4, image_shape=(1, 8, 8))
    assert xi.shape == (4, 1, 8, 8)
    with pytest.raises(MinidiError, match="unknown dataset"):
        load_dataset("cifar7")
