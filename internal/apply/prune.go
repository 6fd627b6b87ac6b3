package apply

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"

	"github.com/oskproject/osk/internal/render"
)

// Kinds are the kinds osk renders, as empty lists, with their kind names.
// Pruning and clean-up look at these; osk's cache watches them.
func Kinds() map[string]client.ObjectList {
	return map[string]client.ObjectList{
		"Deployment": &appsv1.DeploymentList{}, "StatefulSet": &appsv1.StatefulSetList{}, "DaemonSet": &appsv1.DaemonSetList{},
		"Job": &batchv1.JobList{}, "CronJob": &batchv1.CronJobList{},
		"Service": &corev1.ServiceList{}, "Secret": &corev1.SecretList{}, "ConfigMap": &corev1.ConfigMapList{},
		"ServiceAccount": &corev1.ServiceAccountList{}, "PersistentVolumeClaim": &corev1.PersistentVolumeClaimList{},
		"Role": &rbacv1.RoleList{}, "RoleBinding": &rbacv1.RoleBindingList{},
		"ClusterRole": &rbacv1.ClusterRoleList{}, "ClusterRoleBinding": &rbacv1.ClusterRoleBindingList{},
		"Ingress": &networkingv1.IngressList{}, "IngressClass": &networkingv1.IngressClassList{},
		"NetworkPolicy":       &networkingv1.NetworkPolicyList{},
		"PodDisruptionBudget": &policyv1.PodDisruptionBudgetList{},
		// StackLight's: their CRDs come with the Prometheus Operator.
		"PrometheusRule": &monitoringv1.PrometheusRuleList{}, "AlertmanagerConfig": &monitoringv1alpha1.AlertmanagerConfigList{},
		"PodMonitor": &monitoringv1.PodMonitorList{},
	}
}

// unservedRecheck is how long a kind found not served is taken as such.
const unservedRecheck = time.Minute

// Unserved remembers the kinds the cluster was found not to serve
// (StackLight's, before the Prometheus Operator's CRDs are installed):
// asking costs the API server a discovery request each time, which every
// pass would otherwise make. A kind is asked about again a minute after.
// Safe for concurrent use; the zero value is ready.
type Unserved struct {
	mu sync.Mutex
	at map[string]time.Time
}

// recently reports whether kind was found not served within the last
// unservedRecheck.
func (u *Unserved) recently(kind string, now time.Time) bool {
	if u == nil {
		return false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	at, ok := u.at[kind]
	return ok && now.Sub(at) < unservedRecheck
}

// note remembers that kind was found not served at now.
func (u *Unserved) note(kind string, now time.Time) {
	if u == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.at == nil {
		u.at = map[string]time.Time{}
	}
	u.at[kind] = now
}

// Retained kinds hold data: pruning never deletes them, and deleting the
// deployment deletes them only when its spec says so.
func Retained(kind string) bool { return kind == "PersistentVolumeClaim" }

// Owned lists the owner's live objects of every kind osk renders; a kind
// the cluster does not serve (StackLight's without the Prometheus
// Operator's CRDs) has none. From a cache, they are the cache's own
// copies: read only.
func (a *Applier) Owned(ctx context.Context) (map[render.Key]client.Object, error) {
	out := map[render.Key]client.Object{}
	sel := client.MatchingLabels{LabelOwner: string(a.Owner.GetUID())}
	for kind, list := range Kinds() {
		if a.Unserved.recently(kind, time.Now()) {
			continue
		}
		err := a.Client.List(ctx, list, sel, client.UnsafeDisableDeepCopy)
		if apimeta.IsNoMatchError(err) {
			a.Unserved.note(kind, time.Now())
			continue // the cluster does not serve the kind: nothing of it exists
		}
		if err != nil {
			return nil, fmt.Errorf("listing %ss: %w", kind, err)
		}
		err = apimeta.EachListItem(list, func(o runtime.Object) error {
			obj := o.(client.Object)
			out[render.Key{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}] = obj
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("listing %ss: %w", kind, err)
		}
	}
	return out, nil
}

// Prune deletes the owned objects that keep does not name, except the
// retained kinds, and returns what it deleted.
func (a *Applier) Prune(ctx context.Context, owned map[render.Key]client.Object, keep map[render.Key]bool) ([]render.Key, error) {
	var deleted []render.Key
	for k, o := range owned {
		if keep[k] || Retained(k.Kind) || o.GetDeletionTimestamp() != nil {
			continue
		}
		if err := a.delete(ctx, o, k); err != nil {
			return deleted, err
		}
		deleted = append(deleted, k)
	}
	return deleted, nil
}

// DeleteAll deletes every owned object; retained kinds only when
// withData is set. It returns how many remain to go.
func (a *Applier) DeleteAll(ctx context.Context, owned map[render.Key]client.Object, withData bool) (int, error) {
	remaining := 0
	for k, o := range owned {
		if Retained(k.Kind) && !withData {
			continue
		}
		remaining++
		if o.GetDeletionTimestamp() != nil {
			continue
		}
		if err := a.delete(ctx, o, k); err != nil {
			return remaining, err
		}
	}
	return remaining, nil
}

func (a *Applier) delete(ctx context.Context, o client.Object, k render.Key) error {
	err := a.Client.Delete(ctx, o, client.PropagationPolicy(metav1.DeletePropagationBackground))
	a.count("delete", k.Kind)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting %s: %w", k, err)
	}
	if a.Verified != nil {
		a.Verified.Forget(o.GetUID())
	}
	return nil
}
