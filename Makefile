# Vectorize — the two commands of the quick start:
#   make run    installs what is missing, builds (Release) and serves on the embedded SQLite default
#   make test   installs what is missing, builds and runs the whole suite through CTest
BUILD ?= build
JOBS ?= $(shell nproc)
ARGS ?=

.PHONY: all deps configure build run test bench-seed clean format

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release > /dev/null

build: configure
	@cmake --build $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/vectorize serve $(ARGS)

# The storage contract suite and the PostgreSQL tests run against a private, throw-away cluster.
test: build
	bash scripts/test-postgres.sh run sh -c 'cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 600'

clean:
	rm -rf $(BUILD)

format:
	@find src tests bench -name '*.cc' -o -name '*.h' | xargs clang-format -i
