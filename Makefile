# Quick start: `make figures` and `make test`.  Both create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CORES  ?= all
STAMP  := $(VENV)/.installed

.PHONY: setup figures test lint report clean-results test-slurm

setup: $(STAMP)

# Reinstall only when the project metadata changes (idempotent: a second call
# installs nothing).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

figures: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) figures

test: $(STAMP)
	$(BIN)/python -m pytest

# Snakemake's linter, mypy on kr/ (settings in pyproject.toml) and ruff.
lint: $(STAMP)
	$(BIN)/snakemake --lint
	$(BIN)/mypy
	$(BIN)/ruff check kr tests scripts benchmarks

report: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) figures
	$(BIN)/snakemake --report results/report.zip figures

# Every result the workflow writes: all of results/ (tables, figures, ledger,
# logs, benchmarks, per-point files of every experiment, prepared data,
# training checkpoints, report) except the tracked results/README.md.  Leaves
# downloads (datasets/) and Snakemake's own .snakemake/.
clean-results:
	find results -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +

# Only the SLURM end-to-end test (tests/slurm/, needs a cluster: tests/slurm/local_cluster.sh).
test-slurm: $(STAMP)
	KR_REQUIRE_SLURM=$${KR_REQUIRE_SLURM:-1} $(BIN)/python -m pytest -m slurm tests/slurm
