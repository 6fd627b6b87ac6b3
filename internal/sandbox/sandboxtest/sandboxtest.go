// Package sandboxtest runs tests against a sandbox: a real control plane,
// controllers and scheduler included, with simulated nodes. Each test
// binary gets one sandbox, started from TestMain by [Main]; each test gets
// a namespace of its own from [Env.Namespace].
//
//	func TestMain(m *testing.M) { sandboxtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		env := sandboxtest.Get(t)
//		ns := env.Namespace(t)
//		... env.Client().Create(t.Context(), obj) ...
//		sandboxtest.Eventually(t, time.Minute, "the deployment to be available", func(ctx context.Context) error { ... })
//	}
//
// A test binary whose sandbox cannot start (its binaries are not built,
// for instance) fails, saying why and how to fix it; it never skips.
package sandboxtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oskv1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/monitoring"
	"github.com/oskproject/osk/internal/poll"
	"github.com/oskproject/osk/internal/sandbox"
)

// startTimeout bounds the start of the sandbox, topology included: 3
// minutes, and one more per thousand nodes.
func startTimeout(t sandbox.Topology) time.Duration {
	return 3*time.Minute + time.Duration(t.Size())*time.Minute/1000
}

// pollInterval is how often Eventually checks its condition.
const pollInterval = 100 * time.Millisecond

// Option configures the sandbox Main starts.
type Option func(*sandbox.Options)

// WithTopology sets the sandbox's nodes, instead of
// sandbox.DefaultTopology.
func WithTopology(t sandbox.Topology) Option {
	return func(o *sandbox.Options) { o.Topology = t }
}

// WithStages adds kwok stages to the sandbox's default ones, e.g. a
// [sandbox.FailJobPodsStage]; see [sandbox.Options].
func WithStages(stages ...[]byte) Option {
	return func(o *sandbox.Options) { o.Stages = append(o.Stages, stages...) }
}

// Env is the sandbox of the running test binary.
type Env struct {
	// Sandbox is the running sandbox.
	Sandbox *sandbox.Sandbox
	client  client.Client
}

// env is the sandbox Main started, if any.
var env *Env

// Main starts a sandbox, runs the tests against it, stops it and exits
// with the tests' status. Call it from TestMain. When the sandbox cannot
// start, Main prints why, and how to fix it, and exits with status 1, which
// fails the package's tests.
func Main(m *testing.M, opts ...Option) {
	os.Exit(run(m, opts))
}

func run(m *testing.M, opts []Option) int {
	flag.Parse()
	captureOperatorLog()
	var err error
	env, err = start(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: sandboxtest: cannot start the sandbox: %v\n", err)
		return 1
	}
	code := m.Run()
	if err := env.Sandbox.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: sandboxtest: the sandbox broke during the tests: %v\n", err)
		code = 1
	}
	if err := env.Sandbox.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: sandboxtest: %v\n", err)
		return 1
	}
	return code
}

// start starts the test binary's sandbox with the cached binaries.
func start(opts []Option) (*Env, error) {
	tools, err := sandbox.LoadToolsFrom(".")
	if err != nil {
		return nil, err
	}
	bins, err := tools.Binaries()
	if err != nil {
		return nil, err
	}
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	options := sandbox.Options{
		Binaries: bins,
		Topology: sandbox.DefaultTopology(),
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
	for _, o := range opts {
		o(&options)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout(options.Topology))
	defer cancel()
	sb, err := sandbox.Start(ctx, options)
	if err != nil {
		return nil, err
	}
	c, err := client.New(sb.RESTConfig(), client.Options{Scheme: Scheme()})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("creating the sandbox client: %w", err), sb.Stop())
	}
	return &Env{Sandbox: sb, client: c}, nil
}

// Get returns the test binary's sandbox. It fails t when Main did not start
// one.
func Get(t testing.TB) *Env {
	t.Helper()
	if env == nil {
		t.Fatal("sandboxtest: no sandbox: call sandboxtest.Main(m) from the package's TestMain")
	}
	return env
}

// Scheme returns a scheme of Kubernetes' built-in types, of
// CustomResourceDefinitions and of osk's own API, the scheme of Env.Client.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	add := runtime.NewSchemeBuilder(clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, oskv1.AddToScheme, monitoring.AddToScheme)
	if err := add.AddToScheme(s); err != nil {
		panic(fmt.Sprintf("building the sandboxtest scheme: %v", err))
	}
	return s
}

// Config returns a new copy of the sandbox's administrator configuration,
// to build other clients, e.g. with a scheme holding osk's API types.
func (e *Env) Config() *rest.Config { return e.Sandbox.RESTConfig() }

// Client returns a controller-runtime client of the sandbox, with
// administrator rights and the types of Scheme; other types go through
// unstructured.Unstructured. Server-side dry runs use client.DryRunAll.
func (e *Env) Client() client.Client { return e.client }

// Namespace creates a namespace for t, named after it, waits until pods can
// be created in it, and deletes it when t ends, after checking that none
// of its secrets leaked (see LabelCredentials).
func (e *Env) Namespace(t testing.TB) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: namespacePrefix(t.Name())}}
	if err := e.client.Create(t.Context(), ns); err != nil {
		t.Fatalf("creating the test namespace: %v", err)
	}
	t.Cleanup(func() {
		e.checkLeaks(t, ns.Name)
		if err := e.client.Delete(context.Background(), ns); err != nil {
			t.Errorf("deleting namespace %s: %v", ns.Name, err)
		}
	})
	// Pods are refused until the namespace's default service account exists.
	Eventually(t, 30*time.Second, "the default service account of namespace "+ns.Name, func(ctx context.Context) error {
		return e.client.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: "default"}, &corev1.ServiceAccount{})
	})
	return ns.Name
}

var notDNSLabel = regexp.MustCompile(`[^a-z0-9]+`)

// namespacePrefix turns a test name into a namespace name prefix.
func namespacePrefix(testName string) string {
	name := notDNSLabel.ReplaceAllString(strings.ToLower(testName), "-")
	name = strings.Trim(name[:min(len(name), 40)], "-")
	return "test-" + name + "-"
}

// InstallCRDs installs the CustomResourceDefinitions of dir, by default
// osk's own (config/crd/bases of the repository), and waits until they are
// established.
func (e *Env) InstallCRDs(t testing.TB, dir ...string) []*apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	if len(dir) == 0 {
		root, err := sandbox.RepoRoot(".")
		if err != nil {
			t.Fatal(err)
		}
		dir = []string{filepath.Join(root, sandbox.CRDDir)}
	}
	var installed []*apiextensionsv1.CustomResourceDefinition
	for _, d := range dir {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		crds, err := sandbox.InstallCRDs(ctx, e.Config(), d)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		installed = append(installed, crds...)
	}
	return installed
}

// Eventually calls check until it returns nil, failing t when timeout
// passes first, with what check last returned: "waiting for <what>:
// context deadline exceeded; last observed: <error>".
func Eventually(t testing.TB, timeout time.Duration, what string, check func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	if err := poll.Until(ctx, pollInterval, what, check); err != nil {
		t.Fatal(err)
	}
}
