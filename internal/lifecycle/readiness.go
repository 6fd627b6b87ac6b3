package lifecycle

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
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
// same replicas) and its controller says it has rolled out.
func Observe(desired, live client.Object) Readiness {
	if live == nil {
		return Readiness{Reason: "not created yet"}
	}
	if dt, lt := render.PodTemplate(desired), render.PodTemplate(live); dt != nil && lt != nil &&
		dt.Annotations[render.AnnotationConfigHash] != lt.Annotations[render.AnnotationConfigHash] {
		return Readiness{Reason: "being updated"}
	}
	switch l := live.(type) {
	case *appsv1.Deployment:
		return deployment(desired.(*appsv1.Deployment), l)
	case *appsv1.StatefulSet:
		return statefulSet(desired.(*appsv1.StatefulSet), l)
	case *appsv1.DaemonSet:
		return daemonSet(l)
	case *batchv1.Job:
		return job(desired.(*batchv1.Job), l)
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

func daemonSet(l *appsv1.DaemonSet) Readiness {
	s := l.Status
	switch {
	case s.ObservedGeneration < l.Generation:
		return Readiness{Reason: "update not yet observed"}
	case s.UpdatedNumberScheduled != s.DesiredNumberScheduled || s.NumberAvailable != s.DesiredNumberScheduled:
		return Readiness{Reason: fmt.Sprintf("%d of %d nodes updated and available",
			min(s.UpdatedNumberScheduled, s.NumberAvailable), s.DesiredNumberScheduled)}
	}
	return Readiness{Ready: true}
}

func job(d, l *batchv1.Job) Readiness {
	if d.Annotations[render.AnnotationInputsHash] != l.Annotations[render.AnnotationInputsHash] {
		return Readiness{Reason: "inputs changed; to be run again"}
	}
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
