# simlab — the two commands a newcomer needs:
#   make run    install what is missing, build, and start `simlab serve`
#   make test   install test dependencies and run the whole suite
GO        ?= go
BIN       := bin/simlab
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME  ?= 10s
# Every Fuzz target, as package:FuzzName, found in *_test.go files.
FUZZ_TARGETS = $(shell grep -rl --include='*_test.go' '^func Fuzz' . | while read f; do \
	for n in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | sed 's/^func //'); do echo "./$$(dirname $$f):$$n"; done; done)

.PHONY: all build run serve test test-go lint vet fmt-check bench fuzz soak deps deps-test clean

all: build

deps:
	scripts/deps.sh build

deps-test:
	scripts/deps.sh test

build: deps
	$(GO) build -o $(BIN) ./cmd/simlab

# run: the main job on its embedded defaults (SMPP 127.0.0.1:2775, HTTP 127.0.0.1:8775).
run: build
	./$(BIN) serve

# test: everything CI runs. Integration tests start their own pcscd, Kannel,
# SoftHSM2 tokens and ptys; under CI=true a missing dependency fails them.
test: deps-test lint
	CGO_ENABLED=0 $(GO) build ./...
	$(GO) test -race -timeout 20m ./...
	$(MAKE) soak

# soak: a minute of LoA3 challenges at 300/s with bounded memory growth
# (docs/reliability.md); without -race, which would slow it several times.
soak:
	$(GO) test -count=1 -run '^TestSoak$$' -v ./simulator/

test-go:
	$(GO) test -race ./...

lint: fmt-check vet
	$(GO) run $(STATICCHECK) ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1s ./...

# fuzz: each fuzz target for $(FUZZTIME), starting from its committed corpus.
# A target that fails without writing a failing input hit Go 1.26's race at
# the end of -fuzztime (go.dev/issue/75804, "context deadline exceeded" on a
# loaded machine): it runs once more; a failing input fails at once.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name"; \
		before=$$(ls $$pkg/testdata/fuzz/$$name 2>/dev/null | wc -l); \
		if ! $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; then \
			if [ "$$(ls $$pkg/testdata/fuzz/$$name 2>/dev/null | wc -l)" != "$$before" ]; then exit 1; fi; \
			echo "fuzz $$pkg $$name: failed without a failing input (go.dev/issue/75804): once more"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
		fi; \
	done

clean:
	rm -rf bin
