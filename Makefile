# The two commands of Aurora SendCloud:
#   make run   installs what is missing, builds Release and starts sendcloudd on 127.0.0.1:8080
#   make test  installs what is missing, then builds and runs every test: a normal build, an
#              AddressSanitizer+UBSan build, and the libFuzzer targets for a bounded time.

JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 20
LISTEN ?= 127.0.0.1:8080
DATA_DIR ?= ./var

.PHONY: run test deps e2e-deps build build-release test-normal test-asan test-fuzz bench soak format check-format clean

deps:
	@bash scripts/install-deps.sh

build-release: deps
	cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSC_BUILD_TESTS=OFF -DSC_TEST_CONTROLS=OFF
	cmake --build build/release --target sendcloudd -j $(JOBS)

run: build-release
	./build/release/src/sendcloudd/sendcloudd --listen $(LISTEN) --data-dir $(DATA_DIR)

# The e2e tests drive headless Chromium: only the test targets install it, so `make run` never needs it.
e2e-deps: deps
	@bash scripts/install-e2e-deps.sh

build: deps e2e-deps
	cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSC_TEST_CONTROLS=ON -DSC_WERROR=ON
	cmake --build build/test -j $(JOBS)

test-normal: build
	ctest --test-dir build/test --output-on-failure -j $(JOBS)

test-asan: deps e2e-deps
	cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSC_SANITIZE=ON -DSC_TEST_CONTROLS=ON -DSC_WERROR=ON
	cmake --build build/asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir build/asan --output-on-failure -j $(JOBS)

test-fuzz: deps
	CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSC_FUZZ=ON -DSC_WERROR=ON \
	  -DSC_FUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build build/fuzz -j $(JOBS)
	ctest --test-dir build/fuzz --output-on-failure

test: test-normal test-asan test-fuzz check-format

# Load test against the ceiling server and Kannel, then the micro-suite, then email delivery
# against smtp-source's ceiling and a Postfix instance of its own, then SMS submission over SMPP
# beside Kannel (bench/sms.sh); appends to bench/README.md.
bench: deps
	bash bench/run.sh
	bash bench/delivery.sh
	bash bench/queue_drain.sh
	bash bench/sms.sh

# A bounded soak (30 minutes; SOAK_MINUTES to change): half of peak load with deliveries, key
# resets and console use; samples RSS, descriptors, database size and p99 every minute into
# bench/README.md, and fails on growth that does not level off.
soak: deps
	bash bench/soak.sh

format:
	find src tests bench -name '*.h' -o -name '*.cpp' | xargs clang-format -i

check-format:
	@out=$$(find src tests bench -name '*.h' -o -name '*.cpp' 2>/dev/null | xargs clang-format --dry-run 2>&1); \
	  if [ -n "$$out" ]; then echo "$$out" | head -40; echo "clang-format: run 'make format'"; exit 1; fi; \
	  echo "clang-format: clean"

clean:
	rm -rf build
