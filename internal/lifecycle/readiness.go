package lifecycle

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/render"
)

// Readiness is what a live object says about itself.
type Readiness struct {
	// Ready is true when the object has done what it is for: a workload
	// runs its desired pods, all updated; a Job succeeded.
	Ready bool
	// Failed is true when it cannot get there without a change (a Job
	// that failed).
	Failed bool
	// Reason says why it is not ready, for a person.
	Reason string
}

// Observe judges a live object against the object osk wants: it is ready
// only when the live object is the desired one (same pod template hash,
// same replicas) and its controller says it has rolled out. When the live
// object is the desired one but not ready, the Reason ends with the worst
// problem of its pods, found among pods (see PodTrouble).
func Observe(desired, live client.Object, pods []corev1.Pod) Readiness {
	return observe(desired, live, newPodIndex(pods))
}

// observe is Observe, with the pods indexed.
func observe(desired, live client.Object, pods *podIndex) Readiness {
	if live == nil {
		return Readiness{Reason: "not created yet"}
	}
	if why := outdated(desired, live); why != "" {
		return Readiness{Reason: why}
	}
	r := rollout(desired, live)
	if r.Ready {
		return r
	}
	if t := troubleOf(pods.of(desired)); t != "" {
		r.Reason += "; " + t
	}
	return r
}

// outdated says why the live object is not the desired one, if it is
// not: its pods run another configuration, or a Job ran with other
// inputs. What such pods go through says nothing of the desired ones.
func outdated(desired, live client.Object) string {
	if desired.GetAnnotations()[render.AnnotationInputsHash] != live.GetAnnotations()[render.AnnotationInputsHash] {
		return "inputs changed; to be run again"
	}
	if dt, lt := render.PodTemplate(desired), render.PodTemplate(live); dt != nil && lt != nil &&
		dt.Annotations[render.AnnotationConfigHash] != lt.Annotations[render.AnnotationConfigHash] {
		return "being updated"
	}
	return ""
}

// Settled is the verdict a workload's or Job's own status gives of its
// rollout, against its own spec: ready, failed, or neither (Reason is left
// out). A pass's decisions about the object change only when this, its
// generation or its metadata does.
func Settled(live client.Object) Readiness {
	r := rollout(live, live)
	return Readiness{Ready: r.Ready, Failed: r.Failed}
}

// rollout is what the live object's status says.
func rollout(desired, live client.Object) Readiness {
	switch l := live.(type) {
	case *appsv1.Deployment:
		return deployment(desired.(*appsv1.Deployment), l)
	case *appsv1.StatefulSet:
		return statefulSet(desired.(*appsv1.StatefulSet), l)
	case *appsv1.DaemonSet:
		return daemonSet(l)
	case *batchv1.Job:
		return job(l)
	}
	return Readiness{Ready: true}
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func deployment(d, l *appsv1.Deployment) Readiness {
	want := replicas(d.Spec.Replicas)
	s := l.Status
	switch {
	case l.Status.ObservedGeneration < l.Generation || replicas(l.Spec.Replicas) != want:
		return Readiness{Reason: "update not yet observed"}
	case s.UpdatedReplicas != want || s.ReadyReplicas != want || s.AvailableReplicas != want || s.Replicas != want:
		return Readiness{Reason: fmt.Sprintf("%d of %d pods updated and ready", min(s.UpdatedReplicas, s.ReadyReplicas), want)}
	}
	return Readiness{Ready: true}
}

func statefulSet(d, l *appsv1.StatefulSet) Readiness {
	want := replicas(d.Spec.Replicas)
	s := l.Status
	switch {
	case s.ObservedGeneration < l.Generation || replicas(l.Spec.Replicas) != want:
		return Readiness{Reason: "update not yet observed"}
	case s.UpdatedReplicas != want || s.ReadyReplicas != want || s.CurrentRevision != s.UpdateRevision:
		return Readiness{Reason: fmt.Sprintf("%d of %d pods updated and ready", min(s.UpdatedReplicas, s.ReadyReplicas), want)}
	}
	return Readiness{Ready: true}
}

// daemonSet is ready once every node runs its current template and no
// more pods are unavailable than its rolling update allows: a node that
// joins (its pod starting) or dies leaves the service ready, as it leaves
// the DaemonSet's own rollout going, instead of flipping the deployment to
// APPLYING and back for every node of a large cloud.
func daemonSet(l *appsv1.DaemonSet) Readiness {
	s := l.Status
	switch {
	case s.ObservedGeneration < l.Generation:
		return Readiness{Reason: "update not yet observed"}
	case s.UpdatedNumberScheduled != s.DesiredNumberScheduled || s.NumberAvailable < s.DesiredNumberScheduled-maxUnavailable(l):
		return Readiness{Reason: fmt.Sprintf("%d of %d nodes updated and available",
			min(s.UpdatedNumberScheduled, s.NumberAvailable), s.DesiredNumberScheduled)}
	}
	return Readiness{Ready: true}
}

// maxUnavailable is how many of a DaemonSet's pods its rolling update
// lets be unavailable: 1 unless the spec says otherwise.
func maxUnavailable(l *appsv1.DaemonSet) int32 {
	ru := l.Spec.UpdateStrategy.RollingUpdate
	if l.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType || ru == nil || ru.MaxUnavailable == nil {
		return 1
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, int(l.Status.DesiredNumberScheduled), true)
	if err != nil {
		return 1
	}
	return int32(n)
}

func job(l *batchv1.Job) Readiness {
	for _, c := range l.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return Readiness{Ready: true}
		case batchv1.JobFailed:
			return Readiness{Failed: true, Reason: fmt.Sprintf("Job %s failed (%s: %s); its logs: kubectl logs -n %s job/%s",
				l.Name, c.Reason, c.Message, l.Namespace, l.Name)}
		}
	}
	return Readiness{Reason: "running"}
}
