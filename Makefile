# Strata — build, run and test.
#   make run    install missing system packages, build release, serve on 127.0.0.1:6379 (./data)
#   make test   install what the tests need, run every test (unit + end-to-end)
#   make bench  side-by-side benchmark against redis-server (Tools/bench-vs-redis.sh)

SHELL := /bin/bash
PORT ?= 6379
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
VENV := .venv
# The newest redis-py line, in a virtualenv of its own, for Tests/e2e/test_newest_redis_py.py.
VENV_NEWEST := .venv-newest-redis-py
NEWEST_CLIENT_TESTS := Tests/e2e/test_newest_redis_py.py
# Release builds turn off Swift's run-time exclusivity checks in every module, SwiftNIO's
# included (Package.swift can only set flags for our own targets): they cost about 10% of
# the server's user-space CPU per request. Debug builds (`swift test`) keep them.
# They link the Swift standard library and Foundation statically: the process then maps
# only the parts it uses (the server starts at about 16 MB resident, not 21).
# Each function is compiled into its own section, so that the server's link can lay them
# out in the order Tools/symbol-order.txt gives (Package.swift says why), and LLVM does not
# merge functions (its thunks have no symbol for that list to name; the link folds
# identical functions instead). The compiler skips LLVM for objects whose IR did not
# change, so after changing these flags delete .build/release/*.build/*.o.
RELEASE := swift build -c release -Xswiftc -enforce-exclusivity=unchecked --static-swift-stdlib \
	-Xswiftc -Xfrontend -Xswiftc -function-sections -Xswiftc -Xfrontend -Xswiftc -disable-llvm-merge-functions-pass
PYTHON := $(VENV)/bin/python

# $(call pinned-venv,DIR,REQUIREMENTS): make DIR a virtualenv holding exactly the pinned,
# hash-checked packages of REQUIREMENTS; reinstalls whenever the pins change.
define pinned-venv
	@[ -x $(1)/bin/python ] || python3 -m venv $(1)
	@cmp -s $(2) $(1)/installed-requirements.txt || { \
	  echo "Installing pinned test packages from $(2)"; \
	  $(1)/bin/python -m pip install -q --disable-pip-version-check --require-hashes --only-binary :all: -r $(2) && \
	  cp $(2) $(1)/installed-requirements.txt; }
endef

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
	for p in redis-tools redis-server lz4 python3-venv iproute2 tmux openssl memcached libmemcached-tools chromium; do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing test packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	$(call pinned-venv,$(VENV),Tests/e2e/requirements.txt)
	$(call pinned-venv,$(VENV_NEWEST),Tests/e2e/requirements-newest-redis-py.txt)

unit-test: test-deps
	swift test

e2e-test: test-deps
	$(RELEASE) --product strata-server
	$(RELEASE) --product strata-dump
	STRATA_SERVER=$(CURDIR)/.build/release/strata-server STRATA_DUMP=$(CURDIR)/.build/release/strata-dump \
	  $(PYTHON) -m pytest -q Tests/e2e --ignore=$(NEWEST_CLIENT_TESTS)
	STRATA_SERVER=$(CURDIR)/.build/release/strata-server STRATA_DUMP=$(CURDIR)/.build/release/strata-dump \
	  $(VENV_NEWEST)/bin/python -m pytest -q $(NEWEST_CLIENT_TESTS)

test: unit-test e2e-test

bench: test-deps
	$(RELEASE) --product strata-server
	Tools/bench-vs-redis.sh

lint:
	swift format lint --strict -r Sources Tests

clean:
	rm -rf .build data $(VENV) $(VENV_NEWEST)
