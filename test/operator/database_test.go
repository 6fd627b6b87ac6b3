package operator_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/controllers"
	"github.com/oskproject/osk/internal/galera"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// TestDatabaseConditionAndRecord deploys a database with backups and
// volumeClaimPolicy Delete, writes the coordination record as the members
// would (the sandbox runs no mariadbd), and checks that the deployment's
// DatabaseReady condition follows the record, that the operator never
// prunes it, and that deleting the deployment deletes it with the data.
func TestDatabaseConditionAndRecord(t *testing.T) {
	c, ns, _ := setup(t)
	d := waitState(t, c, deploy(t, c, "minimal", ns, func(d *v1.OpenStackDeployment) {
		d.Spec.Features.Database.VolumeClaimPolicy = v1.VolumeClaimsDelete
		d.Spec.Features.Database.Backup.Enabled = true
	}), v1.StateApplied, applyTimeout)
	waitDatabaseCondition(t, c, d, metav1.ConditionUnknown, "NoRecord")
	for _, name := range []string{"mariadb-backup-full", "mariadb-backup-incremental"} {
		if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &batchv1.CronJob{}); err != nil {
			t.Errorf("CronJob %s: %v", name, err)
		}
	}
	at := time.Now().UTC().Truncate(time.Second)
	store := galera.ConfigMapStore{Client: c, Namespace: ns, Name: catalog.GaleraRecord}
	err := store.Update(t.Context(), galera.Record{
		Cluster: galera.Cluster{UUID: "u", Round: 1, History: []galera.Bootstrapped{{Round: 1, Member: "mariadb-server-0", Reason: "a new cluster", At: at}}},
		Members: map[string]galera.Entry{"mariadb-server-0": {Phase: galera.PhaseSynced, Seen: at}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The record is watched; a spec change makes a pass too.
	update(t, c, d, func(d *v1.OpenStackDeployment) { d.Spec.Features.Database.Backup.Keep = 3 })
	cond := waitDatabaseCondition(t, c, d, metav1.ConditionTrue, "Synced")
	if !strings.Contains(cond.Message, "1/1 members synced") || !strings.Contains(cond.Message, "bootstrap 1 by mariadb-server-0 at "+at.Format(time.RFC3339)) {
		t.Errorf("DatabaseReady message %q does not show the members and the bootstrap", cond.Message)
	}
	if _, err := store.Get(t.Context()); err != nil {
		t.Fatalf("the record after a pass: %v", err)
	}
	if err := c.Delete(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	sandboxtest.Eventually(t, changeTimeout, "the record to go with the deployment's data", func(ctx context.Context) error {
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: catalog.GaleraRecord}, &corev1.ConfigMap{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("record still there (%v)", err)
		}
		return nil
	})
}

// waitDatabaseCondition waits for the deployment's DatabaseReady
// condition and returns it.
func waitDatabaseCondition(t *testing.T, c client.Client, d *v1.OpenStackDeployment, status metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	var got metav1.Condition
	sandboxtest.Eventually(t, changeTimeout, "DatabaseReady to be "+reason, func(ctx context.Context) error {
		live := &v1.OpenStackDeployment{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(d), live); err != nil {
			return err
		}
		cond := apimeta.FindStatusCondition(live.Status.Conditions, controllers.ConditionDatabase)
		if cond == nil || cond.Status != status || cond.Reason != reason {
			return fmt.Errorf("DatabaseReady is %+v", cond)
		}
		got = *cond
		return nil
	})
	return got
}
