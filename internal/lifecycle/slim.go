package lifecycle

import corev1 "k8s.io/api/core/v1"

// SlimPod is the operator cache's transform for pods. It keeps what osk
// reads of a pod: its metadata without server-side apply's field records,
// its node, its containers' names, and the status PodTrouble, Observe and
// TempestResult read. It drops the rest of the spec, which repeats the
// workload's pod template, and the status fields osk never reads (images,
// addresses, resources). At a thousand compute nodes the DaemonSets' pods
// are most of what the operator holds, so this is most of its memory.
// Anything else that is not a pod passes unchanged.
func SlimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	p.ManagedFields = nil
	containers := make([]corev1.Container, len(p.Spec.Containers))
	for i := range p.Spec.Containers {
		containers[i].Name = p.Spec.Containers[i].Name
	}
	p.Spec = corev1.PodSpec{NodeName: p.Spec.NodeName, Containers: containers}
	p.Status = corev1.PodStatus{
		Phase:                 p.Status.Phase,
		Reason:                p.Status.Reason,
		Message:               p.Status.Message,
		Conditions:            p.Status.Conditions,
		InitContainerStatuses: slimStatuses(p.Status.InitContainerStatuses),
		ContainerStatuses:     slimStatuses(p.Status.ContainerStatuses),
	}
	return p, nil
}

// slimStatuses keeps each container's name, state, readiness and
// restarts.
func slimStatuses(in []corev1.ContainerStatus) []corev1.ContainerStatus {
	if in == nil {
		return nil
	}
	out := make([]corev1.ContainerStatus, len(in))
	for i, s := range in {
		out[i] = corev1.ContainerStatus{
			Name: s.Name, State: s.State, LastTerminationState: s.LastTerminationState,
			Ready: s.Ready, Started: s.Started, RestartCount: s.RestartCount,
		}
	}
	return out
}
