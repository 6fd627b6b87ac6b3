// Package helmbundle_test proves the HelmBundle controller on the sandbox
// with charts of its own, served on loopback by an HTTP chart repository
// and an OCI registry run inside the test.
package helmbundle_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/repo"
	"helm.sh/helm/v3/pkg/storage"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/helm"
	"github.com/oskproject/osk/internal/operator"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
	"github.com/oskproject/osk/internal/testing/operatortest"
)

// syncTimeout bounds a wait for a bundle to settle.
const syncTimeout = 2 * time.Minute

func TestMain(m *testing.M) { sandboxtest.Main(m) }

// chartVersions are the packages the test repositories serve.
var chartVersions = map[string][]string{"app": {"0.1.0", "0.2.0"}, "settings": {"1.0.0"}}

// packageCharts packages every chart version of testdata/charts into a
// temporary directory and returns the archives' paths.
func packageCharts(t testing.TB) (dir string, archives []string) {
	t.Helper()
	dir = t.TempDir()
	for name, versions := range chartVersions {
		for _, v := range versions {
			ch, err := loader.LoadDir(filepath.Join("testdata", "charts", name))
			if err != nil {
				t.Fatal(err)
			}
			ch.Metadata.Version = v
			path, err := chartutil.Save(ch, dir)
			if err != nil {
				t.Fatal(err)
			}
			archives = append(archives, path)
		}
	}
	return dir, archives
}

// httpRepo serves the test charts as an HTTP chart repository on loopback
// and returns its URL.
func httpRepo(t testing.TB) string {
	t.Helper()
	dir, _ := packageCharts(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	writeIndex(t, dir, srv.URL)
	return srv.URL
}

// writeIndex writes the index.yaml of the charts of dir.
func writeIndex(t testing.TB, dir, url string) {
	t.Helper()
	idx, err := repo.IndexDirectory(dir, url)
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ociRepo runs an in-memory OCI registry on loopback, pushes the test
// charts to it under charts/ and returns the repository URL.
func ociRepo(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	rc, err := registry.NewClient(registry.ClientOptPlainHTTP(), registry.ClientOptWriter(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	_, archives := packageCharts(t)
	for _, a := range archives {
		data, err := os.ReadFile(a)
		if err != nil {
			t.Fatal(err)
		}
		name, version := splitArchive(filepath.Base(a))
		if _, err := rc.Push(data, fmt.Sprintf("%s/charts/%s:%s", host, name, version)); err != nil {
			t.Fatalf("pushing %s: %v", a, err)
		}
	}
	return "oci://" + host + "/charts"
}

// splitArchive splits "app-0.1.0.tgz" into "app" and "0.1.0".
func splitArchive(file string) (name, version string) {
	base := strings.TrimSuffix(file, ".tgz")
	i := strings.LastIndex(base, "-")
	return base[:i], base[i+1:]
}

// startOperator runs osk's operator (both controllers) in this process
// until the test ends.
func startOperator(t testing.TB, env *sandboxtest.Env) {
	t.Helper()
	operatortest.Start(t, env.Config(), operator.Options{MetricsAddr: "0", ProbeAddr: "0", Workers: 4, Resync: time.Hour})
}

// fixture is what a test works with.
type fixture struct {
	t        *testing.T
	c        client.Client
	ns       string
	releases *helm.Releases
}

// setup gives a test the CRDs, a namespace, a running operator and Helm's
// view of the cluster.
func setup(t *testing.T) *fixture {
	t.Helper()
	env := sandboxtest.Get(t)
	env.InstallCRDs(t)
	rel, err := helm.NewReleases(env.Config())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, c: env.Client(), ns: env.Namespace(t), releases: rel}
	startOperator(t, env)
	return f
}

// newBundle returns a bundle of the fixture's namespace with one
// repository named "charts".
func (f *fixture) newBundle(url string, rels ...v1.HelmRelease) *v1.HelmBundle {
	b := &v1.HelmBundle{
		ObjectMeta: metav1.ObjectMeta{Name: "bundle", Namespace: f.ns},
		Spec: v1.HelmBundleSpec{
			Repositories: []v1.HelmRepository{{Name: "charts", URL: url, PlainHTTP: strings.HasPrefix(url, "oci://")}},
			Releases:     rels,
			Interval:     &metav1.Duration{Duration: 2 * time.Second},
		},
	}
	return b
}

func (f *fixture) create(b *v1.HelmBundle) {
	f.t.Helper()
	f.createObject(b)
}

func (f *fixture) createObject(o client.Object) {
	f.t.Helper()
	if err := f.c.Create(f.t.Context(), o); err != nil {
		f.t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
	}
}

// release is a release of chart in the test namespace.
func rel(name, chart, version string, values map[string]any, deps ...string) v1.HelmRelease {
	return v1.HelmRelease{Name: name, Chart: "charts/" + chart, Version: version, Values: jsonValues(values), DependsOn: deps, Wait: true,
		Timeout: &metav1.Duration{Duration: 30 * time.Second}}
}

func jsonValues(v map[string]any) *apiextensionsv1.JSON {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return &apiextensionsv1.JSON{Raw: b}
}

// update re-reads the bundle, changes it and writes it back.
func (f *fixture) update(b *v1.HelmBundle, change func(*v1.HelmBundle)) {
	f.t.Helper()
	sandboxtest.Eventually(f.t, 30*time.Second, "updating "+b.Name, func(ctx context.Context) error {
		if err := f.c.Get(ctx, client.ObjectKeyFromObject(b), b); err != nil {
			return err
		}
		change(b)
		return f.c.Update(ctx, b)
	})
}

// waitBundle waits until the bundle's current generation was acted on
// and check passes.
func (f *fixture) waitBundle(b *v1.HelmBundle, what string, check func(*v1.HelmBundle) error) *v1.HelmBundle {
	f.t.Helper()
	got := &v1.HelmBundle{}
	sandboxtest.Eventually(f.t, syncTimeout, what, func(ctx context.Context) error {
		if err := f.c.Get(ctx, client.ObjectKeyFromObject(b), got); err != nil {
			return err
		}
		if c := apimeta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady); c == nil || c.ObservedGeneration != got.Generation {
			return fmt.Errorf("generation %d not yet observed: %+v", got.Generation, got.Status)
		}
		return check(got)
	})
	return got
}

// waitReady waits until every release of the bundle is in sync.
func (f *fixture) waitReady(b *v1.HelmBundle) *v1.HelmBundle {
	f.t.Helper()
	return f.waitBundle(b, b.Name+" to be ready", func(got *v1.HelmBundle) error {
		if !apimeta.IsStatusConditionTrue(got.Status.Conditions, v1.ConditionReady) || got.Status.ObservedGeneration != got.Generation {
			return fmt.Errorf("not ready: %s", conditions(got))
		}
		return nil
	})
}

func conditions(b *v1.HelmBundle) string {
	out, _ := json.Marshal(b.Status)
	return string(out)
}

// storage is Helm's storage of the test namespace.
func (f *fixture) storage() *storage.Storage {
	f.t.Helper()
	s, err := f.releases.Storage(f.t.Context(), f.ns)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// last returns the latest revision of a release.
func (f *fixture) last(name string) *release.Release {
	f.t.Helper()
	r, err := f.storage().Last(name)
	if err != nil {
		f.t.Fatalf("release %s: %v", name, err)
	}
	return r
}

// statusOf returns the status of a release in a bundle.
func statusOf(b *v1.HelmBundle, name string) v1.HelmReleaseStatus {
	for _, s := range b.Status.Releases {
		if s.Name == name {
			return s
		}
	}
	return v1.HelmReleaseStatus{}
}
