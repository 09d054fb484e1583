"""CIFAR readers on test-written binary files (valid, truncated, corrupt, archived, downloaded), the
augmentation, and CNN training on CIFAR-sized synthetic data."""
import hashlib
import io
import json
import os
import tarfile

import numpy as np
import pytest
from click.testing import CliRunner

from minidi.backend import to_numpy
from minidi.cli import main
from minidi.data import cifar, load_dataset, random_crop_flip
from minidi.errors import MinidiError


def records(n, label_bytes, classes, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, (n, label_bytes)).astype(np.uint8)
    images = rng.integers(0, 256, (n, 3072)).astype(np.uint8)
    return np.concatenate([labels, images], axis=1), labels[:, -1], images.reshape(n, 3, 32, 32)


def write_cifar(folder, name, per_file=4, seed=0):
    """The binary layout of `name` under folder/<spec folder>/, with per_file records in every file."""
    spec = cifar.SPECS[name]
    sub = folder / spec["folder"]
    sub.mkdir(parents=True, exist_ok=True)
    truth = {}
    for k, f in enumerate(spec["train"] + spec["test"]):
        raw, labels, images = records(per_file, spec["label_bytes"], spec["classes"], seed + k)
        (sub / f).write_bytes(raw.tobytes())
        truth[f] = (labels, images)
    return truth


@pytest.fixture
def small(monkeypatch):
    monkeypatch.setattr(cifar, "EXPECTED", {"cifar10": (20, 4), "cifar100": (4, 4)})


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_reads_binary_records_in_order(tmp_path, small, name):
    truth = write_cifar(tmp_path, name)
    raw = cifar.load_raw(name, str(tmp_path), download_ok=False)
    spec = cifar.SPECS[name]
    images, labels = raw["train"]
    assert images.shape == (len(spec["train"]) * 4, 3, 32, 32) and images.dtype == np.uint8
    first = truth[spec["train"][0]]
    np.testing.assert_array_equal(labels[:4], first[0])                   # the fine label for CIFAR-100
    np.testing.assert_array_equal(images[:4], first[1])                   # R, G, B planes of 32×32 rows
    np.testing.assert_array_equal(raw["test"][1], truth[spec["test"][0]][0])


def test_normalization_per_channel(tmp_path, small):
    write_cifar(tmp_path, "cifar10")
    data = load_dataset("cifar10", str(tmp_path), (3, 32), download_ok=False)
    x = data["train"][0]
    raw = cifar.load_raw("cifar10", str(tmp_path), download_ok=False)["train"][0]
    mean, std = np.array(cifar.SPECS["cifar10"]["mean"]), np.array(cifar.SPECS["cifar10"]["std"])
    np.testing.assert_allclose(x, (raw / 255 - mean[None, :, None, None]) / std[None, :, None, None], atol=1e-5)
    with pytest.raises(MinidiError, match="cifar10 images are 3×32×32; this model takes flat vectors of 1024"):
        load_dataset("cifar10", str(tmp_path), (None, 32), download_ok=False)


def test_truncated_and_corrupt_files_are_clear_errors(tmp_path, small):
    write_cifar(tmp_path, "cifar10")
    path = tmp_path / "cifar-10-batches-bin" / "data_batch_3.bin"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(MinidiError, match="data_batch_3.bin is corrupt or truncated"):
        cifar.load_raw("cifar10", str(tmp_path), download_ok=False)
    raw = bytearray(records(4, 1, 10)[0].tobytes())
    raw[3073] = 200                                                       # the label byte of record 1
    path.write_bytes(bytes(raw))
    with pytest.raises(MinidiError, match="data_batch_3.bin is corrupt: label 200"):
        cifar.load_raw("cifar10", str(tmp_path), download_ok=False)


def test_incomplete_real_dataset_is_an_error(tmp_path):
    write_cifar(tmp_path, "cifar10")                                      # 4 records a file, not 10000
    with pytest.raises(MinidiError, match="train split .* has 20 images, expected 50000"):
        cifar.load_raw("cifar10", str(tmp_path), download_ok=False)


def _archive(tmp_path, name):
    src = tmp_path / "src"
    write_cifar(src, name)
    spec = cifar.SPECS[name]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(src / spec["folder"], arcname=spec["folder"])
        info = tarfile.TarInfo("../evil.bin")                            # a hostile member is never extracted
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    return buf.getvalue()


