package operator_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/render"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

const changeTimeout = 2 * time.Minute

// TestDayTwo changes a running deployment the ways an operator of a cloud
// does, and checks that each change does what it says and no more.
func TestDayTwo(t *testing.T) {
	c, ns, _ := setup(t)
	d := waitState(t, c, deploy(t, c, "minimal", ns), v1.StateApplied, applyTimeout)

	t.Run("replicas", func(t *testing.T) {
		update(t, c, d, func(d *v1.OpenStackDeployment) {
			d.Spec.Services = map[string]v1.ServiceOverride{"compute": {Components: map[string]v1.ComponentOverride{"api": {Replicas: ptr[int32](3)}}}}
		})
		waitState(t, c, d, v1.StateApplied, changeTimeout)
		if got := deployments(t, c, ns)["nova-api"]; got.Status.ReadyReplicas != 3 {
			t.Errorf("nova-api has %d ready replicas, want 3", got.Status.ReadyReplicas)
		}
	})

	t.Run("config override rolls only its readers", func(t *testing.T) {
		before := templateHashes(t, c, ns)
		update(t, c, d, func(d *v1.OpenStackDeployment) {
			o := d.Spec.Services["compute"]
			o.Config = map[string]v1.OsloFile{"nova.conf": {"DEFAULT": {"debug": "true"}}}
			d.Spec.Services["compute"] = o
		})
		waitState(t, c, d, v1.StateApplied, changeTimeout)
		after := templateHashes(t, c, ns)
		rolled := 0
		for name, h := range after {
			// Every nova workload reads nova.conf; nothing else does.
			readsNova := strings.Contains(name, "/nova-")
			if changed := before[name] != h; changed != readsNova {
				t.Errorf("%s: reads nova.conf %v, rolled %v", name, readsNova, changed)
			} else if changed {
				rolled++
			}
		}
		if rolled == 0 {
			t.Error("no workload rolled")
		}
	})

	t.Run("deleted Deployment comes back", func(t *testing.T) {
		old := deployments(t, c, ns)["keystone-api"]
		if err := c.Delete(t.Context(), &old); err != nil {
			t.Fatal(err)
		}
		sandboxtest.Eventually(t, changeTimeout, "keystone-api to be back and ready", func(ctx context.Context) error {
			got := &appsv1.Deployment{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "keystone-api"}, got); err != nil {
				return err
			}
			if got.UID == old.UID || got.Status.ReadyReplicas != *got.Spec.Replicas {
				return fmt.Errorf("uid %s (old %s), %d ready", got.UID, old.UID, got.Status.ReadyReplicas)
			}
			return nil
		})
	})

	t.Run("deleted cluster-scoped object comes back", func(t *testing.T) {
		// The IngressClass has no owner reference (its owner is namespaced);
		// the operator's resync is an hour here, so only the watch can
		// bring it back in time.
		name := catalog.IngressClass(ns)
		old := &networkingv1.IngressClass{}
		if err := c.Get(t.Context(), client.ObjectKey{Name: name}, old); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(t.Context(), old); err != nil {
			t.Fatal(err)
		}
		sandboxtest.Eventually(t, changeTimeout, "the IngressClass to be back", func(ctx context.Context) error {
			got := &networkingv1.IngressClass{}
			if err := c.Get(ctx, client.ObjectKey{Name: name}, got); err != nil {
				return err
			}
			if got.UID == old.UID {
				return fmt.Errorf("still the old one")
			}
			return nil
		})
	})

	t.Run("disabling a service prunes it", func(t *testing.T) {
		update(t, c, d, func(d *v1.OpenStackDeployment) { d.Spec.Features.DisabledServices = []string{"dashboard"} })
		waitState(t, c, d, v1.StateApplied, changeTimeout)
		sandboxtest.Eventually(t, changeTimeout, "the dashboard's objects to be gone", func(ctx context.Context) error {
			for _, o := range []client.Object{
				&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "horizon-server"}},
				&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "horizon-server"}},
				&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "horizon-etc"}},
			} {
				if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: o.GetName()}, o); !apierrors.IsNotFound(err) {
					return fmt.Errorf("%T %s still there (%v)", o, o.GetName(), err)
				}
			}
			return nil
		})
	})

	t.Run("deleting the deployment keeps the database's claims", func(t *testing.T) {
		claims := &corev1.PersistentVolumeClaimList{}
		if err := c.List(t.Context(), claims, client.InNamespace(ns), client.MatchingLabels{render.LabelService: "database"}); err != nil {
			t.Fatal(err)
		}
		if len(claims.Items) == 0 {
			t.Fatal("the database has no claims")
		}
		if err := c.Delete(t.Context(), d); err != nil {
			t.Fatal(err)
		}
		sandboxtest.Eventually(t, changeTimeout, "the deployment and its workloads to be gone", func(ctx context.Context) error {
			if err := c.Get(ctx, client.ObjectKeyFromObject(d), &v1.OpenStackDeployment{}); !apierrors.IsNotFound(err) {
				return fmt.Errorf("deployment still there: %v", err)
			}
			for _, l := range []client.ObjectList{&appsv1.DeploymentList{}, &appsv1.StatefulSetList{}, &appsv1.DaemonSetList{}, &batchv1.JobList{}} {
				if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
					return err
				}
				if n := apimeta.LenList(l); n > 0 {
					return fmt.Errorf("%d %T items left", n, l)
				}
			}
			return nil
		})
		for _, claim := range claims.Items {
			got := &corev1.PersistentVolumeClaim{}
			if err := c.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: claim.Name}, got); err != nil || got.DeletionTimestamp != nil {
				t.Errorf("database claim %s: %v (deleting: %v)", claim.Name, err, got.DeletionTimestamp)
			}
		}
	})
}

