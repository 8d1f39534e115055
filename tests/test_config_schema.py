"""config.yaml is the single source of default values; the schema only describes keys.

The schema (schemas/config.schema.yaml) holds types, bounds, enums and
descriptions and sets no defaults, so the two files must agree on which keys
exist: every key of config.yaml is described by the schema, and every key the
schema describes is set in config.yaml.  Fast: no Snakemake run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from kr.configuration import deep_merge
from kr.experiments import figure_tables

from .conftest import REPO

SCHEMA_PATH = REPO / "schemas" / "config.schema.yaml"
CONFIG_PATH = REPO / "config.yaml"
PRESETS = sorted((REPO / "presets").glob("*.yaml"))

# Keywords whose value maps *names* (of properties, definitions) to subschemas.
_NAMED_SUBSCHEMAS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_BRANCHES = ("oneOf", "anyOf", "allOf")


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return _load(SCHEMA_PATH)


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return _load(CONFIG_PATH)


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema)  # the draft the schema declares
    cls.check_schema(schema)
    return cls(schema)


def _dotted(path: tuple[str, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in path) or "<root>"


def _errors(validator: jsonschema.protocols.Validator, instance: Any) -> list[str]:
    return sorted(f"{_dotted(list(e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance))


# --------------------------------------------------------------------------- #
# walking the schema
# --------------------------------------------------------------------------- #
def _defaults(node: Any, path: tuple[str, ...] = ()) -> Iterator[str]:
    """Schema locations of every ``default`` keyword (property *names* are not keywords)."""
    if isinstance(node, Mapping):
        if "default" in node:
            yield _dotted(path + ("default",))
        for key, value in node.items():
            if key in _NAMED_SUBSCHEMAS and isinstance(value, Mapping):
                for name, sub in value.items():
                    yield from _defaults(sub, path + (key, name))
            else:
                yield from _defaults(value, path + (key,))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _defaults(item, path + (str(i),))


def _resolve(root: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow a local ``$ref`` (``#/$defs/...``); its sibling keywords are kept."""
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), f"only local $refs are supported here, not {ref!r}"
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        node = {**{k: v for k, v in node.items() if k != "$ref"}, **target}
    return node


