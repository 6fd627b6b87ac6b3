package sandbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/oskproject/osk/internal/sandbox"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// nodeMonitorGracePeriod is how long kube-controller-manager waits for a
// node's heartbeat before marking it not ready (its default).
const nodeMonitorGracePeriod = 50 * time.Second

// TestThousandNodesKeepUp checks that kwok keeps a thousand nodes, and a
// pod on most of them, ready: past the node monitor's grace period, no
// heartbeat was missed.
func TestThousandNodesKeepUp(t *testing.T) {
	if testing.Short() {
		t.Skip("scale test: takes about two minutes")
	}
	topology := sandbox.Topology{ControlPlane: 100, Compute: 800, Gateway: 100}
	sb := start(t, sandbox.Options{Topology: topology})
	cs, err := kubernetes.NewForConfig(sb.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	ds := openvswitchDaemonSet()
	if ds, err = cs.AppsV1().DaemonSets(metav1.NamespaceDefault).Create(t.Context(), ds, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labelled := int32(topology.Compute + topology.Gateway)
	daemonSetReady := func(ctx context.Context) error {
		got, err := cs.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got.Status.DesiredNumberScheduled != labelled || got.Status.NumberReady != labelled {
			return fmt.Errorf("%d/%d pods desired, %d ready", got.Status.DesiredNumberScheduled, labelled, got.Status.NumberReady)
		}
		return nil
	}
	sandboxtest.Eventually(t, 3*time.Minute, "the daemonset to be ready on every openvswitch node", daemonSetReady)

	time.Sleep(nodeMonitorGracePeriod + 10*time.Second)
	nodes, err := cs.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	notReady := 0
	for _, n := range nodes.Items {
		if !sandbox.NodeReady(&n) {
			notReady++
		}
	}
	if len(nodes.Items) != topology.Size() || notReady > 0 {
		t.Errorf("after %v: %d nodes, %d not ready; want %d, all ready", nodeMonitorGracePeriod, len(nodes.Items), notReady, topology.Size())
	}
	if err := daemonSetReady(t.Context()); err != nil {
		t.Errorf("after %v: %v", nodeMonitorGracePeriod, err)
	}
}

// openvswitchDaemonSet returns a DaemonSet on the nodes labelled
// openvswitch=enabled.
func openvswitchDaemonSet() *appsv1.DaemonSet {
	labels := map[string]string{"app": "openvswitch"}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceDefault, Name: "openvswitch"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector: map[string]string{"openvswitch": "enabled"},
					Containers:   []corev1.Container{{Name: "ovs", Image: "registry.invalid/osk/openvswitch:test"}},
				},
			},
		},
	}
}
