"""Result files: plain tidy CSVs, each with a provenance sidecar.

Every table ``<name>.csv`` is an ordinary CSV (one row per observation) that
``pandas.read_csv``, R's ``read.csv`` or a spreadsheet open as it is.  Its
provenance lives next to it in ``<name>.meta.json``::

    {"parameters": {...}, "code_version": "...", "converged": true,
     "wall_time_s": 0.12, "created": "...", "rows": 142,
     "columns": [...], "sha256": "<digest of the CSV's bytes>"}

Rows may carry their own ``converged`` column; the sidecar's ``converged``
is then their conjunction.  A table derived from others (an aggregate)
records its ``sources`` as a digest list (path, sha256, rows, converged,
code version), not their whole headers.  :func:`read_table` checks the CSV
against its sidecar (row count and digest), so a file cut short or edited
on disk is refused by name instead of read as NaN rows.  Writes go to a
temporary file in the target directory and are renamed into place (sidecar
first, then the CSV), so a killed job never leaves a truncated result behind.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
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

META_SUFFIX = ".meta.json"
"""Sidecar of ``<name>.csv``: ``<name>.meta.json``."""


class IncompleteResultError(ValueError):
    """A result file that does not match its sidecar (cut short, edited, or its sidecar missing)."""


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """The provenance sidecar of table ``path``: ``x.csv`` -> ``x.meta.json``.

    >>> str(sidecar_path("results/tables/mnist.csv"))
    'results/tables/mnist.meta.json'
    """
    p = Path(path)
    return p.with_name(p.stem + META_SUFFIX)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


def _csv_ready(df: pd.DataFrame) -> pd.DataFrame:
    """Infinities as ``INF`` / ``-INF`` (Table Schema's spelling, which pandas reads back); the rest as is."""
    out = df
    for col in df.columns:
        values = df[col]
        if pd.api.types.is_float_dtype(values) and np.isinf(values.to_numpy()).any():
            if out is df:
                out = df.copy()
            out[col] = [("INF" if v > 0 else "-INF") if np.isinf(v) else ("" if np.isnan(v) else "%.17g" % v)
                        for v in values.to_numpy()]
    return out


def write_table(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    parameters: Mapping[str, Any],
    *,
    wall_time_s: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Atomically write ``df`` as a plain CSV and its sidecar; return the sidecar's content.

    ``converged`` is taken from the table's ``converged`` column when present
    (all rows must be True), else it is True.  The sidecar records the row
    count, the column names and the SHA-256 of the CSV's bytes.
    """
    converged = bool(df["converged"].all()) if "converged" in df.columns else True
    buf = io.StringIO()
    _csv_ready(df).to_csv(buf, index=False, float_format="%.17g")
    body = buf.getvalue().encode()
    meta = make_meta(parameters, converged=converged, wall_time_s=wall_time_s, rows=len(df),
                     columns=[str(c) for c in df.columns], sha256=_sha256(body), **extra)
    with atomic_open(sidecar_path(path)) as fh:
        fh.write(json.dumps(meta, sort_keys=True, indent=1) + "\n")
    with atomic_open(path, "wb") as fh:
        fh.write(body)
    return meta


def read_meta(path: str | os.PathLike[str], *, verify: bool = True) -> dict[str, Any]:
    """The provenance of a table written by :func:`write_table` (its sidecar).

    With ``verify`` (the default) the CSV must match the sidecar's digest;
    otherwise :class:`IncompleteResultError` names the file.
    """
    side = sidecar_path(path)
    if not side.is_file():
        raise IncompleteResultError(f"{path} has no provenance sidecar {side.name}; was it written by kr.results? "
                                    f"Rerun the job that writes it")
    meta: dict[str, Any] = json.loads(side.read_text())
    if verify:
        digest = _sha256(Path(path).read_bytes())
        if digest != meta.get("sha256"):
            raise IncompleteResultError(f"{path} does not match its sidecar {side.name} (cut short or edited: "
                                        f"expected {meta.get('rows')} rows); rerun the job that writes it, "
                                        f"e.g. snakemake -f {path}")
    return meta


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a table written by :func:`write_table`, checked against its sidecar; sidecar in ``df.attrs['meta']``."""
    meta = read_meta(path)
    df = pd.read_csv(path)
    if len(df) != meta.get("rows", len(df)):
        raise IncompleteResultError(f"{path} has {len(df)} rows, its sidecar says {meta['rows']}")
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


def source_digest(meta: Mapping[str, Any]) -> dict[str, Any]:
    """What a derived table keeps of one source's provenance: its digest, rows, convergence, code version."""
    return {k: meta.get(k) for k in ("sha256", "rows", "converged", "code_version")}


def write_derived(
    df: pd.DataFrame,
    out: str | os.PathLike[str],
    sources: Mapping[str, Any],
    *,
    wall_time_s: float | None = None,
) -> dict[str, Any]:
    """Write a table computed from other tables (``sources``: path -> its provenance).

    The sidecar lists every source as a digest (:func:`source_digest`); each
    source keeps its full provenance in its own sidecar, so nothing is lost.
    """
    digests = {str(p): source_digest(m) for p, m in sorted(sources.items())}
    return write_table(df, out, {"sources": sorted(digests)}, wall_time_s=wall_time_s, sources=digests)


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
