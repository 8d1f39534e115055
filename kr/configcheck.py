"""Start-up checks of the workflow config: one line naming the key and the value.

The Snakefile calls :func:`check_config` before it plans any job; every
experiment adds the checks its jobs would make (``plan.check_config`` in its
folder).  What is checked here holds for every section:

* the schema (``schemas/config.schema.yaml``), reported as the first failing
  key with its value and what is allowed (not jsonschema's dump);
* unknown keys, with the nearest valid key;
* finite numbers (a NaN or infinity given through ``--configfile`` passes a
  JSON schema);
* no duplicate values in a list (grids, seeds, depths ...);
* grid sizes: a grid mapping's ``num`` at most ``limits.max_grid_points``
  (raise it explicitly to run a larger grid).

>>> format_path(("diagonal", "fig1c", "N", 2))
'diagonal.fig1c.N[2]'
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any


class ConfigError(ValueError):
    """A config value a job would reject (or silently mis-handle), found at start-up."""


def format_path(path: Sequence[Any]) -> str:
    """``("a", "b", 0)`` -> ``"a.b[0]"``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<config>"


def _walk(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, value
    if isinstance(value, Mapping):
        for key, sub in value.items():
            yield from _walk(sub, (*path, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _walk(sub, (*path, i))


def _allowed(schema: Mapping[str, Any]) -> str:
    """A short description of what a (sub)schema allows."""
    if "enum" in schema:
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return " or ".join(_allowed(s) for s in schema[key])
    kind = schema.get("type", "value")
    kind = "/".join(kind) if isinstance(kind, list) else kind
    bounds = [f"{op} {schema[k]}" for k, op in (("minimum", ">="), ("exclusiveMinimum", ">"),
                                              ("maximum", "<="), ("exclusiveMaximum", "<")) if k in schema]
    if kind == "object" and "required" in schema:
        return "a mapping with keys " + ", ".join(schema["required"])
    if kind == "array":
        items = schema.get("items")
        inner = f" of {_allowed(items)}" if isinstance(items, Mapping) else ""
        return f"a list{inner}"
    return kind + (" " + " and ".join(bounds) if bounds else "")


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _schema_at(schema: Mapping[str, Any], root: Mapping[str, Any], path: Sequence[Any]) -> Mapping[str, Any] | None:
    node: Mapping[str, Any] | None = schema
    for part in path:
        if node is None:
            return None
        if "$ref" in node:
            node = root["$defs"][node["$ref"].split("/")[-1]]
        if isinstance(part, int):
            items = node.get("items")
            node = items if isinstance(items, Mapping) else None
        else:
            props = node.get("properties", {})
            extra = node.get("additionalProperties")
            node = props.get(part, extra if isinstance(extra, Mapping) else None)
    if node is not None and "$ref" in node:
        node = root["$defs"][node["$ref"].split("/")[-1]]
    return node


def schema_error(config: Mapping[str, Any], schema: Mapping[str, Any]) -> str | None:
    """The first schema violation as one line (``None`` if the config is valid)."""
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    errors = sorted(cls(schema).iter_errors(config), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if not errors:
        return None
    err = jsonschema.exceptions.best_match(errors) or errors[0]
    path = list(err.absolute_path)
    key = format_path(path)
    if err.validator == "additionalProperties":
        parent = _schema_at(schema, schema, path) or {}
        known = sorted(parent.get("properties", {}))
        given = err.instance if isinstance(err.instance, Mapping) else {}
        unknown = [k for k in given if k not in known]
        name = unknown[0] if unknown else "?"
        where = format_path([*path, name])
        near = difflib.get_close_matches(str(name), known, n=1)
        hint = f" (did you mean {format_path([*path, near[0]])!r}?)" if near else ""
        return f"unknown config key {where!r}{hint}; valid keys here: {', '.join(known)}"
    if err.validator == "required":
        return f"config key {key!r} lacks a required entry: {err.message}"
    if err.validator in ("oneOf", "anyOf"):
        sub = _schema_at(schema, schema, path) or err.schema
        # the deepest message among the branches, for the value that is wrong
        inner = [e for e in (err.context or [])]
        deepest = max(inner, key=lambda e: len(e.absolute_path), default=None)
        if deepest is not None and len(deepest.absolute_path) > len(path):
            p = list(deepest.absolute_path)
            return (f"config key {format_path(p)!r} = {_short(deepest.instance)} is not allowed; "
                    f"expected {_allowed(deepest.schema)} (in {key}: {_allowed(sub)})")
        return f"config key {key!r} = {_short(err.instance)} is not allowed; expected {_allowed(sub)}"
    return f"config key {key!r} = {_short(err.instance)} is not allowed: {err.message}"


def check_finite(config: Mapping[str, Any]) -> None:
    """No NaN or infinity anywhere in the config."""
    for path, value in _walk(config):
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"config key {format_path(path)!r} = {value!r}: numbers must be finite")


def check_no_duplicates(config: Mapping[str, Any]) -> None:
    """No list holds the same value twice (a duplicate grid value would be computed twice or dropped)."""
    for path, value in _walk(config):
        if isinstance(value, list) and all(isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in value):
            seen: set[Any] = set()
            for v in value:
                if v in seen:
                    raise ConfigError(f"config key {format_path(path)!r} = {_short(value)} lists {v!r} twice; "
                                      f"give each value once")
                seen.add(v)


def check_grid_sizes(config: Mapping[str, Any], max_points: int) -> None:
    """Every grid (a ``{..., num}`` mapping or a list) has at most ``max_points`` points."""
    for path, value in _walk(config):
        size = None
        if isinstance(value, Mapping) and "num" in value and ({"start", "stop"} <= set(value)
                                                             or {"log10_start", "log10_stop"} <= set(value)):
            size = value["num"]
        elif isinstance(value, list):
            size = len(value)
        if isinstance(size, int) and size > max_points:
            raise ConfigError(f"config key {format_path(path)!r} has {size} points, above "
                              f"limits.max_grid_points = {max_points}; raise that limit explicitly "
                              f"(--config 'limits={{max_grid_points: {size}}}') to run it")


def check_devices(config: Mapping[str, Any]) -> None:
    """Every ``device: cuda`` key needs a CUDA device that torch sees (checked when jobs run here)."""
    keys = [format_path(path) for path, value in _walk(config) if path and path[-1] == "device" and value == "cuda"]
    if not keys:
        return
    import torch

    if not torch.cuda.is_available():
        raise ConfigError(f"config key {keys[0]!r} = 'cuda' but torch sees no CUDA device on this machine; "
                          f"set it to 'cpu' (or 'auto' where the key allows it), or run on a GPU node")


def check_config(config: Mapping[str, Any], schema: Mapping[str, Any], *, local: bool = True) -> None:
    """The section-independent checks; raises :class:`ConfigError` with one line.

    ``local``: jobs run on this machine, so its devices are checked too.
    """
    msg = schema_error(config, schema)
    if msg:
        raise ConfigError(msg)
    check_finite(config)
    check_no_duplicates(config)
    check_grid_sizes(config, int(config.get("limits", {}).get("max_grid_points", 2000)))
    if local:
        check_devices(config)
