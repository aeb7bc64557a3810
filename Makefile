# ozmapd — the two commands: `make demo` runs the service, `make test` runs the tests.
SWIFT        ?= swift
SWIFT_FLAGS  ?=
BIN           = $(shell $(SWIFT) build $(SWIFT_FLAGS) --show-bin-path)
PROTO_DIR     = proto
PROTO_FILES   = $(sort $(wildcard $(PROTO_DIR)/archolt/ozmap/v1/*.proto))
GEN_DIR       = Sources/Wire/OZmapProtoC
DEMO_DIR     ?= $(CURDIR)/demo-state
SYSTEM_PKGS   = libprotobuf-c-dev protobuf-c-compiler libcurl4-openssl-dev libsqlite3-dev pkg-config

.PHONY: deps proto proto-check build test demo bench clean

# Installs the system packages the build needs, only when something is missing.
deps:
	@if ! command -v protoc-c >/dev/null 2>&1 || ! command -v pkg-config >/dev/null 2>&1 \
	    || ! pkg-config --exists libprotobuf-c libcurl sqlite3; then \
	  echo "== installing $(SYSTEM_PKGS)"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(SYSTEM_PKGS); \
	fi

# Regenerates the committed protoc-c output from proto/.
proto: deps
	@tmp=$$(mktemp -d) && protoc-c --proto_path=$(PROTO_DIR) --c_out=$$tmp $(PROTO_FILES) \
	  && rm -rf $(GEN_DIR)/archolt $(GEN_DIR)/include/archolt \
	  && mkdir -p $(GEN_DIR)/archolt/ozmap/v1 $(GEN_DIR)/include/archolt/ozmap/v1 \
	  && cp $$tmp/archolt/ozmap/v1/*.c $(GEN_DIR)/archolt/ozmap/v1/ \
	  && cp $$tmp/archolt/ozmap/v1/*.h $(GEN_DIR)/include/archolt/ozmap/v1/ \
	  && rm -rf $$tmp && echo "== regenerated $(GEN_DIR) from $(PROTO_FILES)"

# Fails when the committed protoc-c output is not what proto/ generates.
proto-check: deps
	@tmp=$$(mktemp -d) && protoc-c --proto_path=$(PROTO_DIR) --c_out=$$tmp $(PROTO_FILES) \
	  && fail=0; for f in $$tmp/archolt/ozmap/v1/*; do \
	    name=$$(basename $$f); case $$name in *.h) dest=$(GEN_DIR)/include/archolt/ozmap/v1/$$name;; *) dest=$(GEN_DIR)/archolt/ozmap/v1/$$name;; esac; \
	    if ! cmp -s $$f $$dest; then echo "stale generated file: $$dest (run 'make proto' and commit)"; fail=1; fi; \
	  done; rm -rf $$tmp; \
	  [ $$fail = 0 ] && echo "== protoc-c output is current"

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

test: deps proto-check
	$(SWIFT) build $(SWIFT_FLAGS) --build-tests
	OZMAPD_BIN_DIR="$(BIN)" $(SWIFT) test $(SWIFT_FLAGS) --skip-build

# The OZmap simulator and ozmapd pointed at it, state in ./demo-state; Ctrl-C stops both.
demo: build
	@scripts/demo.sh "$(BIN)" "$(DEMO_DIR)"

bench: deps
	$(SWIFT) build -c release --product ozmap-bench
	$$($(SWIFT) build -c release --show-bin-path)/ozmap-bench

clean:
	rm -rf .build $(DEMO_DIR)
