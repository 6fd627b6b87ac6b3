# osk's developer entry points. Tools are pinned in hack/tools/go.mod and
# built into bin/; nothing is installed by hand.

GO            ?= go
BIN           := $(CURDIR)/bin
CONTROLLER_GEN := $(BIN)/controller-gen
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS       := -X github.com/oskproject/osk/internal/catalog.OskVersion=$(VERSION)
# The Prometheus Operator's CRDs of the kinds StackLight renders, generated
# from its pinned Go API for the sandbox's tests.
MONITORING_API := github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring
STACKLIGHT_CRDS := test/testdata/prometheus-operator-crds
# Rook's CRDs of the kinds osk's Ceph controller renders, generated from
# Rook's own Go types by the tools module hack/rookcrds (its own go.mod:
# Rook's API is kept out of osk's), for the sandbox's tests.
ROOK_CRDS     := test/testdata/rook-crds
ROOK_GEN      := $(BIN)/controller-gen-rook

.PHONY: rook-crds test-kill bench-scale bench-operator all build test test-unit test-sandbox generate manifests verify vet fmt golden bench bench-sandbox sandbox demo demo-down

all: build

## build: build the osk binary into bin/osk
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/osk ./cmd/osk

$(CONTROLLER_GEN): hack/tools/go.mod hack/tools/go.sum
	cd hack/tools && $(GO) build -o $(CONTROLLER_GEN) sigs.k8s.io/controller-tools/cmd/controller-gen

$(ROOK_GEN): hack/rookcrds/go.mod hack/rookcrds/go.sum
	cd hack/rookcrds && $(GO) build -o $(ROOK_GEN) sigs.k8s.io/controller-tools/cmd/controller-gen

## rook-crds: regenerate Rook's CRDs (CephCluster, CephBlockPool, CephClient, CephObjectStore) from Rook's types
rook-crds: $(ROOK_GEN)
	rm -rf $(ROOK_CRDS).tmp
	cd hack/rookcrds && $(ROOK_GEN) crd:maxDescLen=0,allowDangerousTypes=true paths=github.com/rook/rook/pkg/apis/ceph.rook.io/v1 output:crd:dir=$(CURDIR)/$(ROOK_CRDS).tmp
	mkdir -p $(ROOK_CRDS)
	for k in cephclusters cephblockpools cephclients cephobjectstores; do cp $(ROOK_CRDS).tmp/ceph.rook.io_$$k.yaml $(ROOK_CRDS)/; done
	rm -rf $(ROOK_CRDS).tmp

## generate: regenerate deepcopy code, CRDs, RBAC, the webhook configurations and the test CRDs of other projects
generate: $(CONTROLLER_GEN) rook-crds
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=osk-operator paths=./internal/controllers/... output:rbac:artifacts:config=config/rbac
	$(CONTROLLER_GEN) webhook paths=./internal/admission/... output:webhook:artifacts:config=config/webhook
	rm -rf $(STACKLIGHT_CRDS).tmp
	$(CONTROLLER_GEN) crd:maxDescLen=0 paths=$(MONITORING_API)/v1 paths=$(MONITORING_API)/v1alpha1 output:crd:dir=$(STACKLIGHT_CRDS).tmp
	mkdir -p $(STACKLIGHT_CRDS)
	for k in prometheusrules podmonitors alertmanagerconfigs; do cp $(STACKLIGHT_CRDS).tmp/monitoring.coreos.com_$$k.yaml $(STACKLIGHT_CRDS)/; done
	rm -rf $(STACKLIGHT_CRDS).tmp

## fmt: format the Go code
fmt:
	gofmt -w $$(git ls-files '*.go')

## vet: go vet
vet:
	$(GO) vet ./...

## sandbox: build the sandbox's binaries into the user's cache, unless cached
sandbox:
	$(GO) run ./cmd/osk sandbox build >/dev/null

# TEST_TIMEOUT bounds each test package: test/openstack (with Tempest, about 24 min) and
# test/operator take several minutes each on a busy two-core machine.
TEST_TIMEOUT  ?= 45m

## test: vet and run every test (the README's test command)
test: vet sandbox
	$(GO) test -timeout $(TEST_TIMEOUT) ./...

## test-unit: the tests that need no sandbox
test-unit: vet
	$(GO) test -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -v -e /internal/sandbox -e /test/)

## test-sandbox: the tests that run on a sandbox
test-sandbox: sandbox
	$(GO) test -timeout $(TEST_TIMEOUT) ./internal/sandbox/... ./test/...

## demo: sandbox, CRDs, operator; deploy examples/compute.yaml until APPLIED
demo: build sandbox
	hack/demo.sh

## demo-down: stop the demo's operator and sandbox and remove everything
demo-down: build
	hack/demo-down.sh

## test-kill: the operator kill test at its full count of kill points (make test runs 8)
test-kill: sandbox
	OSK_KILL_POINTS=24 $(GO) test -count=1 -timeout 30m -run TestOperatorSurvivesKills -v ./test/operator/

## golden: rewrite the golden files of the renderer (review the diff!)
golden:
	$(GO) test ./internal/render/... -update

## bench: run the benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/render/...

## bench-sandbox: the sandbox's start-up and node registration benchmarks
bench-sandbox: sandbox
	$(GO) test -run '^$$' -bench . -benchtime 3x ./internal/sandbox/

## bench-operator: time to APPLIED, operator CPU and memory, steady-state writes; upgrade time and the operator's share
bench-operator: sandbox
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./test/operator/

## bench-scale: the operator, its own process, at 3 control-plane, 1,000 compute and 3 gateway nodes (OSK_SCALE_COMPUTES=5000 for more); not part of make test
bench-scale: sandbox
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 90m -v ./test/scale/

## verify: fail when generated files, formatting or go.mod are stale
verify: generate
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	@$(GO) mod tidy -diff || { echo "go.mod or go.sum is not tidy: run go mod tidy and commit"; exit 1; }
	@git diff --exit-code -- api config $(STACKLIGHT_CRDS) $(ROOK_CRDS) || { echo "generated files are stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- api config $(STACKLIGHT_CRDS) $(ROOK_CRDS))" || { git status --porcelain -- api config $(STACKLIGHT_CRDS) $(ROOK_CRDS); echo "untracked generated files: run make generate and commit"; exit 1; }

## bench-process: osk operator as its own process on a sandbox: time to APPLIED, CPU, peak memory, steady writes, clean SIGTERM exit
.PHONY: bench-process
bench-process: sandbox
	$(GO) test -run '^$$' -bench BenchmarkOperatorProcess -benchtime 1x -timeout 20m ./test/install/

## bench-helmbundle: a no-change pass over a 10-release HelmBundle (Helm operations and API writes counted)
.PHONY: bench-helmbundle
bench-helmbundle: sandbox
	$(GO) test -run '^$$' -bench . -benchtime 50x ./test/helmbundle/

## bench-galera: time from every Galera member restarted after a SIGKILL of all to a writable cluster
.PHONY: bench-galera
bench-galera: sandbox
	$(GO) test -run '^$$' -bench BenchmarkFullOutageRecovery -benchtime 3x -timeout 20m ./test/galera/
