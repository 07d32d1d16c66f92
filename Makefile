# babelrec: `make demo` and `make test` work on a fresh clone (they create .venv and install).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
export BABELREC_EVAL__DATA_DIR ?= $(abspath ../shared/data)

.PHONY: install demo test lint typecheck unit bench bench-scale eval-reference clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel setuptools

# llama.cpp's default native build uses every instruction the CPU lists, AMX tiles included, and
# those crash llama.cpp inside some VMs (a segfault at the first decode). Build a portable CPU
# wheel once (about 6 minutes on 2 cores), cached outside the clone under a name that says which
# flags built it, and install it before anything pulls the sdist.
LLAMA_VERSION := 0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF \
	$(shell grep -qw avx512f /proc/cpuinfo 2>/dev/null && echo -DGGML_AVX512=ON) \
	$(shell grep -qw avx512_vnni /proc/cpuinfo 2>/dev/null && echo -DGGML_AVX512_VNNI=ON)
LLAMA_WHEELS := $(HOME)/.cache/babelrec/wheels/llama-cpp-$(LLAMA_VERSION)-$(shell echo '$(LLAMA_CMAKE_ARGS)' | md5sum | cut -c1-8)

$(LLAMA_WHEELS)/.built: | $(BIN)/python
	mkdir -p $(LLAMA_WHEELS)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel --quiet --no-deps --no-cache-dir \
		-w $(LLAMA_WHEELS) "llama-cpp-python==$(LLAMA_VERSION)"
	touch $@

# torch first, from the CPU build on disk: otherwise pip pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml $(LLAMA_WHEELS)/.built | $(BIN)/python
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet --force-reinstall --no-deps $(LLAMA_WHEELS)/llama_cpp_python-*.whl
	$(BIN)/pip install --quiet --find-links $(LLAMA_WHEELS) -e ".[dev,bench]"
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
# the code before the latency levers of bench/end_to_end.py (compared in the same run)
BENCH_OLD ?= 4108858
bench: $(STAMP)
	mkdir -p bench/results && date +%s > bench/results/.started
	$(BIN)/python bench/langid.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/retrieval.py
	$(BIN)/python bench/embedders.py --repeats 1 --single-n 30 --speed-texts 128
	$(BIN)/python bench/rerank.py --candidates 20 10 50 --requests 1 --shuffles 2
	$(BIN)/python bench/end_to_end.py --compare $(BENCH_OLD) --requests 10
	$(BIN)/python bench/end_to_end.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/peer.py --cases 50
	$(BIN)/python bench/summary.py --started $$(cat bench/results/.started)

# Retrieval at 100k, 1M and 3M synthetic vectors (3M where memory allows: about 19 GiB free),
# embedded and on a `chroma run` server: 1M builds in 15 minutes on 2 idle cores, 3M in about
# an hour; not part of `make bench`.
bench-scale: $(STAMP)
	mkdir -p bench/results
	nice -n 10 $(BIN)/python bench/scale.py --sizes 100000 1000000 3000000 --m 16 32 \
		--log bench/results/scale.log

clean:
	rm -rf $(VENV) .babelrec .pytest_cache .mypy_cache .ruff_cache
