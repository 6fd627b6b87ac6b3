package operator_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/cephkeys"
	"github.com/oskproject/osk/internal/controllers"
	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
	"github.com/oskproject/osk/internal/testing/cephtest"
)

// TestCephKeys deploys examples/minimal.yaml (cinder and nova-compute are
// Ceph clients) with no Ceph Secret: the clients wait with a condition
// naming the Secret, then the key it lacks, and nothing of theirs is
// applied; once it is complete the deployment reaches APPLIED; a rotated
// cinder key rolls exactly cinder-volume and nova-compute.
func TestCephKeys(t *testing.T) {
	c, ns, _ := setup(t)
	d, err := manifest.Load(filepath.Join("..", "..", "examples", "minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d.Namespace = ns
	if err := c.Create(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	waitCephCondition(t, c, d, "SecretMissing", "Secret openstack-ceph-keys does not exist")
	checkHeld(t, c, d, "block-storage", "compute")

	s := cephtest.StandIn(ns)
	delete(s.Data, cephkeys.ClientKey(cephkeys.ClientCinder))
	if err := c.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	waitCephCondition(t, c, d, "SecretIncomplete", "Secret openstack-ceph-keys lacks client.cinder.key")

	s.Data[cephkeys.ClientKey(cephkeys.ClientCinder)] = []byte(cephtest.Key())
	if err := c.Update(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, d, v1.StateApplied, applyTimeout)
	waitCephCondition(t, c, d, "Complete", "holds every key")

	before := templateHashes(t, c, ns)
	s.Data[cephkeys.ClientKey(cephkeys.ClientCinder)] = []byte(cephtest.Key())
	if err := c.Update(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	want := []string{"DaemonSet/nova-compute", "Deployment/cinder-volume"}
	sandboxtest.Eventually(t, time.Minute, "the rotated key to roll its readers", func(ctx context.Context) error {
		if got := rolled(before, templateHashes(t, c, ns)); !slices.Equal(got, want) {
			return fmt.Errorf("rolled %v, want %v", got, want)
		}
		return nil
	})
	waitState(t, c, d, v1.StateApplied, applyTimeout)
	if got := rolled(before, templateHashes(t, c, ns)); !slices.Equal(got, want) {
		t.Errorf("in the end rolled %v, want %v", got, want)
	}
}

// waitCephCondition waits until the deployment's Ceph condition has the
// reason and its message holds text.
func waitCephCondition(t *testing.T, c client.Client, d *v1.OpenStackDeployment, reason, text string) {
	t.Helper()
	got := &v1.OpenStackDeployment{}
	sandboxtest.Eventually(t, time.Minute, "the Ceph condition to say "+reason, func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
			return err
		}
		cond := apimeta.FindStatusCondition(got.Status.Conditions, controllers.ConditionCephKeys)
		if cond == nil || cond.Reason != reason || !strings.Contains(cond.Message, text) {
			return fmt.Errorf("condition %+v", cond)
		}
		return nil
	})
}

// checkHeld checks that the services wait for the Secret and that none
// of their workloads exists, while the others go on.
func checkHeld(t *testing.T, c client.Client, d *v1.OpenStackDeployment, services ...string) {
	t.Helper()
	got := &v1.OpenStackDeployment{}
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(d), got); err != nil {
		t.Fatal(err)
	}
	for _, svc := range services {
		st := got.Status.Services[svc]
		if st.State != v1.ServiceWaiting || !strings.Contains(st.Message, "Secret openstack-ceph-keys") {
			t.Errorf("%s: %s %q, want waiting for the Secret", svc, st.State, st.Message)
		}
	}
	for name := range templateHashes(t, c, d.Namespace) {
		if strings.Contains(name, "cinder-volume") || strings.Contains(name, "nova-compute") {
			t.Errorf("%s exists while its service waits for the Ceph Secret", name)
		}
	}
	if got.Status.State != v1.StateApplying {
		t.Errorf("state %s while services wait", got.Status.State)
	}
}

// rolled lists the workloads whose hash changed, sorted.
func rolled(before, after map[string]string) []string {
	var out []string
	for name, h := range before {
		if after[name] != h {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
