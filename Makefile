# ozmapd — the two commands: `make demo` runs the service, `make test` runs the tests.
SWIFT        ?= swift
SWIFT_FLAGS  ?=
BIN           = $(shell $(SWIFT) build $(SWIFT_FLAGS) --show-bin-path)
PROTO_DIR     = proto
PROTO_FILES   = $(sort $(wildcard $(PROTO_DIR)/archolt/ozmap/v1/*.proto))
GEN_DIR       = Sources/Wire/OZmapProtoC
DEMO_DIR     ?= $(CURDIR)/demo-state
# The C and Python clients build under .build-clients; the Python venv also runs tools/codegen.
CLIENTS_OUT   = $(CURDIR)/.build-clients
PY_VENV       = $(CLIENTS_OUT)/venv
SYSTEM_PKGS   = libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libcurl4-openssl-dev libsqlite3-dev pkg-config zlib1g-dev

.PHONY: deps proto proto-check proto-check-c proto-check-swift proto-check-test codegen-python build check test soak demo bench bench-import bench-codec bench-scale clean fuzz-build fuzz fuzz-check fuzz-corpus test-asan \
  clients clients-c clients-python clients-grpc clients-python-proto clients-python-proto-check

# Fuzzing and AddressSanitizer (docs/FUZZING.md), each in its own scratch path.
# The fuzz target is built optimised: in debug it runs ten times slower.
FUZZ_SCRATCH  = .build-fuzz
FUZZ_BIN      = $(FUZZ_SCRATCH)/release/ozmap-fuzz
FUZZ_WORK     = $(FUZZ_SCRATCH)/work
FUZZ_FLAGS    = -timeout=10 -rss_limit_mb=4096 -print_final_stats=1
# Short allocation stacks: recording them on every malloc is most of ASan's
# cost here; `ozmap-fuzz CRASH_FILE` replays a crash with full stacks.
FUZZ_ASAN     = ASAN_OPTIONS=malloc_context_size=5:detect_leaks=1
ASAN_SCRATCH  = .build-asan
ASAN_LOGS     = $(CURDIR)/$(ASAN_SCRATCH)/reports
# The latency comparisons (GetStatus p99 beside a load against p99 alone) run by
# themselves, after the rest: beside the whole suite, the "alone" figure was itself
# taken under load (3.8 s once) and the comparison proved nothing. Under ASan's
# uneven slowdown they mean nothing: the plain run only.
LATENCY_TESTS = hostileClientsAreCutOffAndAWellBehavedOneKeepsItsLatency aSlowOZmapKeepsTheSocketResponsive
LATENCY_SKIP  = $(addprefix --skip ,$(LATENCY_TESTS))
LATENCY_ONLY  = $(addprefix --filter ,$(LATENCY_TESTS))
# Everything runs about 3x slower under ASan on 2 cores: the tests' waits get 3x
# their deadline (OZMAPD_TEST_TIME_SCALE), at most 4 tests run at once, and the fault
# scenarios, kill -9 rounds, the shared-record workload and the 64,000-call flood, which load the machine most,
# run after the rest, one at a time. Beside the rest they starved its calls past any
# deadline (the flood: docs/RELIABILITY.md, "Known limits").
ASAN_WIDTH    = --experimental-maximum-parallelization-width 3
# The plain suite runs its in-process daemons eight tests at a time: unbounded, the
# 2-core machine starves the calls of 30 s deadlines under load.
TEST_WIDTH    = --experimental-maximum-parallelization-width 8
# The 64 connections x 1,000 pipelined calls: beside other tests it starves their calls
# (docs/RELIABILITY.md, "Known limits"), so it runs by itself in both suites.
FLOOD_TEST    = sixtyFourConnectionsOfAThousandPipelinedCallsEachAnsweredOnce
ASAN_FLOOD    = $(FLOOD_TEST)
ASAN_HEAVY    = --filter FaultScenarioTests --filter CrashTests --filter SharedRecordWorkloadTests --filter $(ASAN_FLOOD)
ASAN_TEST     = ASAN_OPTIONS=detect_leaks=0:log_path=$(ASAN_LOGS)/runner \
  OZMAPD_CHILD_ASAN_OPTIONS=detect_leaks=1:log_path=$(ASAN_LOGS)/child \
  LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan-suppressions.txt:print_suppressions=0 \
  OZMAPD_TEST_TIME_SCALE=3 \
  OZMAPD_BIN_DIR="$$($(SWIFT) build --sanitize=address --scratch-path $(ASAN_SCRATCH) --show-bin-path)" \
  $(SWIFT) test --skip-build --sanitize=address --scratch-path $(ASAN_SCRATCH)

# Installs the system packages the build needs, only when something is missing.
deps:
	@if ! command -v protoc-c >/dev/null 2>&1 || ! command -v protoc >/dev/null 2>&1 || ! command -v pkg-config >/dev/null 2>&1 \
	    || ! pkg-config --exists libprotobuf-c libcurl sqlite3 zlib; then \
	  echo "== installing $(SYSTEM_PKGS)"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(SYSTEM_PKGS); \
	fi

# Regenerates the committed code generated from proto/: protoc-c's C, the Swift
# messages and service (tools/codegen: a protoc plugin in Python on PyPI's protobuf, in
# the clients' venv) with the tests' samples, and the Python client's _pb2 modules.
SWIFT_GEN_DIR    = Sources/Wire/ArcholtOZmapV1/Generated
SWIFT_SAMPLES_DIR = Tests/OZmapRPCTests/Generated
CODEGEN_PYTHON   = $(PY_VENV)/bin/python
CODEGEN          = OZMAPD_CODEGEN_PYTHON=$(CODEGEN_PYTHON) protoc --proto_path=$(PROTO_DIR) \
  --plugin=protoc-gen-ozmapd-swift=tools/codegen/protoc-gen-ozmapd-swift

proto: deps codegen-python
	@tmp=$$(mktemp -d) && protoc-c --proto_path=$(PROTO_DIR) --c_out=$$tmp $(PROTO_FILES) \
	  && rm -rf $(GEN_DIR)/archolt $(GEN_DIR)/include/archolt \
	  && mkdir -p $(GEN_DIR)/archolt/ozmap/v1 $(GEN_DIR)/include/archolt/ozmap/v1 \
	  && cp $$tmp/archolt/ozmap/v1/*.c $(GEN_DIR)/archolt/ozmap/v1/ \
	  && cp $$tmp/archolt/ozmap/v1/*.h $(GEN_DIR)/include/archolt/ozmap/v1/ \
	  && rm -rf $$tmp && echo "== regenerated $(GEN_DIR) from $(PROTO_FILES)"
	@rm -rf $(SWIFT_GEN_DIR) $(SWIFT_SAMPLES_DIR) && mkdir -p $(SWIFT_GEN_DIR) $(SWIFT_SAMPLES_DIR) \
	  && $(CODEGEN) --ozmapd-swift_out=$(SWIFT_GEN_DIR) $(PROTO_FILES) \
	  && $(CODEGEN) --ozmapd-swift_out=samples:$(SWIFT_SAMPLES_DIR) $(PROTO_FILES) \
	  && echo "== regenerated $(SWIFT_GEN_DIR) and $(SWIFT_SAMPLES_DIR)"
	@$(MAKE) --no-print-directory clients-python-proto

# Fails when the committed generated code is not what proto/ and the generators make.
proto-check: deps proto-check-c proto-check-swift clients-python-proto-check

proto-check-c: deps
	@tmp=$$(mktemp -d) && protoc-c --proto_path=$(PROTO_DIR) --c_out=$$tmp $(PROTO_FILES) \
	  && fail=0; for f in $$tmp/archolt/ozmap/v1/*; do \
	    name=$$(basename $$f); case $$name in *.h) dest=$(GEN_DIR)/include/archolt/ozmap/v1/$$name;; *) dest=$(GEN_DIR)/archolt/ozmap/v1/$$name;; esac; \
	    if ! cmp -s $$f $$dest; then echo "stale generated file: $$dest (run 'make proto' and commit)"; fail=1; fi; \
	  done; rm -rf $$tmp; \
	  [ $$fail = 0 ] && echo "== protoc-c output is current"

proto-check-swift: deps codegen-python
	@tmp=$$(mktemp -d) && mkdir $$tmp/src $$tmp/tests \
	  && $(CODEGEN) --ozmapd-swift_out=$$tmp/src $(PROTO_FILES) && $(CODEGEN) --ozmapd-swift_out=samples:$$tmp/tests $(PROTO_FILES) \
	  && if diff -r $$tmp/src $(SWIFT_GEN_DIR) >/dev/null && diff -r $$tmp/tests $(SWIFT_SAMPLES_DIR) >/dev/null; then \
	    rm -rf $$tmp; echo "== generated Swift is current"; \
	  else diff -r -q $$tmp/src $(SWIFT_GEN_DIR); diff -r -q $$tmp/tests $(SWIFT_SAMPLES_DIR); rm -rf $$tmp; \
	    echo "stale generated Swift (run 'make proto' and commit)"; exit 1; fi

# The generator's Python: the clients' venv with PyPI's protobuf.
codegen-python: $(PY_VENV)/.protobuf-installed

$(PY_VENV)/.protobuf-installed:
	@[ -x $(PY_VENV)/bin/python ] || python3 -m venv $(PY_VENV)
	$(PY_VENV)/bin/pip install --quiet --disable-pip-version-check 'protobuf>=4.21'
	@touch $@

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

# The tiers (README, "Tests"):
#   make check  the inner loop: codec, framing, wire mirrors, domain logic with in-memory
#               fakes, the simulator, the import file reader, ozmapd's handlers and field
#               validation through GRPCCore's in-process transport — in process, no socket or daemon.
#   make test   the whole plain suite: real sockets, real processes, libcurl to ozmap-sim.
#   .ci/run     make test, then the bounded fuzz run, the suite under AddressSanitizer and
#               make test-package.
CHECK_SUITES  = --filter OZmapDomainTests --filter OZmapRPCTests --filter OZmapCtlSupportTests --filter OZmapSimulatorTests \
  --filter InProcessHandlerTests

check: deps proto-check
	$(SWIFT) build $(SWIFT_FLAGS) --build-tests
	OZMAPD_BIN_DIR="$(BIN)" $(SWIFT) test $(SWIFT_FLAGS) --skip-build $(CHECK_SUITES)

# The RSS measurements: 100,000 calls (MemoryTests) and full passes of two network sizes
# (SyncMemoryTests, issue 14). Beside other tests their figures would be other tests' load.
MEMORY_SUITES = MemoryTests SyncMemoryTests

# MemoryTests, SyncMemoryTests and the flood run on their own, one after the other: their 100,000 and
# 64,000 calls load the machine and would disturb the latency and timeout tests running
# beside them (beside the flood, a client library's move answered "pending" after its
# 10 s). The latency comparisons then run alone, one at a time.
# A proto field edited without `make proto` fails proto-check (scripts/proto-check-test.sh).
proto-check-test: deps codegen-python
	@MAKE="$(MAKE)" sh scripts/proto-check-test.sh

test: deps proto-check proto-check-test clients
	$(SWIFT) build $(SWIFT_FLAGS) --build-tests
	OZMAPD_BIN_DIR="$(BIN)" $(SWIFT) test $(SWIFT_FLAGS) --skip-build $(addprefix --skip ,$(MEMORY_SUITES)) --skip $(FLOOD_TEST) $(LATENCY_SKIP) $(TEST_WIDTH)
	OZMAPD_BIN_DIR="$(BIN)" $(SWIFT) test $(SWIFT_FLAGS) --skip-build $(addprefix --filter ,$(MEMORY_SUITES)) --filter $(FLOOD_TEST) --no-parallel
	OZMAPD_BIN_DIR="$(BIN)" $(SWIFT) test $(SWIFT_FLAGS) --skip-build $(LATENCY_ONLY) --no-parallel

fuzz-build: deps
	$(SWIFT) build --scratch-path $(FUZZ_SCRATCH) -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -DOZMAP_FUZZ --product ozmap-fuzz

# Open-ended fuzzing (FUZZ_SECONDS, default 600) from the committed corpus; what it
# finds stays in $(FUZZ_WORK)/corpus, crashes in $(FUZZ_WORK)/artifacts.
fuzz: fuzz-build
	@mkdir -p $(FUZZ_WORK)/corpus $(FUZZ_WORK)/artifacts && cp Fuzz/corpus/* $(FUZZ_WORK)/corpus/
	$(FUZZ_ASAN) $(FUZZ_BIN) $(FUZZ_FLAGS) -max_total_time=$${FUZZ_SECONDS:-600} -artifact_prefix=$(FUZZ_WORK)/artifacts/ $(FUZZ_WORK)/corpus

# CI: a bounded, seeded run from a fresh copy of the committed corpus; fails on any crash, leak or sanitizer report.
fuzz-check: fuzz-build
	@rm -rf $(FUZZ_WORK)/check && mkdir -p $(FUZZ_WORK)/check/corpus && cp Fuzz/corpus/* $(FUZZ_WORK)/check/corpus/
	$(FUZZ_ASAN) $(FUZZ_BIN) $(FUZZ_FLAGS) -runs=200000 -seed=1 -artifact_prefix=$(FUZZ_WORK)/check/ $(FUZZ_WORK)/check/corpus

# Regenerates the seed corpus (after a change to the protocol).
fuzz-corpus: fuzz-build
	rm -f Fuzz/corpus/* && $(FUZZ_BIN) --write-corpus Fuzz/corpus

# The whole suite under AddressSanitizer. LeakSanitizer checks the processes the
# tests start (ozmapd, ozmapctl, ozmap-sim) as they exit, not the test runner, whose
# Foundation.Process and XCTest objects it reports as leaked. Every report is
# written under $(ASAN_LOGS); one fails the run even if no test noticed it.
# (The linker's "Cannot export local symbol" lines are ASan noise, filtered.)
test-asan: deps
	@rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS)
	@{ $(SWIFT) build --build-tests --sanitize=address --scratch-path $(ASAN_SCRATCH) 2>&1; echo $$? > $(ASAN_LOGS)/.build-status; } \
	  | grep -v "Cannot export local symbol"; exit $$(cat $(ASAN_LOGS)/.build-status)
	status=0; \
	$(ASAN_TEST) $(addprefix --skip ,$(MEMORY_SUITES)) --skip FaultScenarioTests --skip CrashTests --skip SharedRecordWorkloadTests --skip $(ASAN_FLOOD) $(LATENCY_SKIP) $(ASAN_WIDTH) || status=1; \
	$(ASAN_TEST) $(ASAN_HEAVY) $(LATENCY_SKIP) --no-parallel || status=1; \
	$(ASAN_TEST) $(addprefix --filter ,$(MEMORY_SUITES)) || status=1; \
	if ls $(ASAN_LOGS)/* >/dev/null 2>&1; then cat $(ASAN_LOGS)/*; echo "== AddressSanitizer reports above"; exit 1; fi; exit $$status

# The OZmap simulator and ozmapd pointed at it, state in ./demo-state; Ctrl-C stops both.
demo: build
	@scripts/demo.sh "$(BIN)" "$(DEMO_DIR)"


# The fault scenarios (docs/RELIABILITY.md) OZMAPD_SOAK times longer: 5,000 operations
# through the outage, 100 kill -9 rounds, ... by default.
soak: deps
	$(SWIFT) build $(SWIFT_FLAGS) --build-tests
	OZMAPD_SOAK=$${OZMAPD_SOAK:-5} OZMAPD_BIN_DIR="$(BIN)" $(SWIFT) test $(SWIFT_FLAGS) --skip-build \
	  --filter 'FaultScenarioTests|CrashTests|StateDirectoryFaultTests' 2>&1 | tee soak.log | grep -E 'figures|✘|passed after|failed after'; \
	  grep -q 'Test run with .* passed after' soak.log

# What a call costs (docs/PERFORMANCE.md, "Calls over the socket"): the release ozmapd as a child
# process and a C client (Benchmarks/framebench), against a C framed-echo floor measured in the
# same run. BENCH_RPC_ARGS="--keep-awake" keeps the cores out of deep idle (a steadier floor).
bench: deps
	mkdir -p .build-bench
	$(CC) -O2 -Wall -Wextra -o .build-bench/framebench Benchmarks/framebench/framebench.c
	$(SWIFT) build -c release --product ozmapd
	$(SWIFT) build -c release --product ozmap-bench
	python3 scripts/bench-rpc.py .build-bench/framebench $$($(SWIFT) build -c release --show-bin-path)/ozmapd \
	  $$($(SWIFT) build -c release --show-bin-path)/ozmap-bench $(BENCH_RPC_ARGS)

# Coding a message: the descriptor-driven ProtoValue + Codable path against the generated
# code (docs/PERFORMANCE.md, "Message coding"). BENCH_CODEC_ROUNDS changes the rounds.
bench-codec: deps
	$(SWIFT) build -c release --product ozmap-bench
	$$($(SWIFT) build -c release --show-bin-path)/ozmap-bench codec $(BENCH_CODEC_ROUNDS)

# ImportONUs of an existing fleet against ozmap-sim (docs/PERFORMANCE.md, "Importing the
# existing fleet"): 10,000 rows, 20,000 boxes. BENCH_IMPORT_ARGS changes the sizes
# (--boxes --olts --rows --occupied --baseline). Exits non-zero on a duplicate, a lost row
# or a second apply that writes.
bench-import: deps
	$(SWIFT) build -c release --product ozmap-sim
	$(SWIFT) build -c release --product ozmap-bench
	$$($(SWIFT) build -c release --show-bin-path)/ozmap-bench import $(BENCH_IMPORT_ARGS)

# A network of NETWORK boxes (default 10,000): ozmapd's initial load against the transfer floor,
# peak RSS, an incremental pass, lookups, a restart (docs/PERFORMANCE.md, "A network at scale").
# Each run appends its result line to $(SCALE_RESULTS) and redraws $(SCALE_CHART) from that file.
NETWORK       ?= 10000
SCALE_RESULTS ?= docs/bench-scale-results.txt
SCALE_CHART   ?= docs/bench-scale.png
bench-scale: deps codegen-python
	$(SWIFT) build -c release --product ozmap-sim
	$(SWIFT) build -c release --product ozmapd
	$(SWIFT) build -c release --product ozmap-bench
	$$($(SWIFT) build -c release --show-bin-path)/ozmap-bench scale --boxes $(NETWORK) --results $(SCALE_RESULTS)
	@$(PY_VENV)/bin/python -c 'import matplotlib' 2>/dev/null || $(PY_VENV)/bin/pip install --quiet --disable-pip-version-check matplotlib
	$(PY_VENV)/bin/python scripts/bench-scale-chart.py $(SCALE_RESULTS) $(SCALE_CHART)

clean:
	rm -rf .build .build-clients $(DEMO_DIR)

# The C and Python clients of ozmapd (docs/CLIENTS.md), built under .build-clients/:
# c/bin/ozmap-example, c/lib/libozmap.{a,so}, c/lib/pkgconfig/ozmap.pc, c/include/ozmap/,
# and venv/ with ozmap-client installed. ClientLibrariesTests runs both against ozmapd.
PY_GEN_DIR    = clients/python/src/ozmap_client/proto
PY_SOURCES    = $(shell find clients/python -name '*.py' -o -name pyproject.toml -o -name README.md)

clients: clients-c clients-python clients-grpc

clients-c: deps
	@$(MAKE) --no-print-directory -C clients/c ROOT=$(CURDIR) OUT=$(CLIENTS_OUT)/c

# A venv (python3 -m venv) with the package and PyPI's protobuf; built from a copy, so
# that no build/ or egg-info lands in the tree.
clients-python: $(PY_VENV)/.ozmap-client-installed

$(PY_VENV)/.ozmap-client-installed: $(PY_SOURCES)
	@[ -x $(PY_VENV)/bin/python ] || python3 -m venv $(PY_VENV)
	@rm -rf $(CLIENTS_OUT)/python-src && cp -r clients/python $(CLIENTS_OUT)/python-src
	$(PY_VENV)/bin/pip install --quiet --disable-pip-version-check $(CLIENTS_OUT)/python-src
	@touch $@

# Stock grpcio and grpcio-tools from PyPI, in a venv of their own (their protobuf is not the
# client's): OZmapGRPCTests calls ozmapd's standard gRPC listener (grpc_socket) with them, on stubs
# generated from proto/ at test time (docs/examples/grpc_client.py).
GRPC_VENV     = $(CLIENTS_OUT)/grpc-venv

clients-grpc: $(GRPC_VENV)/.grpcio-installed

$(GRPC_VENV)/.grpcio-installed:
	@[ -x $(GRPC_VENV)/bin/python ] || python3 -m venv $(GRPC_VENV)
	$(GRPC_VENV)/bin/pip install --quiet --disable-pip-version-check 'grpcio>=1.60' 'grpcio-tools>=1.60'
	@touch $@

# Regenerates the committed protoc --python_out modules of clients/python from proto/.
clients-python-proto: deps
	@tmp=$$(mktemp -d) && protoc --proto_path=$(PROTO_DIR) --python_out=$$tmp $(PROTO_FILES) \
	  && cp $$tmp/archolt/ozmap/v1/*_pb2.py $(PY_GEN_DIR)/ && rm -rf $$tmp && echo "== regenerated $(PY_GEN_DIR)"

# Fails when the committed _pb2 modules are not what proto/ generates (part of proto-check).
clients-python-proto-check: deps
	@tmp=$$(mktemp -d) && protoc --proto_path=$(PROTO_DIR) --python_out=$$tmp $(PROTO_FILES) \
	  && fail=0; for f in $$tmp/archolt/ozmap/v1/*_pb2.py; do \
	    if ! cmp -s $$f $(PY_GEN_DIR)/$$(basename $$f); then echo "stale generated file: $(PY_GEN_DIR)/$$(basename $$f) (run 'make proto' and commit)"; fail=1; fi; \
	  done; rm -rf $$tmp; \
	  [ $$fail = 0 ] && echo "== protoc --python_out output is current"

# Install and package (docs/INSTALL.md). A release build with the Swift runtime linked in
# statically (no Swift toolchain on the target), in its own scratch path.
.PHONY: release install deb
PREFIX          ?= /usr/local
SYSCONFDIR      ?= /etc
UNITDIR         ?= $(PREFIX)/lib/systemd/system
DOCDIR          ?= $(PREFIX)/share/doc/ozmapd
RELEASE_SCRATCH  = $(CURDIR)/.build-release
RELEASE_FLAGS    = -c release --static-swift-stdlib --scratch-path $(RELEASE_SCRATCH)
RELEASE_BIN      = $(RELEASE_SCRATCH)/release

release: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product ozmapd
	$(SWIFT) build $(RELEASE_FLAGS) --product ozmapctl

install: release
	PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" SYSCONFDIR="$(SYSCONFDIR)" UNITDIR="$(UNITDIR)" DOCDIR="$(DOCDIR)" \
	  packaging/install.sh "$(RELEASE_BIN)"

# → .build-release/ozmapd_<version>_<arch>.deb
deb: release
	packaging/make-deb.sh "$(RELEASE_BIN)" "$(RELEASE_SCRATCH)"

# InstallTests: `make install DESTDIR=…` and `make deb` checked against docs/INSTALL.md's
# file lists, and in each scratch tree the installed ozmapd under socket activation passing the
# installed `ozmapctl doctor` against ozmap-sim (the debug build's, hence --build-tests). A release
# build: ~12.5 min on 2 cores from cold. The last step of .ci/run.
.PHONY: test-package
test-package: deps
	$(SWIFT) build $(SWIFT_FLAGS) --build-tests
	OZMAPD_TEST_PACKAGE=1 OZMAPD_BIN_DIR="$(BIN)" $(SWIFT) test $(SWIFT_FLAGS) --skip-build --filter InstallTests
