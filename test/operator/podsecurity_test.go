package operator_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/apply"
	"github.com/oskproject/osk/internal/render"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// LabelEnforce is the namespace label by which the API server's Pod
// Security admission enforces a level.
const labelEnforce = "pod-security.kubernetes.io/enforce"

// TestControlPlaneEnforcesRestricted deploys examples/compute.yaml with
// its namespace enforcing Pod Security's restricted level and its node
// agents in a namespace of their own enforcing privileged: it reaches
// APPLIED with every rendered object in its namespace and the agents'
// DaemonSets on their nodes. Moving the agents to another namespace
// leaves nothing of theirs in the first, and deleting the deployment
// leaves nothing of it in the agents' namespace.
func TestControlPlaneEnforcesRestricted(t *testing.T) {
	c, ns, _ := setup(t)
	env := sandboxtest.Get(t)
	agents, moved := env.Namespace(t), env.Namespace(t)
	enforce(t, c, ns, "restricted")
	enforce(t, c, agents, "privileged")
	enforce(t, c, moved, "privileged")
	refusesPrivileged(t, c, ns)
	labelNode(t, c, "compute-1", "rack", "r2")
	d := waitState(t, c, deploy(t, c, "compute", ns, func(d *v1.OpenStackDeployment) {
		d.Spec.Features.NodeAgents.Namespace = agents
	}), v1.StateApplied, applyTimeout)
	nodes := nodeLabels(t, c)
	checkSplit(t, c, d, nodes)

	t.Run("moving the agents prunes the old namespace", func(t *testing.T) {
		patch := client.MergeFrom(d.DeepCopy())
		d.Spec.Features.NodeAgents.Namespace = moved
		if err := c.Patch(t.Context(), d, patch); err != nil {
			t.Fatal(err)
		}
		d = waitState(t, c, d, v1.StateApplied, applyTimeout)
		checkSplit(t, c, d, nodes)
		sandboxtest.Eventually(t, changeTimeout, "nothing of the deployment left in "+agents, func(ctx context.Context) error {
			return noneOwned(ctx, c, d.UID, agents)
		})
	})

	t.Run("deleting the deployment empties the agents' namespace", func(t *testing.T) {
		if err := c.Delete(t.Context(), d); err != nil {
			t.Fatal(err)
		}
		sandboxtest.Eventually(t, changeTimeout, "the deployment and its agents' objects to be gone", func(ctx context.Context) error {
			if err := c.Get(ctx, client.ObjectKeyFromObject(d), &v1.OpenStackDeployment{}); !apierrors.IsNotFound(err) {
				return fmt.Errorf("deployment still there: %v", err)
			}
			return noneOwned(ctx, c, d.UID, moved)
		})
	})
}

// checkSplit checks a deployment APPLIED with its agents in a namespace of
// their own: every rendered object is in its namespace, both namespaces
// run pods, and the agents' DaemonSets cover their nodes.
func checkSplit(t *testing.T, c client.Client, d *v1.OpenStackDeployment, nodes map[string]map[string]string) {
	t.Helper()
	res, err := render.Render(d, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkEverythingApplied(t, c, res.Objects)
	agents := render.AgentsNamespace(d)
	count := map[string]int{}
	for _, o := range res.Objects {
		if render.PodTemplate(o) != nil {
			count[o.GetNamespace()]++
		}
	}
	if count[d.Namespace] == 0 || count[agents] == 0 {
		t.Errorf("pod templates by namespace: %v", count)
	}
	checkPodsOnRoleNodes(t, c, agents, nodes)
	checkDaemonSetsCoverTheirNodes(t, c, agents, nodes)
	t.Logf("%d pod templates in %s (restricted), %d in %s (privileged)", count[d.Namespace], d.Namespace, count[agents], agents)
}

// enforce labels a namespace to enforce a Pod Security level.
func enforce(t *testing.T, c client.Client, ns, level string) {
	t.Helper()
	patch := fmt.Appendf(nil, `{"metadata":{"labels":{%q:%q}}}`, labelEnforce, level)
	n := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	if err := c.Patch(t.Context(), n, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatalf("labelling namespace %s: %v", ns, err)
	}
}

// refusesPrivileged checks that the API server enforces the restricted
// level in ns: a pod in the host's network is refused.
func refusesPrivileged(t *testing.T, c client.Client, ns string) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "host-network", Namespace: ns},
		Spec:       corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "c", Image: "pause"}}},
	}
	err := c.Create(t.Context(), pod, client.DryRunAll)
	if err == nil || !strings.Contains(err.Error(), "violates PodSecurity") {
		t.Fatalf("a host-network pod in %s enforcing restricted: %v, want a PodSecurity refusal", ns, err)
	}
}

// noneOwned fails while an object of the owner, of a kind osk renders,
// is in namespace ns.
func noneOwned(ctx context.Context, c client.Client, uid types.UID, ns string) error {
	for kind, list := range apply.Kinds() {
		err := c.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{apply.LabelOwner: string(uid)})
		if apimeta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return err
		}
		var left []string
		_ = apimeta.EachListItem(list, func(o runtime.Object) error {
			if obj := o.(client.Object); obj.GetNamespace() == ns { // cluster-scoped kinds ignore the namespace
				left = append(left, obj.GetName())
			}
			return nil
		})
		if len(left) > 0 {
			return fmt.Errorf("%ss left in %s: %v", kind, ns, left)
		}
	}
	return nil
}
