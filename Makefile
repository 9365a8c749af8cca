# sock: build, demo, test. See README.md.
GO      ?= go
VERSION ?= $(shell git describe --tags --always 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: build demo test docs man
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/sock ./cmd/sock

# The main job end to end on the bundled example, offline.
demo: build
	./examples/sleepd/demo.sh

# The whole test suite (what CI runs).
test:
	./test.sh

# The command reference, docs/commands/*.md, generated from the commands'
# help texts (TestCommandDocs fails when it is stale).
docs: build
	bin/sock docs --markdown docs/commands

# Man pages (section 1) in out/man, not committed: man -l out/man/sock-sew.1
man: build
	bin/sock docs --man out/man
