# o2edge.perf — the README's two commands are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL := .build/o2edge-perf-$(VERSION).tar.gz
COLLECTIONS := $(CURDIR)/.build/collections
LAB := $(PY) -m tests.lab
PLAYBOOK := $(VENV)/bin/ansible-playbook
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)

.PHONY: help deps apt venv build demo test sanity units integration runner lint mutation lab-up lab-down lab-status clean

help:
	@echo "make demo   - install what is missing, build and install the collection, bring the lab up, run the main playbook"
	@echo "make test   - sanity, unit tests, integration plays on the lab, ansible-lint, build and install"
	@echo "make mutation - mutation testing of the core module_utils (slow, outside make test)"
	@echo "make lab-up | lab-down | lab-status | clean"

# Debian packages first (python3-venv among them), then the project venv.
deps: apt venv
apt:
	@tests/tools/install-deps.sh

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-test.txt tests/tools/requirements-sanity.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements-test.txt -r tests/tools/requirements-sanity.txt
	touch $@

build: venv
	@mkdir -p .build
	rm -f .build/o2edge-perf-*.tar.gz
	$(VENV)/bin/ansible-galaxy collection build --force --output-path .build .
	$(VENV)/bin/ansible-galaxy collection install --force -p $(COLLECTIONS) $(TARBALL)

demo: deps build
	$(LAB) up
	@mkdir -p results
	ANSIBLE_CALLBACKS_ENABLED=o2edge.perf.perf_recap O2EDGE_PERF_RESULTS_DIR=$(CURDIR)/results/runs \
	  $(LAB) exec -- $(PLAYBOOK) -i .lab/edge-sites.yml o2edge.perf.site \
	  -e @.lab/management.yml -e o2edge_results_dir=$(CURDIR)/results
	@echo
	@echo "=== Fixing edge connectivity on COPIES of the lab's edge-sites config and known_hosts (results/demo/)"
	rm -rf results/demo && mkdir -p results/demo
	cp .lab/edge-sites.yml .lab/ssh/known_hosts results/demo/
	ANSIBLE_CALLBACKS_ENABLED=o2edge.perf.perf_recap O2EDGE_PERF_RESULTS_DIR=$(CURDIR)/results/runs \
	  $(LAB) exec -- $(PLAYBOOK) -i results/demo/edge-sites.yml o2edge.perf.fix_edge_connectivity \
	  -e o2edge_known_hosts_file=$(CURDIR)/results/demo/known_hosts \
	  -e '{"o2edge_edge_candidates": [{"site": "edge2", "addresses": ["198.18.103.10"], "cidrs": ["198.18.2.0/28", "198.18.104.8/29"]}]}' \
	  -e o2edge_ssh_client_config=$(CURDIR)/results/demo/ssh_config \
	  -e ssh_tuning_control_dir=$$($(PY) -c 'from tests.lab import common; print(common.short_path("demo-cm"))') \
	  -e o2edge_results_dir=$(CURDIR)/results
	@echo
	@echo "=== Before/after: benchmark, optimize (kpt images pre-cached and unpacked, bwrap sandbox, render cache), benchmark, report"
	ANSIBLE_CALLBACKS_ENABLED=o2edge.perf.perf_recap O2EDGE_PERF_RESULTS_DIR=$(CURDIR)/results/runs \
	  $(LAB) exec -- $(PLAYBOOK) -i .lab/edge-sites.yml o2edge.perf.before_after \
	  -e @.lab/management.yml -e o2edge_results_dir=$(CURDIR)/results -e o2edge_kpt_sandbox=bwrap \
	  -e o2edge_runs=6 -e o2edge_kpt_runs=6 -e o2edge_io_size_mb=16 -e o2edge_kpt_render_cache=false \
	  -e o2edge_ssh_client_config=$(CURDIR)/results/demo/ssh_config \
	  -e ssh_tuning_control_dir=$$($(PY) -c 'from tests.lab import common; print(common.short_path("demo-cm"))')
	@echo
	@echo "=== Monitoring: perf_monitoring on the lab; edge1 blackholed: O2edgePerfProbeDown pending, firing, resolved; the rules stay loaded"
	$(LAB) exec -- $(PLAYBOOK) -i .lab/edge-sites-fixed.yml tests/integration/targets/perf_monitoring.yml \
	  -e lab_dir=$(CURDIR)/.lab -e mon_remove=false
	@echo "Alert rules loaded in the lab's Prometheus (http://198.18.0.1:9090/alerts inside the lab); dashboard JSON to import into Grafana: $(CURDIR)/.lab/prom/mgmt/rules/o2edge_perf.dashboard.json"
	@echo
	@echo "Results: $(CURDIR)/results; the fixed copies: results/demo/; reports: results/reports/ (index.html)"
	@echo "The lab stays up for you to explore: 'make lab-status', 'make lab-down'."

