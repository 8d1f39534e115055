# Quick start: `make figures` and `make test`.  Both create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CORES  ?= all
STAMP  := $(VENV)/.installed

.PHONY: setup figures test lint report clean-results

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

clean-results:
	rm -rf results/tables results/figures results/claims.csv results/claims.md results/logs results/benchmarks