// TestInvalidSpecChangesNothing applies a spec osk refuses and checks
// that the deployment fails naming the field and nothing running changes.
func TestInvalidSpecChangesNothing(t *testing.T) {
	c, ns, _ := setup(t)
	d := waitState(t, c, deploy(t, c, "minimal", ns), v1.StateApplied, applyTimeout)
	before := templateHashes(t, c, ns)
	update(t, c, d, func(d *v1.OpenStackDeployment) {
		d.Spec.Services = map[string]v1.ServiceOverride{"nova": {}}
	})
	got := waitState(t, c, d, v1.StateFailed, changeTimeout)
	cond := apimeta.FindStatusCondition(got.Status.Conditions, v1.ConditionSpecValid)
	if cond == nil || cond.Status != "False" || cond.ObservedGeneration != got.Generation || !strings.Contains(cond.Message, "spec.services[nova]") {
		t.Errorf("SpecValid condition %+v does not name spec.services[nova]", cond)
	}
	time.Sleep(2 * time.Second) // give a wrong write the time to happen
	if after := templateHashes(t, c, ns); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("workloads changed under an invalid spec:\nbefore %v\nafter  %v", before, after)
	}
}

// TestRestartMidway kills the operator in the middle of a deployment and
// starts another: the deployment still gets APPLIED and no Job runs twice.
func TestRestartMidway(t *testing.T) {
	c, ns, stop := setup(t)
	d := deploy(t, c, "compute", ns)
	sandboxtest.Eventually(t, applyTimeout, "some Jobs to complete", func(ctx context.Context) error {
		done := 0
		for _, j := range listJobs(t, c, ns) {
			if j.Status.Succeeded > 0 {
				done++
			}
		}
		if done < 5 {
			return fmt.Errorf("%d Jobs succeeded", done)
		}
		return nil
	})
	stop()
	first := map[string]types.UID{}
	for _, j := range listJobs(t, c, ns) {
		first[j.Name] = j.UID
	}
	startOperator(t, sandboxtest.Get(t))
	waitState(t, c, d, v1.StateApplied, applyTimeout)
	for _, j := range listJobs(t, c, ns) {
		if uid, ok := first[j.Name]; ok && uid != j.UID {
			t.Errorf("Job %s ran again after the restart", j.Name)
		}
		pods := &corev1.PodList{}
		if err := c.List(t.Context(), pods, client.InNamespace(ns), client.MatchingLabels{"batch.kubernetes.io/job-name": j.Name}); err != nil {
			t.Fatal(err)
		}
		if len(pods.Items) != 1 {
			t.Errorf("Job %s ran %d pods, want 1", j.Name, len(pods.Items))
		}
	}
}

// templateHashes returns the config hash of every workload's pods.
func templateHashes(t *testing.T, c client.Client, ns string) map[string]string {
	out := map[string]string{}
	for name, d := range deployments(t, c, ns) {
		out["Deployment/"+name] = d.Spec.Template.Annotations[render.AnnotationConfigHash]
	}
	for _, l := range []client.ObjectList{&appsv1.StatefulSetList{}, &appsv1.DaemonSetList{}} {
		if err := c.List(t.Context(), l, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		_ = apimeta.EachListItem(l, func(o runtime.Object) error {
			obj := o.(client.Object)
			out[fmt.Sprintf("%s/%s", kindOf(o), obj.GetName())] = render.PodTemplate(obj).Annotations[render.AnnotationConfigHash]
			return nil
		})
	}
	return out
}

func kindOf(o runtime.Object) string {
	if _, ok := o.(*appsv1.StatefulSet); ok {
		return "StatefulSet"
	}
	return "DaemonSet"
}

func ptr[T any](v T) *T { return &v }
