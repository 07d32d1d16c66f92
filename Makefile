# babelrec: `make demo` and `make test` work on a fresh clone (they create .venv and install).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
export BABELREC_EVAL__DATA_DIR ?= $(abspath ../shared/data)

.PHONY: install demo test lint typecheck unit bench eval-reference clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel setuptools

# torch first, from the CPU build on disk: otherwise pip pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/babelrec demo

lint: $(STAMP)
	$(BIN)/ruff check babelrec tests bench
	$(BIN)/ruff format --check babelrec

typecheck: $(STAMP)
	$(BIN)/mypy babelrec
	$(BIN)/lint-imports

test: lint typecheck
	$(BIN)/python -m pytest -q

unit: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

# Each script prints its ratios and writes JSON to bench/results/; bench/summary.py prints them
# all and writes bench/results/reference.json. Sized to finish in under 20 minutes on 2 cores
# with warm caches. bench/llm_choice.py (the model and alpha study) runs separately.
bench: $(STAMP)
	mkdir -p bench/results && date +%s > bench/results/.started
	$(BIN)/python bench/langid.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/retrieval.py
	$(BIN)/python bench/embedders.py --repeats 1 --single-n 30 --speed-texts 128
	$(BIN)/python bench/rerank.py --candidates 20 10 50 --requests 1 --shuffles 2
	$(BIN)/python bench/end_to_end.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/peer.py --cases 50
	$(BIN)/python bench/summary.py --started $$(cat bench/results/.started)

clean:
	rm -rf $(VENV) .babelrec .pytest_cache .mypy_cache .ruff_cache
