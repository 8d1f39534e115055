"""Result I/O: provenance headers and atomic writes (kr.results)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kr.results import (IncompleteResultError, atomic_open, concat_tables, read_meta, read_table, sidecar_path,
                        write_table)
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
    with pytest.raises(ValueError, match="no provenance sidecar"):
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


def test_tables_are_plain_csv_with_a_sidecar(tmp_path: Path) -> None:
    """pandas.read_csv with no options reads the table; provenance is in <name>.meta.json."""
    df = pd.DataFrame({"alpha": [0.1, 1.0, 10.0], "converged": [True, True, False]})
    path = tmp_path / "t.csv"
    meta = write_table(df, path, {"k": 1})
    plain = pd.read_csv(path)
    assert list(plain.columns) == ["alpha", "converged"] and len(plain) == 3
    assert sidecar_path(path).name == "t.meta.json"
    assert meta["rows"] == 3 and meta["columns"] == ["alpha", "converged"] and meta["converged"] is False
    assert json.loads(sidecar_path(path).read_text())["sha256"] == meta["sha256"]


@pytest.mark.parametrize("damage", ["truncate", "edit", "no-sidecar", "stale-sidecar"])
def test_an_incomplete_table_is_refused_by_name(tmp_path: Path, damage: str) -> None:
    """A table cut short on disk (or edited, or without its sidecar) is refused, never read as NaN rows."""
    df = pd.DataFrame({"x": np.arange(30.0), "converged": True})
    path = tmp_path / "D2_s0.csv"
    write_table(df, path, {})
    body = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(body[: 2 * len(body) // 3])
    elif damage == "edit":
        path.write_bytes(body.replace(b"\n3,", b"\n4,"))
    elif damage == "no-sidecar":
        sidecar_path(path).unlink()
    else:
        write_table(df.iloc[:5], tmp_path / "other.csv", {})
        sidecar_path(path).write_text(sidecar_path(tmp_path / "other.csv").read_text())
    with pytest.raises(IncompleteResultError, match="D2_s0"):
        read_table(path)
    with pytest.raises(IncompleteResultError, match="D2_s0"):
        concat_tables([str(path)], tmp_path / "agg.csv")
    assert not (tmp_path / "agg.csv").exists()


def test_derived_tables_keep_source_digests(tmp_path: Path) -> None:
    paths = []
    for i in range(3):
        p = tmp_path / f"s{i}.csv"
        write_table(pd.DataFrame({"i": [i] * 4, "converged": True}), p, {"i": i, "big": list(range(200))})
        paths.append(str(p))
    meta = concat_tables(paths, tmp_path / "all.csv")
    assert set(meta["sources"]) == set(paths)
    for p in paths:
        assert meta["sources"][p]["sha256"] == read_meta(p)["sha256"] and meta["sources"][p]["rows"] == 4
    assert len(sidecar_path(tmp_path / "all.csv").read_text()) < 2000  # digests, not whole source headers


def test_infinities_round_trip_in_table_schema_spelling(tmp_path: Path) -> None:
    df = pd.DataFrame({"x": [np.inf, -np.inf, np.nan, 0.1], "converged": True})
    write_table(df, tmp_path / "t.csv", {})
    assert "INF" in (tmp_path / "t.csv").read_text()
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.csv"), df, check_exact=True)
