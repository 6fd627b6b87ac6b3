package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/galera"
	"github.com/oskproject/osk/internal/render"
)

// ConditionDatabase is the condition of the Galera cluster: each member's
// phase, how many are synced, and the last bootstrap (who, when, why).
const ConditionDatabase = "DatabaseReady"

// databaseStatefulSet is the rendered name of the Galera members.
const databaseStatefulSet = "mariadb-server"

// galeraView is what a pass read of the Galera cluster: the members osk
// renders and the coordination record they keep (nil when absent).
type galeraView struct {
	members []string
	record  *galera.Record
	// err is why the record could not be read.
	err error
}

// readGalera reads the coordination record from the cache, which holds
// the members' records; nil when the deployment runs no database. A record it cannot read is reported in
// the view, not as an error: the database's condition says so and the
// pass goes on.
func (p *pass) readGalera(ctx context.Context) *galeraView {
	v := &galeraView{}
	for _, o := range p.result.Objects {
		if sts, ok := o.(*appsv1.StatefulSet); ok && sts.Name == databaseStatefulSet && sts.Spec.Replicas != nil {
			for i := range *sts.Spec.Replicas {
				v.members = append(v.members, fmt.Sprintf("%s-%d", sts.Name, i))
			}
		}
	}
	if v.members == nil {
		return nil
	}
	cm := &corev1.ConfigMap{}
	err := p.r.Client.Get(ctx, client.ObjectKey{Namespace: p.d.Namespace, Name: catalog.GaleraRecord}, cm)
	if apierrors.IsNotFound(err) {
		return v
	}
	if err != nil {
		v.err = fmt.Errorf("reading the Galera record %s: %w", catalog.GaleraRecord, err)
		return v
	}
	rec, err := galera.RecordOf(cm)
	if err != nil {
		v.err = err
		return v
	}
	v.record = &rec
	return v
}

// databaseCondition sums up the Galera cluster from its record: True when
// every member was seen synced, False with each member's phase otherwise,
// Unknown before the members wrote the record or when it cannot be read.
func databaseCondition(v galeraView) (metav1.ConditionStatus, string, string) {
	if v.err != nil {
		return metav1.ConditionUnknown, "RecordUnreadable", v.err.Error()
	}
	if v.record == nil {
		return metav1.ConditionUnknown, "NoRecord", "the members have not written their coordination record " + catalog.GaleraRecord + " yet"
	}
	var phases []string
	synced := 0
	for _, m := range v.members {
		e, ok := v.record.Members[m]
		phase := "not reported"
		if ok {
			phase = string(e.Phase)
		}
		if e.Phase == galera.PhaseStarted {
			phase += " (" + string(e.Mode) + ")"
		}
		if e.Phase == galera.PhaseSynced {
			synced++
		}
		phases = append(phases, m+" "+phase)
	}
	msg := fmt.Sprintf("%d/%d members synced: %s%s", synced, len(v.members), strings.Join(phases, ", "), lastBootstrap(v.record.Cluster))
	switch {
	case synced == len(v.members):
		return metav1.ConditionTrue, "Synced", msg
	case synced > 0:
		return metav1.ConditionFalse, "Degraded", msg
	}
	return metav1.ConditionFalse, "Starting", msg
}

// lastBootstrap describes the cluster's last bootstrap.
func lastBootstrap(c galera.Cluster) string {
	if len(c.History) == 0 {
		return "; no bootstrap yet"
	}
	b := c.History[len(c.History)-1]
	return fmt.Sprintf("; bootstrap %d by %s at %s: %s", b.Round, b.Member, b.At.UTC().Format(time.RFC3339), b.Reason)
}

// forgetGalera deletes the coordination record once no database pod is
// left (a stopping member writes to it), when the deployment's database
// goes with it: members with new, empty volumes refuse to start where the
// record remembers a cluster. done is false while pods remain.
func (r *OpenStackDeploymentReconciler) forgetGalera(ctx context.Context, d *v1.OpenStackDeployment) (done bool, err error) {
	if d.Spec.Features.Database.VolumeClaimPolicy != v1.VolumeClaimsDelete {
		return true, nil
	}
	pods := &corev1.PodList{}
	sel := client.MatchingLabels{render.LabelInstance: d.Name, render.LabelName: "mariadb", render.LabelComponent: "server"}
	if err := r.Client.List(ctx, pods, client.InNamespace(d.Namespace), sel); err != nil {
		return false, fmt.Errorf("listing the database's pods: %w", err)
	}
	if len(pods.Items) > 0 {
		return false, nil
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: catalog.GaleraRecord}}
	if err := r.Client.Delete(ctx, cm); err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("deleting the Galera record %s: %w", catalog.GaleraRecord, err)
	}
	return true, nil
}
