"""Result I/O: provenance headers and atomic writes (kr.results)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kr.results import atomic_open, read_meta, read_table, write_table
from kr.version import code_version


def test_roundtrip_keeps_values_and_provenance(tmp_path: Path) -> None:
    df = pd.DataFrame({"alpha": [1e-8, 0.5, 1e4], "value": [np.pi, -1 / 3, 2.0**-60], "converged": True})
    path = tmp_path / "sub" / "t.csv"
    meta = write_table(df, path, {"alpha": np.array([1.0, 2.0]), "D": np.int64(3)}, wall_time_s=0.25)
    back = read_table(path)
    pd.testing.assert_frame_equal(back, df, check_exact=True)  # %.17g round-trips float64
    assert back.attrs["meta"] == meta == read_meta(path)
    assert meta["parameters"] == {"alpha": [1.0, 2.0], "D": 3}
    assert meta["code_version"] == code_version()
    assert meta["converged"] is True and meta["wall_time_s"] == 0.25


def test_a_non_converged_row_makes_the_file_non_converged(tmp_path: Path) -> None:
    df = pd.DataFrame({"x": [1, 2], "converged": [True, False]})
    assert write_table(df, tmp_path / "t.csv", {})["converged"] is False
    assert read_meta(tmp_path / "t.csv")["converged"] is False


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(path) as fh:
        fh.write("partial")
        raise RuntimeError("killed")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["t.txt"]


def test_read_meta_rejects_foreign_csv(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="kr-meta"):
        read_meta(path)


def test_arrays_roundtrip_with_meta(tmp_path: Path) -> None:
    from kr.results import read_arrays, write_arrays

    a = {"l1": np.array([0.0, 1.5, -2.0]), "l2": np.linspace(0, 1, 4)}
    write_arrays(tmp_path / "b.npz", a, {"N": 10, "seed": 0}, converged=False)
    back, meta = read_arrays(tmp_path / "b.npz")
    assert set(back) == {"l1", "l2"}
    np.testing.assert_array_equal(back["l1"], a["l1"])
    assert meta["parameters"] == {"N": 10, "seed": 0} and meta["converged"] is False


def test_atomic_writes_get_umask_permissions(tmp_path) -> None:
    """Results are not left private (0600) like bare temporary files."""
    import os

    from kr.results import atomic_open

    old = os.umask(0o022)
    try:
        with atomic_open(tmp_path / "a.txt") as fh:
            fh.write("x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
