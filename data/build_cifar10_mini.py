"""Build data/cifar10_mini.npz, the embedded CIFAR-10 subset of the quick preset.

    python data/build_cifar10_mini.py SOURCE_DIR [OUT]

SOURCE_DIR holds ``cifar10_prefix_sample.npz`` (the first 164 images of each
CIFAR-10 python batch, with all labels) and the original ``batches.meta``;
see data/README.md.  Both are MD5-checked before use (``batches.meta`` before
it is unpickled).  The 164 images of ``data_batch_1..5`` become the 820
training images (batch order), those of ``test_batch`` the 164 test images;
rows in CIFAR's layout (1024 R, 1024 G, 1024 B, 32 x 32 row-major) are
reshaped to [N, 3, 32, 32].  The output is written deterministically (fixed
zip timestamps), so rebuilding gives the same bytes and MD5.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kr.experiments.realdata.checksums import CIFAR10_MD5, verify_md5  # noqa: E402
from kr.experiments.realdata.datasets import _unpickle_verified, write_npz_deterministic  # noqa: E402

SAMPLE = "cifar10_prefix_sample.npz"
SAMPLE_MD5 = "8e83e342dc4319f93e7812336382c177"
TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


def build(source: Path, out: Path) -> str:
    """Write the subset to ``out``; return its MD5."""
    sample_md5 = verify_md5(source / SAMPLE, SAMPLE_MD5)
    meta = _unpickle_verified(source / "batches.meta", CIFAR10_MD5)
    names = np.array([str(n) for n in meta["label_names"]])
    with np.load(source / SAMPLE, allow_pickle=False) as z:
        def part(batches: list[str]) -> tuple[np.ndarray, np.ndarray]:
            xs, ys = [], []
            for b in batches:
                head = z[f"{b}_data_head"]
                assert head.dtype == np.uint8 and head.shape[1] == 3072, head.shape
                xs.append(head.reshape(-1, 3, 32, 32))
                ys.append(z[f"{b}_labels"][: len(head)])
            return np.concatenate(xs), np.concatenate(ys).astype(np.uint8)

        train_x, train_y = part(TRAIN)
        test_x, test_y = part(["test_batch"])
    assert train_x.shape == (820, 3, 32, 32) and test_x.shape == (164, 3, 32, 32)
    assert names.shape == (10,) and train_y.max() < 10 and test_y.max() < 10
    arrays = {
        "train_x": train_x, "train_y": train_y, "test_x": test_x, "test_y": test_y,
        "label_names": names,
        "source_files": np.array([SAMPLE, "batches.meta"]),
        "source_md5": np.array([sample_md5, CIFAR10_MD5["batches.meta"]]),
    }
    return write_npz_deterministic(out, arrays)


if __name__ == "__main__":
    src = Path(sys.argv[1])
    dst = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parent / "cifar10_mini.npz"
    print(f"{dst}: md5 {build(src, dst)}")
