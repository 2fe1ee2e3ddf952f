# ntk-book. A newcomer needs two commands: `make book` and `make test`.
# Every target goes through `python -m ntklib` (see `python -m ntklib --help`), so there is one way to do each thing.

# ci: minutes on a laptop (default, what CI runs); full: the papers' scale (hours on 2 cores; see `make record`).
SCALE  ?= ci
# The first of Python 3.11-3.13 found (the pinned stack, with neural-tangents 0.6.5 on jax 0.5.3, has wheels for each).
PYTHON ?= $(or $(shell command -v python3.11 || command -v python3.12 || command -v python3.13),$(error need Python 3.11, 3.12 or 3.13 on PATH))
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: install test book run build list lock clean bench data record

# Re-install when the dependency declarations change; exact versions come from constraints.txt.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,nt]'
	touch $@

install: $(VENV)/.installed

test: install            ## run the test suite
	$(PY) -m pytest

book: install            ## execute every notebook at $(SCALE) and build the HTML book into book/_build/html
	$(PY) -m ntklib book --scale $(SCALE)

run: install             ## execute one notebook: make run NB=02_ntk SCALE=full
	$(PY) -m ntklib run $(NB) --scale $(SCALE)

build: install           ## rebuild the HTML from already executed notebooks
	$(PY) -m ntklib build

# The committed full-scale record (records/full/), which the book shows beside its own run: every section, or
# make record SECTIONS="03 05". Hours on 2 cores for all of them; a failed section keeps its old record.
record: install          ## execute sections at full scale into records/full/: make record SECTIONS="03 05"
	$(PY) -m ntklib record $(SECTIONS)

list: install
	$(PY) -m ntklib list

# Into $NTK_DATA_DIR (default ~/.cache/ntk-book); fails if a needed dataset is missing or corrupt.
data: install            ## download, verify and unpack every dataset (NAMES="mnist uci" for some)
	$(PY) -m ntklib data --fetch $(NAMES)

# Not part of CI (about an hour on 2 quiet cores): a maintainer's check that ntklib's kernels stay fast and right.
# Writes the tables that book/performance.md includes; exits non-zero if a kernel disagrees with its reference.
bench: install           ## benchmark the kernels: make bench (BENCH_ARGS=--quick: a few minutes)
	$(PY) benchmarks/bench_kernels.py --out book/performance_run.md $(BENCH_ARGS)

lock: install            ## re-pin constraints.txt after changing dependencies in pyproject.toml
	{ sed -n '/^#/p' constraints.txt; $(PY) -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf book/_build book/generated
