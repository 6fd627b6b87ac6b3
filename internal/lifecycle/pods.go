package lifecycle

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// maxDetail bounds, in characters, a message quoted from a pod's status,
// so that a deployment's status stays readable.
const maxDetail = 160

// PodsOf returns the pods, among pods, of a workload (those its selector
// selects in its namespace) or of a Job (those labelled with its name).
// Other objects have none; so has a workload whose selector is invalid,
// which the API server would not have accepted. They point into pods,
// which a cloud of thousands of nodes makes large: nothing is copied.
func PodsOf(o client.Object, pods []corev1.Pod) []*corev1.Pod {
	sel := podSelector(o)
	var out []*corev1.Pod
	for i := range pods {
		if pods[i].Namespace == o.GetNamespace() && sel.Matches(labels.Set(pods[i].Labels)) {
			out = append(out, &pods[i])
		}
	}
	return out
}

// podSelector is what selects the pods of o.
func podSelector(o client.Object) labels.Selector {
	if j, ok := o.(*batchv1.Job); ok {
		return labels.SelectorFromSet(labels.Set{batchv1.JobNameLabel: j.Name})
	}
	ls := labelSelector(o)
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil || ls == nil {
		return labels.Nothing()
	}
	return sel
}

// labelSelector is a workload's selector; nil for other objects.
func labelSelector(o client.Object) *metav1.LabelSelector {
	switch t := o.(type) {
	case *appsv1.Deployment:
		return t.Spec.Selector
	case *appsv1.StatefulSet:
		return t.Spec.Selector
	case *appsv1.DaemonSet:
		return t.Spec.Selector
	}
	return nil
}

// rank orders problems: a pod shows its worst one, and PodTrouble the
// worst of all.
type rank int

const (
	fine rank = iota
	// restarted: a container that is not ready has restarted.
	restarted
	// exited: a container stopped with an error.
	exited
	// podFailed: the pod failed as a whole (evicted, for instance).
	podFailed
	// stuck: the pod cannot run without a change: it fits no node, or a
	// container cannot be created, pulled or kept running.
	stuck
)

// trouble is one pod's worst problem, for a person.
type trouble struct {
	rank rank
	text string
}

// PodTrouble describes, in one short line naming the pod, the worst
// problem among pods (the first by name among equals): a pod no node can
// take (with the scheduler's reason), a container that cannot start
// (image pull, configuration, crash loop), a container that exited with
// an error, or one that restarted. It is empty when no pod has a problem;
// pods that are going away or succeeded have none.
func PodTrouble(pods []corev1.Pod) string {
	ps := make([]*corev1.Pod, len(pods))
	for i := range pods {
		ps[i] = &pods[i]
	}
	return troubleOf(ps)
}

// troubleOf is PodTrouble.
func troubleOf(pods []*corev1.Pod) string {
	var worst trouble
	var name string
	for _, p := range pods {
		t := podTrouble(p)
		if t.rank > worst.rank || t.rank != fine && t.rank == worst.rank && p.Name < name {
			worst, name = t, p.Name
		}
	}
	if worst.rank == fine {
		return ""
	}
	return "pod " + name + ": " + worst.text
}

// podTrouble is the worst problem of one pod.
func podTrouble(p *corev1.Pod) trouble {
	if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded {
		return trouble{}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return trouble{stuck, "Unschedulable: " + schedulerMessage(c.Message)}
		}
	}
	var worst trouble
	for _, g := range []struct {
		kind     string
		statuses []corev1.ContainerStatus
	}{{"init container", p.Status.InitContainerStatuses}, {"container", p.Status.ContainerStatuses}} {
		for i := range g.statuses {
			if t := containerTrouble(g.kind, &g.statuses[i]); t.rank > worst.rank {
				worst = t
			}
		}
	}
	if worst.rank == fine && p.Status.Phase == corev1.PodFailed {
		return trouble{podFailed, detail(strings.TrimSuffix("failed: "+p.Status.Reason, ": "), p.Status.Message)}
	}
	return worst
}

// containerTrouble is the problem of one container, if it has one.
func containerTrouble(kind string, cs *corev1.ContainerStatus) trouble {
	name := kind + " " + cs.Name + ": "
	last := cs.LastTerminationState.Terminated
	switch w, t := cs.State.Waiting, cs.State.Terminated; {
	case w != nil && w.Reason == "CrashLoopBackOff":
		return trouble{stuck, name + "CrashLoopBackOff after " + restarts(cs.RestartCount) + lastExit(last)}
	case w != nil && w.Reason != "" && w.Reason != "ContainerCreating" && w.Reason != "PodInitializing":
		return trouble{stuck, name + detail(w.Reason, w.Message)}
	case t != nil && t.ExitCode != 0:
		return trouble{exited, name + exitedWith(t)}
	case cs.RestartCount > 0 && !cs.Ready:
		return trouble{restarted, name + "not ready after " + restarts(cs.RestartCount) + lastExit(last)}
	}
	return trouble{}
}

func restarts(n int32) string {
	if n == 1 {
		return "1 restart"
	}
	return fmt.Sprintf("%d restarts", n)
}

// lastExit says how a container last stopped, if it is known.
func lastExit(t *corev1.ContainerStateTerminated) string {
	if t == nil {
		return ""
	}
	return "; last " + exitedWith(t)
}

func exitedWith(t *corev1.ContainerStateTerminated) string {
	return detail(fmt.Sprintf("exited with code %d (%s)", t.ExitCode, t.Reason), t.Message)
}

// schedulerMessage is the scheduler's account of why no node takes the
// pod, "0/6 nodes are available: <why>.", without the sentences that
// follow it: what its post-filter plugins (preemption, resource claim
// deallocation) made of it, which differs between Kubernetes versions and
// says nothing of the cause.
func schedulerMessage(msg string) string {
	if strings.Contains(msg, " nodes are available: ") {
		if i := strings.Index(msg, ". "); i >= 0 {
			msg = msg[:i+1]
		}
	}
	return shorten(msg)
}

// detail is what, followed by msg when there is one.
func detail(what, msg string) string {
	if msg = shorten(msg); msg != "" {
		return what + ": " + msg
	}
	return what
}

// shorten puts msg on one line and cuts it to maxDetail characters.
func shorten(msg string) string {
	msg = strings.Join(strings.Fields(msg), " ")
	if r := []rune(msg); len(r) > maxDetail {
		return string(r[:maxDetail-3]) + "..."
	}
	return msg
}
