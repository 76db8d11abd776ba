# Strata — build, run and test.
#   make run    install missing system packages, build release, serve on 127.0.0.1:6379 (./data)
#   make test   install what the tests need, run every test (unit + end-to-end)
#   make bench  side-by-side benchmark against redis-server (Tools/bench-vs-redis.sh)

SHELL := /bin/bash
PORT ?= 6379
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
VENV := .venv
# Release builds turn off Swift's run-time exclusivity checks in every module, SwiftNIO's
# included (Package.swift can only set flags for our own targets): they cost about 10% of
# the server's user-space CPU per request. Debug builds (`swift test`) keep them.
RELEASE := swift build -c release -Xswiftc -enforce-exclusivity=unchecked
PYTHON := $(VENV)/bin/python

.PHONY: run build release deps test-deps test unit-test e2e-test bench lint clean

deps:
	@missing=""; \
	for p in liblz4-dev zlib1g-dev libjemalloc-dev pkg-config liblua5.1-0-dev lua-cjson-dev lua-bitop-dev; do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

release: deps
	$(RELEASE) --product strata-server
	$(RELEASE) --product strata-dump

build: deps
	swift build

run: release
	mkdir -p data
	.build/release/strata-server --bind 127.0.0.1 --port $(PORT) --dir ./data

test-deps: deps
	@missing=""; \
	for p in redis-tools redis-server lz4 python3-venv iproute2 tmux; do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing test packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@[ -x $(PYTHON) ] || python3 -m venv $(VENV)
	@$(PYTHON) -c "import redis, pytest" 2>/dev/null || $(PYTHON) -m pip install -q "redis>=5" pytest

unit-test: test-deps
	swift test

e2e-test: test-deps
	$(RELEASE) --product strata-server
	$(RELEASE) --product strata-dump
	STRATA_SERVER=$(CURDIR)/.build/release/strata-server STRATA_DUMP=$(CURDIR)/.build/release/strata-dump \
	  $(PYTHON) -m pytest -q Tests/e2e

test: unit-test e2e-test

bench: test-deps
	$(RELEASE) --product strata-server
	Tools/bench-vs-redis.sh

lint:
	swift format lint -r Sources Tests

clean:
	rm -rf .build data