# Lanes on the two cores, after one build: the integration run (the lab: mostly waiting on
# sshd, timers and the network, so it keeps normal priority and streams its output) next to the
# CPU-bound steps (units, runner, lint, sanity: niced, in two lanes, output kept in
# .build/test-logs/ and printed when the lanes are done). They share no resource: the integration run uses the lab and
# .build/collections read-only, sanity its copy under .build/sanity, runner its own temporary
# folder. `-o build` keeps a lane step from rebuilding the collection the other lane is using.
# Every step's time is printed at the end (and kept in .build/test-logs/times).
# The CPU-bound steps run in two niced lanes, so that they can use both cores whenever the
# integration run waits (its lanes mostly wait on sshd, timers and the network).
TEST_CPU_LANE_1 := sanity runner
TEST_CPU_LANE_2 := units lint
TEST_CPU_STEPS := $(TEST_CPU_LANE_1) $(TEST_CPU_LANE_2)
test: deps
	@start=$$(date +%s); logs=.build/test-logs; rm -rf $$logs; mkdir -p $$logs; \
	step() { local t0=$$(date +%s) r=0; $(MAKE) --no-print-directory -o venv "$$@" || r=$$?; \
	  echo "$$1 $$(( $$(date +%s) - t0 )) $$([ $$r = 0 ] && echo passed || echo FAILED)" >> $$logs/times; return $$r; }; \
	echo "=== make build"; step build || { echo "=== FAILED: build"; exit 1; }; \
	( for s in $(TEST_CPU_LANE_1); do nice -n 10 bash -c "$$(declare -f step); logs=$$logs; step $$s -o build" \
	    > $$logs/$$s.log 2>&1; done ) & cpu1=$$!; \
	( for s in $(TEST_CPU_LANE_2); do nice -n 10 bash -c "$$(declare -f step); logs=$$logs; step $$s -o build" \
	    > $$logs/$$s.log 2>&1; done ) & cpu2=$$!; \
	echo "=== make integration (next to: $(TEST_CPU_LANE_1) | $(TEST_CPU_LANE_2), logs in $$logs/)"; step integration -o build; \
	wait $$cpu1 $$cpu2; \
	for s in $(TEST_CPU_STEPS); do echo "=== make $$s"; cat $$logs/$$s.log; done; \
	echo "=== step times (s):"; sed 's/^/    /' $$logs/times; rc=0; ! grep -q FAILED $$logs/times || rc=1; \
	grep FAILED $$logs/times | sed 's/^\([^ ]*\).*/=== FAILED: \1/'; \
	echo "=== make test took $$(( $$(date +%s) - start ))s"; exit $$rc

sanity: venv
	$(PY) tests/tools/sanity.py

units: venv
	$(PY) -m pytest -q tests/unit

integration: build
	$(PY) tests/integration/run.py

# ansible-runner (API, CLI, transmit | worker | process) and the execution environment's build context.
runner: venv
	$(PY) tests/runner/run.py

# Mutation testing of the core module_utils (slow; not part of `make test`): docs/mutation.md.
mutation: venv
	$(PY) tests/tools/mutation.py

lint: build
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/ansible-lint -q

lab-up: deps
	$(LAB) up
lab-down:
	$(LAB) down
lab-status:
	$(LAB) status

clean: lab-down
	rm -rf .build tests/output
