# Layanan Pengaduan: the README's two commands are `make run` and `make test`.
# Everything they need (virtualenv, Python packages, Kafka jars, FerretDB) is set up on demand;
# downloaded tools are cached under ~/.cache/layanan-pengaduan, data lives in var/.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run up down status test lint setup lock clean help eval-routing bench bench-lists messages \
	rebuild-statistics test-fuzz

help:
	@echo "make run    - start Kafka, FerretDB and the three services in the foreground (Ctrl-C stops)"
	@echo "make up     - the same in the background (idempotent); make down stops it"
	@echo "make test   - ruff, mypy and every test against a fresh Kafka and FerretDB on free ports"
	@echo "make status - what runs from make up"
	@echo "make messages - check the pages' translation catalogues (docs/translations.md)"
	@echo "make test-fuzz - schemathesis, 1,000 cases per service, and the forms' and webhooks' fuzzing"
	@echo "make eval-routing - train the router on part of the labelled examples, report on the rest"
	@echo "make bench  - the router's classifications per core, then the front door, pipeline and"
	@echo "              consumers against same-run baselines (var/bench/*.json, docs/benchmarks.md)"
	@echo "make bench-lists - officers' list/count queries per FerretDB backend (docs/benchmarks.md)"
	@echo "make rebuild-statistics - the public statistics again from every ticket event (docs/statistics.md)"
	@echo "make test-faults - the fault suite at full scale: kills under load, then counts (docs/reliability.md)"
	@echo "make soak   - SOAK_SECONDS (600) at half the measured capacity (docs/reliability.md)"

$(STAMP): pyproject.toml constraints.txt
	@echo "[make] preparing the Python virtualenv in $(VENV) ..."
	@start=$$(date +%s); \
	  $(PYTHON) -m venv $(VENV) && \
	  $(PY) -m pip install --upgrade --progress-bar on pip >/dev/null && \
	  $(PY) -m pip install --progress-bar on -c constraints.txt -e '.[dev]' && \
	  touch $(STAMP) && \
	  echo "[make] Python packages ready in $$(( $$(date +%s) - start ))s"

setup: $(STAMP)
	@$(PY) -m devstack setup

run: $(STAMP)
	@$(PY) -m devstack run

up: $(STAMP)
	@$(PY) -m devstack up

down: $(STAMP)
	@$(PY) -m devstack down

status: $(STAMP)
	@$(PY) -m devstack status

test: $(STAMP)
	@$(PY) -m devstack test $(PYTEST_ARGS)

# The fuzz tests in full: FUZZ_CASES (default 1,000) schemathesis cases per service, and the
# web forms' and chat webhooks' own fuzzing (docs/reliability.md, "Fuzzing, access and abuse").
test-fuzz: $(STAMP)
	@FUZZ_CASES=$${FUZZ_CASES:-1000} $(PY) -m devstack test -s -p no:logging \
		tests/integration/test_fuzz_schemas.py tests/integration/test_fuzz_forms.py

eval-routing: $(STAMP)
	@$(PY) -m services.routing.evaluate

# BENCH_ARGS="--quick" for a short run, "--phases intake latency" for some: see bench/system.py.
bench: $(STAMP)
	@$(PY) -m services.routing.bench
	@$(PY) -m devstack setup
	@$(PY) -m bench.system $(BENCH_ARGS)

# BENCH_ARGS="--backend postgresql --tickets 50000": see `python -m bench.lists --help`.
bench-lists: $(STAMP)
	@$(PY) -m devstack setup
	@$(PY) -m bench.lists $(BENCH_ARGS)

# Against the servers of the environment (ROUTING_*/MONGODB_URL/KAFKA_BOOTSTRAP_SERVERS; make up's by default).
rebuild-statistics: $(STAMP)
	@$(PY) -m services.routing.statistics rebuild

# The pages' gettext catalogues: parse, compare the languages, words for every message used
# (docs/translations.md); also writes var/messages/<service>.pot.
messages: $(STAMP)
	@$(PY) -m shared.pages.check --pot var/messages

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

# Re-pin constraints.txt from a clean resolve of pyproject.toml.
lock:
	rm -rf var/lock-venv && $(PYTHON) -m venv var/lock-venv
	var/lock-venv/bin/pip install -q -e '.[dev]'
	{ echo "# Exact versions CI tested. Regenerate with: make lock"; \
	  var/lock-venv/bin/pip freeze --exclude-editable | grep -v '^pip=='; } > constraints.txt
	rm -rf var/lock-venv

clean: down
	rm -rf var $(VENV)

# The fault suite at full scale (docs/reliability.md); `make test` runs it short. It starts its
# own Kafka, PostgreSQL and FerretDB, so it needs no brokers from devstack test.
FAULTS_COMPLAINTS ?= 1000
FAULTS_ROUNDS ?= 3
.PHONY: test-faults soak
test-faults: $(STAMP)
	@$(PY) -m devstack setup
	@FAULTS_COMPLAINTS=$(FAULTS_COMPLAINTS) FAULTS_ROUNDS=$(FAULTS_ROUNDS) \
	  FAULTS_GAP_SECONDS=2 FAULTS_DOWN_SECONDS=3 \
	  $(PY) -m pytest tests/e2e/test_faults.py -s -p no:cacheprovider $(PYTEST_ARGS)

# SOAK_SECONDS=60 for a short run; SOAK_ARGS="--clients 4" etc.: see python -m bench.soak --help.
SOAK_SECONDS ?= 600
soak: $(STAMP)
	@$(PY) -m devstack setup
	@$(PY) -m bench.soak --seconds $(SOAK_SECONDS) $(SOAK_ARGS)
# The configuration reference in docs/operations.md, from the settings classes (issue 16).
.PHONY: docs-config
docs-config: $(STAMP)
	@$(PY) -m devstack.config_reference
