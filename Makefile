# osk's developer entry points. Tools are pinned in hack/tools/go.mod and
# built into bin/; nothing is installed by hand.

GO            ?= go
BIN           := $(CURDIR)/bin
CONTROLLER_GEN := $(BIN)/controller-gen
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS       := -X github.com/oskproject/osk/internal/cli.Version=$(VERSION)

.PHONY: all build test generate manifests verify vet fmt golden bench

all: build

## build: build the osk binary into bin/osk
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/osk ./cmd/osk

$(CONTROLLER_GEN): hack/tools/go.mod hack/tools/go.sum
	cd hack/tools && $(GO) build -o $(CONTROLLER_GEN) sigs.k8s.io/controller-tools/cmd/controller-gen

## generate: regenerate deepcopy code, CRDs and RBAC
generate: $(CONTROLLER_GEN)
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd/bases

## fmt: format the Go code
fmt:
	gofmt -w $$(git ls-files '*.go')

## vet: go vet
vet:
	$(GO) vet ./...

## test: vet and run every test (the README's test command)
test: vet
	$(GO) test ./...

## golden: rewrite the golden files of the renderer (review the diff!)
golden:
	$(GO) test ./internal/render/... -update

## bench: run the benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/render/...

## verify: fail when generated files or formatting are stale
verify: generate
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	@git diff --exit-code -- api config || { echo "generated files are stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- api config)" || { git status --porcelain -- api config; echo "untracked generated files: run make generate and commit"; exit 1; }
