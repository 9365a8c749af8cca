# sock: build, demo, test. See README.md.
GO      ?= go
VERSION ?= $(shell git describe --tags --always 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: build demo test
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/sock ./cmd/sock

# The main job end to end on the bundled example, offline.
demo: build
	./examples/sleepd/demo.sh

# The whole test suite (what CI runs).
test:
	./test.sh