def _alternatives(root: Mapping[str, Any], node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """``node`` and, recursively, its oneOf / anyOf / allOf branches, $refs resolved."""
    node = _resolve(root, node)
    out = [node]
    for key in _BRANCHES:
        for branch in node.get(key, []):
            out.extend(_alternatives(root, branch))
    return out


def _child_schemas(root: Mapping[str, Any], nodes: list[Mapping[str, Any]], key: str) -> list[Mapping[str, Any]]:
    """The subschemas that describe ``key`` of a mapping described by any of ``nodes``."""
    found: list[Mapping[str, Any]] = []
    for node in nodes:
        for alt in _alternatives(root, node):
            if key in alt.get("properties", {}):
                found.append(alt["properties"][key])
                continue
            patterns = [s for p, s in alt.get("patternProperties", {}).items() if re.search(p, key)]
            if patterns:
                found.extend(patterns)
                continue
            extra = alt.get("additionalProperties")
            if isinstance(extra, Mapping):
                found.append(extra)
    return found


def _matching_object_schemas(validator: jsonschema.protocols.Validator, root: Mapping[str, Any],
                             nodes: list[Mapping[str, Any]], value: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The object schemas among ``nodes`` and the oneOf / anyOf / allOf branches that ``value`` takes.

    A branch that ``value`` does not take (e.g. the list form of a grid) says
    nothing about which keys ``value`` must have.  When no object branch
    validates, those that describe all of ``value``'s keys are taken.
    """
    out: list[Mapping[str, Any]] = []
    for node in nodes:
        node = _resolve(root, node)
        if "properties" in node or "required" in node:
            out.append(node)
        branches = [alt for alt in _alternatives(root, node)[1:] if "properties" in alt or "required" in alt]
        taken = [alt for alt in branches if validator.evolve(schema=alt).is_valid(value)]
        out.extend(taken or [alt for alt in branches if set(value) <= set(alt.get("properties", {}))])
    return out


def _undescribed(root: Mapping[str, Any], nodes: list[Mapping[str, Any]], value: Any,
                 path: tuple[str, ...] = ()) -> Iterator[str]:
    """Key paths of ``value`` (a config) that no schema in ``nodes`` describes."""
    if not isinstance(value, Mapping):
        return
    for key, sub in value.items():
        children = _child_schemas(root, nodes, key)
        if not children:
            yield _dotted(path + (key,))
        else:
            yield from _undescribed(root, children, sub, path + (key,))


def _unset(validator: jsonschema.protocols.Validator, root: Mapping[str, Any], nodes: list[Mapping[str, Any]],
           value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """(key path, why) for every key the schema requires or describes that ``value`` lacks."""
    if not isinstance(value, Mapping):
        return
    for alt in _matching_object_schemas(validator, root, nodes, value):
        for key in alt.get("required", []):
            if key not in value:
                yield _dotted(path + (key,)), "required by the schema"
        for key in alt.get("properties", {}):
            if key not in value:
                yield _dotted(path + (key,)), "described by the schema (which sets no defaults)"
    for key, sub in value.items():
        yield from _unset(validator, root, _child_schemas(root, nodes, key), sub, path + (key,))


# --------------------------------------------------------------------------- #
# tests
# --------------------------------------------------------------------------- #
def test_schema_sets_no_defaults(schema: dict[str, Any]) -> None:
    found = list(_defaults(schema))
    assert not found, ("the schema must not set defaults (config.yaml holds every default value); "
                       f"found `default` at: {', '.join(found)}")


def test_config_yaml_validates(validator: jsonschema.protocols.Validator, config: dict[str, Any]) -> None:
    errors = _errors(validator, config)
    assert not errors, "config.yaml fails the schema at:\n" + "\n".join(errors)


def test_every_config_key_is_described(schema: dict[str, Any], config: dict[str, Any]) -> None:
    missing = list(_undescribed(schema, [schema], config))
    assert not missing, "config.yaml keys the schema does not describe: " + ", ".join(missing)


def test_every_schema_key_is_in_config_yaml(validator: jsonschema.protocols.Validator, schema: dict[str, Any],
                                            config: dict[str, Any]) -> None:
    unset = sorted(set(_unset(validator, schema, [schema], config)))
    assert not unset, "keys missing from config.yaml:\n" + "\n".join(f"{p} ({why})" for p, why in unset)


def test_unset_detects_a_missing_key(validator: jsonschema.protocols.Validator, schema: dict[str, Any],
                                     config: dict[str, Any]) -> None:
    """The walkers see nested keys (not only the top level), so the checks above have teeth."""
    cut = deep_merge(config, {"theory": {"fig2": {"z": {"start": -1, "stop": 1, "num": 5}}}})
    del cut["relu"]["fig7"]["shapes"]["b"]  # required
    del cut["mnist"]["output_only"]["plateau_window"]  # described
    del cut["theory"]["fig2"]["z"]["num"]  # required by a oneOf branch
    unset = {p for p, _ in _unset(validator, schema, [schema], cut)}
    assert unset == {"relu.fig7.shapes.b", "mnist.output_only.plateau_window", "theory.fig2.z.num"}
    extra = deep_merge(config, {"matfac": {"theorem4": {"not_a_key": 1}}})
    assert list(_undescribed(schema, [schema], extra)) == ["matfac.theorem4.not_a_key"]


@pytest.mark.parametrize("preset", PRESETS, ids=[p.name for p in PRESETS])
def test_preset_over_config_yaml_validates(preset: Path, validator: jsonschema.protocols.Validator,
                                           schema: dict[str, Any], config: dict[str, Any]) -> None:
    overrides = _load(preset)
    missing = list(_undescribed(schema, [schema], overrides))
    assert not missing, f"{preset.name} sets keys the schema does not describe: " + ", ".join(missing)
    errors = _errors(validator, deep_merge(config, overrides))
    assert not errors, f"config.yaml + {preset.name} fails the schema at:\n" + "\n".join(errors)


def test_figure_enum_matches_the_experiments(schema: dict[str, Any]) -> None:
    items = _resolve(schema, schema["properties"]["figures"]["items"])
    assert "enum" in items, "figures.items: the schema should list the allowed figures as an enum"
    allowed, known = set(items["enum"]), set(figure_tables())
    assert allowed == known, (
        "figures.items.enum differs from kr.experiments.figure_tables(): "
        f"only in the schema {sorted(allowed - known)}, only in the experiments {sorted(known - allowed)}")
