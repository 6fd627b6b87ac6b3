package apply_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/oskproject/osk/internal/apply"
)

func deployment(mut func(*appsv1.Deployment)) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	d.Name, d.Namespace = "api", "ns"
	d.Annotations = map[string]string{apply.AnnotationAppliedHash: "h1"}
	d.Spec.Replicas = ptr(int32(2))
	d.Spec.Template.Spec.Containers = []corev1.Container{{
		Name: "api", Image: "img:1",
		Resources:      corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}}},
		Env:            []corev1.EnvVar{{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
	}}
	if mut != nil {
		mut(d)
	}
	return d
}

func ptr[T any](v T) *T { return &v }

// TestUpToDate checks that the API server's defaults are no difference
// but a change to a field osk sets is.
func TestUpToDate(t *testing.T) {
	defaulted := func(d *appsv1.Deployment) {
		d.ResourceVersion, d.Generation = "42", 3
		c := &d.Spec.Template.Spec.Containers[0]
		c.ImagePullPolicy, c.TerminationMessagePath = corev1.PullIfNotPresent, "/dev/termination-log"
		c.ReadinessProbe.SuccessThreshold, c.ReadinessProbe.PeriodSeconds = 1, 10
		c.Env[0].ValueFrom.FieldRef.APIVersion = "v1"
		d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
		d.Spec.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
		d.Status.ReadyReplicas = 2
		d.Labels = map[string]string{"added-by": "someone"}
	}
	tests := []struct {
		name string
		live *appsv1.Deployment
		want bool
	}{
		{"as applied", deployment(nil), true},
		{"status filled in", deployment(func(d *appsv1.Deployment) { d.Status.Replicas, d.Status.ObservedGeneration = 2, 1 }), true},
		{"defaulted by the API server", deployment(defaulted), true},
		{"scaled by hand", deployment(func(d *appsv1.Deployment) { defaulted(d); d.Spec.Replicas = ptr(int32(5)) }), false},
		{"image changed", deployment(func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "img:2" }), false},
		{"env removed", deployment(func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Env = nil }), false},
		{"applied by another osk", deployment(func(d *appsv1.Deployment) { d.Annotations[apply.AnnotationAppliedHash] = "h0" }), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := apply.UpToDate(deployment(nil), tc.live); got != tc.want {
				t.Errorf("UpToDate = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestUpToDateKeepsUnstructured checks that comparing an unstructured
// desired object leaves it whole: it converts to its own map.
func TestUpToDateKeepsUnstructured(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "ceph.rook.io/v1", "kind": "CephClient",
		"metadata": map[string]any{"name": "glance"}}}
	apply.UpToDate(u, u.DeepCopy())
	if u.GetKind() != "CephClient" || u.GetAPIVersion() != "ceph.rook.io/v1" {
		t.Errorf("UpToDate changed the desired object: %v", u.Object)
	}
}
