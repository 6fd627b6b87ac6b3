package helmbundle_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/controllers"
	"github.com/oskproject/osk/internal/helm"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// counter counts the API requests that are not reads.
type counter struct {
	next   http.RoundTripper
	writes atomic.Int64
	reads  atomic.Int64
}

// RoundTrip counts the request and passes it on.
func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet {
		c.reads.Add(1)
	} else {
		c.writes.Add(1)
	}
	return c.next.RoundTrip(req)
}

// countingReconciler returns a HelmBundleReconciler whose every client,
// Helm's included, goes through a counter; it reads without a cache.
func countingReconciler(b *testing.B, env *sandboxtest.Env) (*controllers.HelmBundleReconciler, *counter) {
	cnt := &counter{}
	cfg := env.Config()
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { cnt.next = rt; return cnt })
	c, err := client.New(rest.CopyConfig(cfg), client.Options{Scheme: sandboxtest.Scheme()})
	if err != nil {
		b.Fatal(err)
	}
	rel, err := helm.NewReleases(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return &controllers.HelmBundleReconciler{
		Client: c, Releases: rel, Resolver: &helm.Resolver{Reader: c, Charts: helm.NewCharts()},
	}, cnt
}

// BenchmarkNoChangeReconcile times a pass over a bundle of 10 releases
// that are all in sync: it must run no Helm operation and write nothing.
func BenchmarkNoChangeReconcile(b *testing.B) {
	env := sandboxtest.Get(b)
	env.InstallCRDs(b)
	ns := env.Namespace(b)
	url := httpRepo(b)
	r, cnt := countingReconciler(b, env)
	bundle := tenReleases(ns, url)
	if err := env.Client().Create(b.Context(), bundle); err != nil {
		b.Fatal(err)
	}
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(bundle)}
	reconcileUntilReady(b, r, req)
	revisions := totalRevisions(b, r, ns)
	cnt.writes.Store(0)
	cnt.reads.Store(0)
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Reconcile(b.Context(), req); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cnt.writes.Load())/float64(b.N), "writes/op")
	b.ReportMetric(float64(cnt.reads.Load())/float64(b.N), "reads/op")
	if w := cnt.writes.Load(); w != 0 {
		b.Errorf("%d API writes in %d no-change passes", w, b.N)
	}
	ops := totalRevisions(b, r, ns) - revisions
	b.ReportMetric(float64(ops)/float64(b.N), "helm-ops/op")
	if ops != 0 {
		b.Errorf("Helm ran %d operations in no-change passes", ops)
	}
}

func tenReleases(ns, url string) *v1.HelmBundle {
	f := &fixture{ns: ns}
	var rels []v1.HelmRelease
	for i := range 10 {
		chart := []string{"app", "settings"}[i%2]
		r := rel(fmt.Sprintf("r%d", i), chart, "", map[string]any{"message": i})
		if i > 0 {
			r.DependsOn = []string{fmt.Sprintf("r%d", (i-1)/3)}
		}
		rels = append(rels, r)
	}
	return f.newBundle(url, rels...)
}

func reconcileUntilReady(b *testing.B, r *controllers.HelmBundleReconciler, req ctrl.Request) {
	sandboxtest.Eventually(b, syncTimeout, "the bundle to be ready", func(ctx context.Context) error {
		if _, err := r.Reconcile(ctx, req); err != nil {
			return err
		}
		got := &v1.HelmBundle{}
		if err := r.Client.Get(ctx, req.NamespacedName, got); err != nil {
			return err
		}
		if !apimeta.IsStatusConditionTrue(got.Status.Conditions, v1.ConditionReady) {
			return fmt.Errorf("not ready: %s", conditions(got))
		}
		return nil
	})
}

// totalRevisions sums the latest revision of every release of ns.
func totalRevisions(b *testing.B, r *controllers.HelmBundleReconciler, ns string) int {
	s, err := r.Releases.Storage(b.Context(), ns)
	if err != nil {
		b.Fatal(err)
	}
	rels, err := s.ListReleases()
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, rel := range rels {
		n += rel.Version
	}
	return n
}
