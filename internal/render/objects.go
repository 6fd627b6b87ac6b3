package render

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/catalog"
)

// Labels and annotations osk puts on what it renders.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelComponent = "app.kubernetes.io/component"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelPartOf    = "app.kubernetes.io/part-of"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// LabelService is the catalog service an object belongs to.
	LabelService = "osk.dev/service"
	// AnnotationConfigHash, on a pod template, is a hash of everything its
	// pods read; a change rolls exactly those pods.
	AnnotationConfigHash = "osk.dev/config-hash"
	// AnnotationInputsHash, on a Job, is a hash of its pod spec; the
	// operator re-runs a Job only when it changes.
	AnnotationInputsHash = "osk.dev/inputs-hash"
	// AnnotationAfter, on a Job, lists the Jobs that must succeed first.
	AnnotationAfter = "osk.dev/after"
	// AnnotationAfterWorkloads, on a Job, says it runs once its service's
	// workloads are ready.
	AnnotationAfterWorkloads = "osk.dev/after-workloads"
	// AnnotationUpgradeStep, on a Job of a release upgrade, names its step
	// (for example "expand").
	AnnotationUpgradeStep = "osk.dev/upgrade-step"
	// AnnotationRestartAfterUpgrade, on the upgrade Jobs of a service
	// whose components roll once more after its last upgrade step.
	AnnotationRestartAfterUpgrade = "osk.dev/restart-after-upgrade"
	// AnnotationNodeOverride, on a DaemonSet, is the node key it serves.
	AnnotationNodeOverride = "osk.dev/node-override"
	// ManagedBy is the value of LabelManagedBy.
	ManagedBy = "osk"
)

// labels are the labels of every object of one component (or job) of a
// service.
func (m *model) labels(s *catalog.Service, component string) map[string]string {
	l := map[string]string{
		LabelName:      s.Project,
		LabelInstance:  m.d.Name,
		LabelPartOf:    "openstack",
		LabelManagedBy: ManagedBy,
		LabelService:   s.Name,
	}
	if component != "" {
		l[LabelComponent] = component
	}
	return l
}

// selector is the immutable subset of labels that selects a workload's
// pods.
func selector(l map[string]string) map[string]string {
	return map[string]string{LabelName: l[LabelName], LabelComponent: l[LabelComponent], LabelInstance: l[LabelInstance]}
}

func (m *model) meta(name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: m.d.Namespace, Labels: labels}
}

func (m *model) add(objs ...client.Object) { m.objects = append(m.objects, objs...) }

// configSecret holds configuration files; they may hold passwords, so
// they are never ConfigMaps.
func (m *model) configSecret(name string, labels map[string]string, files map[string][]byte) *corev1.Secret {
	data := make(map[string][]byte, len(files))
	for n, b := range files {
		data[secretKey(n)] = b
	}
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: m.meta(name, labels),
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}
}

// hash is a short, stable hash of its parts.
func hash(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// hashFiles hashes files in name order.
func hashFiles(files map[string][]byte, extra ...string) string {
	var parts [][]byte
	for _, n := range sortedKeys(files) {
		parts = append(parts, []byte(n), files[n])
	}
	for _, e := range extra {
		parts = append(parts, []byte(e))
	}
	return hash(parts...)
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// slug turns a node key into a name suffix.
func slug(key string) string {
	return strings.Trim(notDNS.ReplaceAllString(strings.ToLower(strings.ReplaceAll(key, "::", "-")), "-"), "-")
}

// kindOrder sorts rendered objects so that what others refer to comes
// first.
var kindOrder = map[string]int{
	"ServiceAccount": 0, "ClusterRole": 1, "ClusterRoleBinding": 2, "Role": 3, "RoleBinding": 4,
	"Secret": 5, "ConfigMap": 6, "PersistentVolumeClaim": 7, "Service": 8, "IngressClass": 9, "Ingress": 10,
	"StatefulSet": 11, "Deployment": 12, "DaemonSet": 13, "PodDisruptionBudget": 14, "Job": 15, "CronJob": 16,
	"NetworkPolicy": 17,
}

func sortObjects(objs []client.Object) {
	sort.SliceStable(objs, func(i, j int) bool {
		ki, kj := kindOrder[objs[i].GetObjectKind().GroupVersionKind().Kind], kindOrder[objs[j].GetObjectKind().GroupVersionKind().Kind]
		if ki != kj {
			return ki < kj
		}
		if objs[i].GetName() != objs[j].GetName() {
			return objs[i].GetName() < objs[j].GetName()
		}
		return objs[i].GetNamespace() < objs[j].GetNamespace()
	})
}

// PodTemplate returns the pod template of a workload, Job or CronJob, or
// nil for other objects.
func PodTemplate(o client.Object) *corev1.PodTemplateSpec {
	switch t := o.(type) {
	case *appsv1.Deployment:
		return &t.Spec.Template
	case *appsv1.StatefulSet:
		return &t.Spec.Template
	case *appsv1.DaemonSet:
		return &t.Spec.Template
	case *batchv1.Job:
		return &t.Spec.Template
	case *batchv1.CronJob:
		return &t.Spec.JobTemplate.Spec.Template
	}
	return nil
}

// PodSpec returns the pod spec of a workload, Job or CronJob, or nil.
func PodSpec(o client.Object) *corev1.PodSpec {
	if t := PodTemplate(o); t != nil {
		return &t.Spec
	}
	return nil
}

// Key names an object: its kind, namespace (empty when cluster-scoped) and
// name. Planning, applying and pruning compare objects by key.
type Key struct {
	Kind, Namespace, Name string
}

// KeyOf returns the key of an object that carries its TypeMeta, as every
// rendered object does.
func KeyOf(o client.Object) Key {
	return Key{Kind: o.GetObjectKind().GroupVersionKind().Kind, Namespace: o.GetNamespace(), Name: o.GetName()}
}

// String is "Kind/name".
func (k Key) String() string { return k.Kind + "/" + k.Name }