def test_archive_is_checked_and_only_its_bins_extracted(tmp_path, small, monkeypatch):
    data = _archive(tmp_path, "cifar10")
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "cifar-10-binary.tar.gz").write_bytes(data)
    monkeypatch.setitem(cifar.SPECS, "cifar10", {**cifar.SPECS["cifar10"], "md5": hashlib.md5(data).hexdigest()})
    raw = cifar.load_raw("cifar10", str(folder), download_ok=False)
    assert raw["train"][0].shape == (20, 3, 32, 32)
    assert not (tmp_path / "evil.bin").exists() and not (folder.parent / "evil.bin").exists()
    (folder / "cifar-10-binary.tar.gz").write_bytes(data[:-10])
    for f in (folder / "cifar-10-batches-bin").iterdir():
        f.unlink()
    with pytest.raises(MinidiError, match="cifar-10-binary.tar.gz is corrupt or truncated"):
        cifar.load_raw("cifar10", str(folder), download_ok=False)


def test_download_verifies_md5(tmp_path, small, monkeypatch):
    data = _archive(tmp_path, "cifar10")
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "cifar-10-binary.tar.gz").write_bytes(data)
    monkeypatch.setattr(cifar, "URL", mirror.as_uri() + "/")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MINIDI_DATA", raising=False)
    monkeypatch.setitem(cifar.SPECS, "cifar10", {**cifar.SPECS["cifar10"], "md5": hashlib.md5(data).hexdigest()})
    assert cifar.load_raw("cifar10")["test"][0].shape == (4, 3, 32, 32)
    assert (tmp_path / "home" / ".cache" / "minidi" / "cifar10" / "cifar-10-binary.tar.gz").is_file()
    monkeypatch.setitem(cifar.SPECS, "cifar100", {**cifar.SPECS["cifar100"], "md5": "0" * 32})
    monkeypatch.setattr(cifar, "URL", mirror.as_uri() + "/")
    with pytest.raises(MinidiError, match="could not download cifar-100-binary.tar.gz"):
        cifar.load_raw("cifar100")


def test_random_crop_flip_matches_a_per_image_reference(xp):
    x = np.random.default_rng(0).standard_normal((6, 3, 8, 8)).astype(np.float32)
    out = random_crop_flip(xp.asarray(x), np.random.default_rng(7), padding=2)
    rng = np.random.default_rng(7)                                        # replay the same draws
    oy, ox, flip = rng.integers(0, 5, 6), rng.integers(0, 5, 6), rng.random(6) < 0.5
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    for n in range(6):
        crop = padded[n, :, oy[n]:oy[n] + 8, ox[n]:ox[n] + 8]
        expected = crop[..., ::-1] if flip[n] else crop
        np.testing.assert_array_equal(to_numpy(out[n]), expected)
    assert flip.any() and not flip.all()


def train_synthetic(out, model, samples, epochs, batch, lr, augment):
    """`minidi train` on synthetic images of the model's shape; returns the run folder."""
    r = CliRunner().invoke(main, ["train", "--model", model, "--dataset", "synthetic", "--synthetic-samples", str(samples),
                                  "--epochs", str(epochs), "--batch-size", str(batch), "--lr", str(lr),
                                  "--augment" if augment else "--no-augment", "--out", str(out), "--quiet"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return str(out)


def test_resnet20_learns_on_cifar_sized_synthetic_data(tmp_path):
    """Without augmentation: random crops would scramble the synthetic classes' per-pixel patterns."""
    out = train_synthetic(tmp_path / "r20", "resnet20", 256, 3, 64, 0.05, augment=False)
    losses = [json.loads(line)["train_loss"] for line in open(os.path.join(out, "log.jsonl"))]
    assert losses[2] < losses[1] < losses[0] and losses[2] < 0.75 * losses[0]


def test_training_with_augmentation_runs_and_is_recorded(tmp_path):
    out = train_synthetic(tmp_path / "aug", "conv4", 64, 1, 32, 0.01, augment=True)
    assert json.load(open(os.path.join(out, "config.json")))["augment"] is True


def test_augment_needs_images(tmp_path):
    r = CliRunner().invoke(main, ["train", "--dataset", "synthetic", "--augment", "--out", str(tmp_path / "x")])
    assert r.exit_code == 1 and "--augment needs image input" in r.output
