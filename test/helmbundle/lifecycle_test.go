package helmbundle_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// threeReleases is a bundle where web depends on db and cache stands
// alone.
func threeReleases() []v1.HelmRelease {
	return []v1.HelmRelease{
		rel("web", "app", "0.1.0", map[string]any{"message": "v1"}, "db"),
		rel("db", "app", "0.1.0", nil),
		rel("cache", "settings", "", nil),
	}
}

// TestBundleLifecycle installs a bundle of three releases from an HTTP
// chart repository, upgrades one by its values and by its chart version,
// removes one and deletes the bundle.
func TestBundleLifecycle(t *testing.T) {
	f := setup(t)
	b := f.newBundle(httpRepo(t), threeReleases()...)
	f.create(b)
	got := f.waitReady(b)

	t.Run("installs in dependency order", func(t *testing.T) {
		db, web := f.last("db"), f.last("web")
		if !web.Info.FirstDeployed.After(db.Info.LastDeployed) {
			t.Errorf("web was installed at %s, before db (%s) was", web.Info.FirstDeployed, db.Info.LastDeployed)
		}
		order := []string{}
		for _, s := range got.Status.Releases {
			order = append(order, s.Name)
		}
		if fmt.Sprint(order) != "[cache db web]" {
			t.Errorf("status order = %v, want dependencies first", order)
		}
		f.wantConfig("web-config", "message", "v1")
		f.wantConfig("cache", "level", "info")
	})

	t.Run("upgrades on a change of values", func(t *testing.T) {
		f.update(b, func(b *v1.HelmBundle) { b.Spec.Releases[0].Values = jsonValues(map[string]any{"message": "v2"}) })
		got := f.waitReady(b)
		f.wantConfig("web-config", "message", "v2")
		if s := statusOf(got, "web"); s.Revision != 2 || s.ChartVersion != "0.1.0" {
			t.Errorf("web status = %+v, want revision 2 of 0.1.0", s)
		}
		if r := f.last("db"); r.Version != 1 {
			t.Errorf("db was upgraded to revision %d, though it did not change", r.Version)
		}
	})

	t.Run("upgrades on a change of chart version", func(t *testing.T) {
		f.update(b, func(b *v1.HelmBundle) { b.Spec.Releases[0].Version = "~0.2" })
		got := f.waitReady(b)
		f.wantConfig("web-config", "chartVersion", "0.2.0")
		if s := statusOf(got, "web"); s.Revision != 3 || s.ChartVersion != "0.2.0" {
			t.Errorf("web status = %+v, want revision 3 of 0.2.0", s)
		}
	})

	t.Run("uninstalls a removed release", func(t *testing.T) {
		f.update(b, func(b *v1.HelmBundle) { b.Spec.Releases = b.Spec.Releases[1:] })
		got := f.waitReady(b)
		if len(got.Status.Releases) != 2 {
			t.Errorf("status lists %d releases, want 2", len(got.Status.Releases))
		}
		f.waitGone(&corev1.ConfigMap{}, "web-config")
		f.waitGone(&appsv1.Deployment{}, "web")
		if _, err := f.storage().Last("web"); err == nil {
			t.Error("Helm still knows release web")
		}
	})

	t.Run("uninstalls everything when the bundle is deleted", func(t *testing.T) {
		if err := f.c.Delete(t.Context(), b); err != nil {
			t.Fatal(err)
		}
		f.waitGone(&v1.HelmBundle{}, b.Name)
		for _, name := range []string{"db", "cache"} {
			if _, err := f.storage().Last(name); err == nil {
				t.Errorf("Helm still knows release %s", name)
			}
		}
		f.waitGone(&corev1.ConfigMap{}, "cache")
	})
}

// wantConfig checks a key of a ConfigMap of the test namespace.
func (f *fixture) wantConfig(name, key, want string) {
	f.t.Helper()
	cm := &corev1.ConfigMap{}
	if err := f.c.Get(f.t.Context(), client.ObjectKey{Namespace: f.ns, Name: name}, cm); err != nil {
		f.t.Fatal(err)
	}
	if cm.Data[key] != want {
		f.t.Errorf("ConfigMap %s: %s = %q, want %q", name, key, cm.Data[key], want)
	}
}

// waitGone waits until an object of the test namespace is deleted.
func (f *fixture) waitGone(o client.Object, name string) {
	f.t.Helper()
	sandboxtest.Eventually(f.t, time.Minute, fmt.Sprintf("%T %s to be deleted", o, name), func(ctx context.Context) error {
		err := f.c.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: name}, o)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there (%v)", err)
	})
}
