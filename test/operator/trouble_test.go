package operator_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// troubleTimeout bounds the wait for a deployment to report why its pods
// do not run: the services the stuck one needs come up first.
const troubleTimeout = time.Minute

// TestStatusNamesUnschedulablePods deploys examples/minimal.yaml in two
// ways no node can take, and checks that the deployment's status names
// the stuck pod and gives the scheduler's reason, while it keeps applying.
func TestStatusNamesUnschedulablePods(t *testing.T) {
	c, _, _ := setup(t)
	env := sandboxtest.Get(t)
	labels := nodeLabels(t, c)
	controlPlane := 0
	for _, l := range labels {
		if l["openstack-control-plane"] == "enabled" {
			controlPlane++
		}
	}
	noNode := fmt.Sprintf("Unschedulable: 0/%d nodes are available: ", len(labels))
	for _, tc := range []struct {
		name, service, pod, why string
		mutate                  func(*v1.OpenStackDeployment)
	}{
		{
			name: "a storage class the cluster lacks", service: "database", pod: "mariadb-server-0",
			why:    noNode + "pod has unbound immediate PersistentVolumeClaims.",
			mutate: func(d *v1.OpenStackDeployment) { d.Spec.StorageClasses.Local = "nvme-local" },
		},
		{
			// The control-plane nodes have 32 CPUs each.
			name: "more CPU than a node has", service: "identity", pod: "keystone-api-",
			why: fmt.Sprintf("%s%d Insufficient cpu, %d node(s) didn't match Pod's node affinity/selector.",
				noNode, controlPlane, len(labels)-controlPlane),
			mutate: func(d *v1.OpenStackDeployment) {
				requests := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("48")}
				d.Spec.Services = map[string]v1.ServiceOverride{"identity": {Components: map[string]v1.ComponentOverride{
					"api": {Resources: &corev1.ResourceRequirements{Requests: requests}},
				}}}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := deploy(t, c, "minimal", env.Namespace(t), tc.mutate)
			got := waitTrouble(t, c, d, tc.service)
			msg := got.Status.Services[tc.service].Message
			t.Logf("%s: %s", tc.service, msg)
			if !strings.Contains(msg, "; pod "+tc.pod) || !strings.Contains(msg, tc.why) {
				t.Errorf("service %s says %q; want it to name pod %s… and say %q", tc.service, msg, tc.pod, tc.why)
			}
			if got.Status.State != v1.StateApplying || got.Status.Services[tc.service].State != v1.ServiceApplying {
				t.Errorf("state %s, service %s %s; want both applying", got.Status.State, tc.service, got.Status.Services[tc.service].State)
			}
			if ready := apimeta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady); ready == nil || !strings.Contains(ready.Message, tc.why) {
				t.Errorf("Ready condition %+v does not say %q", ready, tc.why)
			}
		})
	}
}

// waitTrouble waits until a service of the deployment reports a pod that
// no node can take, and returns the deployment.
func waitTrouble(t *testing.T, c client.Client, d *v1.OpenStackDeployment, service string) *v1.OpenStackDeployment {
	t.Helper()
	got := &v1.OpenStackDeployment{}
	sandboxtest.Eventually(t, troubleTimeout, service+" to report an unschedulable pod", func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
			return err
		}
		if st := got.Status.Services[service]; !strings.Contains(st.Message, "Unschedulable") {
			return fmt.Errorf("state %s, %s %s: %q", got.Status.State, service, st.State, st.Message)
		}
		return nil
	})
	return got
}
