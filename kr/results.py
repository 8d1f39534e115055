"""Result files: atomic writes that carry their own provenance.

Every table is a CSV whose first line is a comment holding a JSON header::

    # kr-meta: {"parameters": {...}, "code_version": "...", "converged": true,
    #           "wall_time_s": 0.12, "created": "..."}

followed by an ordinary tidy CSV (one row per observation), which
``pandas.read_csv(path, skiprows=1)`` also reads.  Rows may carry their own
``converged`` column; the header's ``converged`` is then their conjunction.
Writes go to a temporary file in the target directory and are renamed into
place, so a killed job never leaves a truncated result behind.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from kr.version import code_version

META_PREFIX = "# kr-meta: "


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path``; rename it onto ``path`` on success.

    The file gets the usual permissions (0666 less the umask), not the 0600
    of a bare temporary file, so results stay readable on shared clusters.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return repr(value)
    return value


def make_meta(
    parameters: Mapping[str, Any],
    *,
    converged: bool,
    wall_time_s: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The provenance header recorded with every result."""
    return _jsonable(
        {
            "parameters": dict(parameters),
            "code_version": code_version(),
            "converged": bool(converged),
            "wall_time_s": wall_time_s,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            **extra,
        }
    )


def write_table(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    parameters: Mapping[str, Any],
    *,
    wall_time_s: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Atomically write ``df`` with its provenance header; return the header.

    ``converged`` is taken from the table's ``converged`` column when present
    (all rows must be True), else it is True.
    """
    converged = bool(df["converged"].all()) if "converged" in df.columns else True
    meta = make_meta(parameters, converged=converged, wall_time_s=wall_time_s, **extra)
    buf = io.StringIO()
    df.to_csv(buf, index=False, float_format="%.17g")
    with atomic_open(path) as fh:
        fh.write(META_PREFIX + json.dumps(meta, sort_keys=True) + "\n")
        fh.write(buf.getvalue())
    return meta


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The provenance header of a table written by :func:`write_table`."""
    with open(path) as fh:
        first = fh.readline()
    if not first.startswith(META_PREFIX):
        raise ValueError(f"{path} has no kr-meta header; was it written by kr.results?")
    return json.loads(first[len(META_PREFIX):])


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a table written by :func:`write_table`; header in ``df.attrs['meta']``."""
    meta = read_meta(path)
    df = pd.read_csv(path, skiprows=1)
    df.attrs["meta"] = meta
    return df


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Atomically write a text file."""
    with atomic_open(path) as fh:
        fh.write(text)


def write_arrays(
    path: str | os.PathLike[str],
    arrays: Mapping[str, np.ndarray],
    parameters: Mapping[str, Any],
    *,
    converged: bool,
    wall_time_s: float | None = None,
) -> dict[str, Any]:
    """Atomically write named arrays to ``.npz`` with the provenance header.

    The header is stored as the JSON string array ``__meta__``.
    """
    meta = make_meta(parameters, converged=converged, wall_time_s=wall_time_s)
    with atomic_open(path, "wb") as fh:
        named: dict[str, Any] = {"__meta__": np.array(json.dumps(meta, sort_keys=True)), **arrays}
        np.savez(fh, **named)
    return meta


def read_arrays(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Arrays and provenance header of a file written by :func:`write_arrays`."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != "__meta__"}
        meta = json.loads(str(z["__meta__"]))
    return arrays, meta


def read_tables(paths: list[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Tables written by :func:`write_table`, concatenated, and each source's header by path."""
    frames = [read_table(p) for p in paths]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return df, {str(p): f.attrs["meta"] for p, f in zip(paths, frames)}


def write_derived(
    df: pd.DataFrame,
    out: str | os.PathLike[str],
    sources: Mapping[str, Any],
    *,
    wall_time_s: float | None = None,
) -> dict[str, Any]:
    """Write a table computed from other tables; its header keeps every source's own header.

    So no parameter or code version is lost in aggregation.
    """
    return write_table(df, out, {"sources": sorted(sources)}, wall_time_s=wall_time_s,
                       source_meta=dict(sources))


def concat_tables(paths: list[str], out: str | os.PathLike[str]) -> dict[str, Any]:
    """Concatenate tables written by :func:`write_table` into one tidy table (:func:`write_derived`)."""
    df, sources = read_tables(paths)
    return write_derived(df, out, sources)


def join_tables(
    paths: list[str],
    extra_paths: list[str],
    out: str | os.PathLike[str],
    *,
    on: str,
    prefix: str,
) -> dict[str, Any]:
    """Concatenate the tables at ``paths`` and attach the concatenated ``extra_paths`` tables to them.

    A left join on column ``on``, many rows to at most one extra row (pandas
    ``validate="many_to_one"``: an ``on`` value repeated among the extra
    rows is an error); the extra columns other than ``on`` are renamed
    ``prefix + name``.  Written with :func:`write_derived`, so the header
    keeps the headers of both kinds of source.
    """
    df, sources = read_tables(paths)
    extra, extra_sources = read_tables(extra_paths)
    renamed = {c: f"{prefix}{c}" for c in extra.columns if c != on}
    df = df.merge(extra.rename(columns=renamed), on=on, how="left", validate="many_to_one")
    return write_derived(df, out, {**sources, **extra_sources})
