package lifecycle

import (
	"maps"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// podIndex finds the pods of objects among many: a cloud of thousands of
// nodes has tens of thousands of pods, and matching every one against
// every workload's selector was most of a pass's time. Pods are indexed,
// on first use, by the value of one label their selector requires, and
// only those candidates are matched. Not safe for concurrent use.
type podIndex struct {
	pods []corev1.Pod
	by   map[string]map[string][]*corev1.Pod // label key, value: pods
}

func newPodIndex(pods []corev1.Pod) *podIndex { return &podIndex{pods: pods} }

// of is PodsOf(o, x.pods).
func (x *podIndex) of(o client.Object) []*corev1.Pod {
	key, value, ok := requiredLabel(o)
	if !ok {
		return PodsOf(o, x.pods)
	}
	sel := podSelector(o)
	var out []*corev1.Pod
	for _, p := range x.withLabel(key)[value] {
		if p.Namespace == o.GetNamespace() && sel.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

// withLabel returns the pods by their value of key, indexing them on
// first use.
func (x *podIndex) withLabel(key string) map[string][]*corev1.Pod {
	if m, ok := x.by[key]; ok {
		return m
	}
	m := map[string][]*corev1.Pod{}
	for i := range x.pods {
		if v, ok := x.pods[i].Labels[key]; ok {
			m[v] = append(m[v], &x.pods[i])
		}
	}
	if x.by == nil {
		x.by = map[string]map[string][]*corev1.Pod{}
	}
	x.by[key] = m
	return m
}

// requiredLabel is a label, and its value, that every pod of o carries:
// a Job's name label, or the first (by name) of a workload selector's
// match labels.
func requiredLabel(o client.Object) (key, value string, ok bool) {
	if j, isJob := o.(*batchv1.Job); isJob {
		return batchv1.JobNameLabel, j.Name, true
	}
	ls := labelSelector(o)
	if ls == nil || len(ls.MatchLabels) == 0 {
		return "", "", false
	}
	key = slices.Min(slices.Collect(maps.Keys(ls.MatchLabels)))
	return key, ls.MatchLabels[key], true
}
