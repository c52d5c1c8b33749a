# make app   — set up .venv (first time only) and start the web app on http://localhost:8501
# make test  — set up .venv (first time only) and run the whole test suite
# Setup is idempotent: it reruns only when requirements.lock or pyproject.toml change.

PYTHON ?= python3.11
VENV   ?= .venv
PORT   ?= 8501
ADDRESS ?= localhost
PYTEST_ARGS ?=
# Test files run on this many pytest-xdist workers (whole files per worker, so module fixtures are
# built once, and the browser files one after the other on one worker; in the order and the units
# of tests/conftest.py); 0 runs them in this process.
TEST_WORKERS ?= 2
STAMP  := $(VENV)/.matloop-installed
BIN    := $(VENV)/bin

.PHONY: setup app test bench clean-venv

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "matloop needs Python 3.11: '$(PYTHON)' not found (set PYTHON=...)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "matloop needs Python 3.11; $(PYTHON) is $$($(PYTHON) --version)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

app: setup
	mkdir -p runs
	$(BIN)/streamlit run ui/app.py --server.address $(ADDRESS) --server.port $(PORT) \
		--server.headless true --browser.gatherUsageStats false --server.maxUploadSize 50

# pytest exits 5 when it collects no test: that is not a failure of the setup.
test: setup
	@$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

bench: setup
	@for script in tests/benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean-venv:
	rm -rf $(VENV)
