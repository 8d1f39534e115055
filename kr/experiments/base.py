"""What an experiment declares about itself (import-light: no numpy, no torch).

Each experiment folder ``kr/experiments/<name>/`` defines, in its
``__init__.py``, one :class:`Experiment`; :mod:`kr.experiments` discovers them
and derives every list the workflow needs (tables, figures, claims, ledger
thresholds) from these declarations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Experiment:
    """One paper experiment: its result tables, figures and claims.

    ``tables`` maps every aggregated table the experiment writes to the
    figures that need it (drawn, or only checked by the ledger); ``figures``
    maps each figure to the tables it is *drawn* from.  ``sections`` are the
    config sections whose ``claims:`` sub-mapping holds this experiment's
    ledger thresholds; ``order`` places the experiment in the ledger (paper
    order); ``rules`` are its Snakemake rule files (default
    ``rules/<name>.smk``), included by the Snakefile in that order.  ``plots`` and ``claims`` name the modules holding ``FIGURES``
    and ``CLAIMS``, ``columns`` the one holding ``COLUMNS`` (meaning and unit
    of every column, for ``results/datapackage.json``); they are imported
    only when needed.
    """

    name: str
    order: int
    title: str
    tables: Mapping[str, tuple[str, ...]]
    figures: Mapping[str, tuple[str, ...]]
    sections: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    plots: str = field(default="")
    claims: str = field(default="")
    columns: str = field(default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "tables", MappingProxyType(dict(self.tables)))
        object.__setattr__(self, "figures", MappingProxyType(dict(self.figures)))
        drawn = {t for ts in self.figures.values() for t in ts}
        unknown = drawn - set(self.tables)
        if unknown:
            raise ValueError(f"experiment {self.name!r}: figures drawn from undeclared tables {sorted(unknown)}")
        needed = {f for fs in self.tables.values() for f in fs}
        if needed - set(self.figures):
            raise ValueError(f"experiment {self.name!r}: tables name unknown figures {sorted(needed - set(self.figures))}")
        object.__setattr__(self, "rules", self.rules or (f"rules/{self.name}.smk",))
        base = f"kr.experiments.{self.name}"
        object.__setattr__(self, "plots", self.plots or f"{base}.plots")
        object.__setattr__(self, "claims", self.claims or f"{base}.claims")
        object.__setattr__(self, "columns", self.columns or f"{base}.columns")
