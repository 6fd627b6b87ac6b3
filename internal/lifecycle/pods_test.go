package lifecycle_test

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/lifecycle"
	"github.com/oskproject/osk/internal/render"
)

// pod builds a running pod of namespace ns labelled app=api, changed by
// opts.
func pod(name string, opts ...func(*corev1.Pod)) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{"app": "api"}}}
	p.Status.Phase = corev1.PodRunning
	for _, o := range opts {
		o(&p)
	}
	return p
}

func unschedulable(msg string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: msg,
		})
	}
}

func container(cs corev1.ContainerStatus) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, cs) }
}

func initContainer(cs corev1.ContainerStatus) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, cs) }
}

func labelled(k, v string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Labels = map[string]string{k: v} }
}

func inNamespace(ns string) func(*corev1.Pod) { return func(p *corev1.Pod) { p.Namespace = ns } }

func waiting(name, reason, msg string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}
}

func terminated(code int32, reason, msg string) *corev1.ContainerStateTerminated {
	return &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, Message: msg}
}

// TestPodTrouble checks the line that tells a person why pods do not run.
func TestPodTrouble(t *testing.T) {
	const noNode = "0/6 nodes are available: 3 Insufficient cpu, 3 node(s) didn't match Pod's node affinity/selector."
	crashing := waiting("api", "CrashLoopBackOff", "back-off 5m0s restarting failed container=api pod=a_ns(1234)")
	crashing.RestartCount = 5
	crashing.LastTerminationState.Terminated = terminated(1, "Error", "")
	oomKilled := corev1.ContainerStatus{Name: "api", RestartCount: 1, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
		LastTerminationState: corev1.ContainerState{Terminated: terminated(137, "OOMKilled", "")}}
	recovered := oomKilled
	recovered.Ready = true
	for _, tc := range []struct {
		name string
		pods []corev1.Pod
		want string
	}{
		{"no pods", nil, ""},
		{"running", []corev1.Pod{pod("a", container(corev1.ContainerStatus{Name: "api", Ready: true}))}, ""},
		{"starting", []corev1.Pod{pod("a", container(waiting("api", "ContainerCreating", "")))}, ""},
		{"unschedulable, without what preemption made of it",
			[]corev1.Pod{pod("a", unschedulable(noNode+" preemption: 0/6 nodes are available: 6 Preemption is not helpful for scheduling."))},
			"pod a: Unschedulable: " + noNode},
		{"unschedulable, without what the post-filter plugins of Kubernetes 1.34 made of it",
			[]corev1.Pod{pod("a", unschedulable(noNode+" no new claims to deallocate, preemption: 0/6 nodes are available: 3 Preemption is not helpful for scheduling."))},
			"pod a: Unschedulable: " + noNode},
		{"unschedulable for want of a volume",
			[]corev1.Pod{pod("a", unschedulable("0/6 nodes are available: pod has unbound immediate PersistentVolumeClaims. not found"))},
			"pod a: Unschedulable: 0/6 nodes are available: pod has unbound immediate PersistentVolumeClaims."},
		{"unschedulable, another message", []corev1.Pod{pod("a", unschedulable("running PreFilter plugin \"VolumeBinding\": error. retrying"))},
			"pod a: Unschedulable: running PreFilter plugin \"VolumeBinding\": error. retrying"},
		{"image pull", []corev1.Pod{pod("a", container(waiting("api", "ImagePullBackOff", `Back-off pulling image "nova:epoxy"`)))},
			`pod a: container api: ImagePullBackOff: Back-off pulling image "nova:epoxy"`},
		{"configuration error", []corev1.Pod{pod("a", container(waiting("api", "CreateContainerConfigError", `secret "nova-etc" not found`)))},
			`pod a: container api: CreateContainerConfigError: secret "nova-etc" not found`},
		{"crash loop: restarts and last exit", []corev1.Pod{pod("a", container(crashing))},
			"pod a: container api: CrashLoopBackOff after 5 restarts; last exited with code 1 (Error)"},
		{"init container", []corev1.Pod{pod("a", initContainer(waiting("node-config", "ErrImagePull", "not found")))},
			"pod a: init container node-config: ErrImagePull: not found"},
		{"exited with an error, its message on one line",
			[]corev1.Pod{pod("a", container(corev1.ContainerStatus{Name: "job", State: corev1.ContainerState{
				Terminated: terminated(2, "Error", "Access denied\n  for user 'nova'\n")}}))},
			"pod a: container job: exited with code 2 (Error): Access denied for user 'nova'"},
		{"restarted and not ready", []corev1.Pod{pod("a", container(oomKilled))},
			"pod a: container api: not ready after 1 restart; last exited with code 137 (OOMKilled)"},
		{"restarted, ready again", []corev1.Pod{pod("a", container(recovered))}, ""},
		{"evicted", []corev1.Pod{pod("a", func(p *corev1.Pod) {
			p.Status.Phase, p.Status.Reason, p.Status.Message = corev1.PodFailed, "Evicted", "The node was low on resource: memory."
		})}, "pod a: failed: Evicted: The node was low on resource: memory."},
		{"failed, no reason given", []corev1.Pod{pod("a", func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed })}, "pod a: failed"},
		{"succeeded", []corev1.Pod{pod("a", func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }, container(waiting("api", "Completed", "")))}, ""},
		{"going away", []corev1.Pod{pod("a", unschedulable(noNode), func(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{} })}, ""},
		{"the worst pod", []corev1.Pod{pod("a", container(oomKilled)), pod("b", unschedulable(noNode)), pod("c", container(crashing))},
			"pod b: Unschedulable: " + noNode},
		{"the first by name among equals", []corev1.Pod{pod("c", unschedulable("c")), pod("b", unschedulable("b"))},
			"pod b: Unschedulable: b"},
		{"a long message cut", []corev1.Pod{pod("a", unschedulable(strings.Repeat("é", 200)))},
			"pod a: Unschedulable: " + strings.Repeat("é", 157) + "..."},
	} {
		if got := lifecycle.PodTrouble(tc.pods); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
		if got := lifecycle.PodTrouble(slimmed(t, tc.pods)); got != tc.want {
			t.Errorf("%s, as the cache holds the pods:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// TestPodsOf checks which pods belong to an object.
func TestPodsOf(t *testing.T) {
	pods := []corev1.Pod{
		pod("api-1"), pod("api-other-ns", inNamespace("other")), pod("worker-1", labelled("app", "worker")),
		pod("db-sync-x", labelled(batchv1.JobNameLabel, "db-sync")),
	}
	selecting := func(app string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
	}
	om := metav1.ObjectMeta{Name: "api", Namespace: "ns"}
	for _, tc := range []struct {
		name string
		o    client.Object
		want []string
	}{
		{"Deployment", &appsv1.Deployment{ObjectMeta: om, Spec: appsv1.DeploymentSpec{Selector: selecting("api")}}, []string{"api-1"}},
		{"StatefulSet", &appsv1.StatefulSet{ObjectMeta: om, Spec: appsv1.StatefulSetSpec{Selector: selecting("worker")}}, []string{"worker-1"}},
		{"DaemonSet, by expression", &appsv1.DaemonSet{ObjectMeta: om, Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"api", "worker"}}},
		}}}, []string{"api-1", "worker-1"}},
		{"Job, by its name label", &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "db-sync", Namespace: "ns"}}, []string{"db-sync-x"}},
		{"no selector", &appsv1.Deployment{ObjectMeta: om}, nil},
		{"not a workload", &corev1.Service{ObjectMeta: om}, nil},
	} {
		var got []string
		for _, p := range lifecycle.PodsOf(tc.o, pods) {
			got = append(got, p.Name)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: pods %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestObserveNamesPodTrouble checks that a workload or Job that is not
// ready says what its own pods go through, and only its current ones.
func TestObserveNamesPodTrouble(t *testing.T) {
	const noNode = "0/6 nodes are available: 6 node(s) didn't match Pod's node affinity/selector."
	d := deployment("identity", "keystone-api")
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}}
	d.Spec.Template.Annotations = map[string]string{render.AnnotationConfigHash: "new"}
	starting := readyDeployment(d)
	starting.Status.ReadyReplicas, starting.Status.AvailableReplicas = 0, 0
	old := starting.DeepCopy()
	old.Spec.Template.Annotations = map[string]string{render.AnnotationConfigHash: "old"}
	j := job("identity", "keystone-db-sync", "")
	rerun := j.DeepCopy()
	rerun.Annotations[render.AnnotationInputsHash] = "other"
	failed := finished(j, batchv1.JobFailed)
	stuck := []corev1.Pod{pod("keystone-api-1", unschedulable(noNode)),
		pod("keystone-db-sync-x", labelled(batchv1.JobNameLabel, "keystone-db-sync"),
			container(corev1.ContainerStatus{Name: "job", State: corev1.ContainerState{Terminated: terminated(1, "Error", "")}}))}
	for _, tc := range []struct {
		name          string
		desired, live client.Object
		want          string
	}{
		{"rolling out", d, starting, "0 of 1 pods updated and ready; pod keystone-api-1: Unschedulable: " + noNode},
		{"ready", d, readyDeployment(d), ""},
		{"old template: its pods are not the desired ones", d, old, "being updated"},
		{"Job running", j, j, "running; pod keystone-db-sync-x: container job: exited with code 1 (Error)"},
		{"Job failed", j, failed, "Job keystone-db-sync failed (BackoffLimitExceeded: ); its logs: kubectl logs -n ns job/keystone-db-sync; " +
			"pod keystone-db-sync-x: container job: exited with code 1 (Error)"},
		{"Job to be run again: its pods ran other inputs", j, rerun, "inputs changed; to be run again"},
	} {
		if got := lifecycle.Observe(tc.desired, tc.live, stuck).Reason; got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}
