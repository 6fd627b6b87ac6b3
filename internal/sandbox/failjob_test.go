package sandbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/oskproject/osk/internal/sandbox"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// TestFailJobPodsStageFailsOnlyMatchingJobs runs three Jobs, of which
// only the one with both the stage's labels and image fails; the one with
// another image and the one without the labels complete.
func TestFailJobPodsStageFailsOnlyMatchingJobs(t *testing.T) {
	const broken = "registry.invalid/osk/keystone:broken"
	migration := map[string]string{"application": "keystone", "component": "db-sync"}
	sb := start(t, sandbox.Options{
		Topology: sandbox.Topology{ControlPlane: 1},
		Stages:   [][]byte{sandbox.FailJobPodsStage("fail-keystone-db-sync", migration, broken)},
	})
	cs, err := kubernetes.NewForConfig(sb.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	jobs := []struct {
		name   string
		labels map[string]string
		image  string
		want   batchv1.JobConditionType
	}{
		{"broken", migration, broken, batchv1.JobFailed},
		{"fixed", migration, "registry.invalid/osk/keystone:fixed", batchv1.JobComplete},
		{"other", map[string]string{"application": "glance", "component": "db-sync"}, broken, batchv1.JobComplete},
	}
	for _, j := range jobs {
		if _, err := cs.BatchV1().Jobs(metav1.NamespaceDefault).Create(t.Context(), job(j.name, j.labels, j.image), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, j := range jobs {
		var ended batchv1.JobConditionType
		sandboxtest.Eventually(t, time.Minute, "job "+j.name+" to end", func(ctx context.Context) error {
			got, err := cs.BatchV1().Jobs(metav1.NamespaceDefault).Get(ctx, j.name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			for _, c := range got.Status.Conditions {
				if c.Status == corev1.ConditionTrue && (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) {
					ended = c.Type
					return nil
				}
			}
			return fmt.Errorf("%d active, %d succeeded, %d failed", got.Status.Active, got.Status.Succeeded, got.Status.Failed)
		})
		if ended != j.want {
			t.Errorf("job %s (labels %v, image %s): ended %s, want %s", j.name, j.labels, j.image, ended, j.want)
		}
	}
	pods, err := cs.CoreV1().Pods(metav1.NamespaceDefault).List(t.Context(), metav1.ListOptions{LabelSelector: "job-name=broken"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 1 {
		t.Fatalf("job broken has %d pods, want 1 (backoffLimit 0)", len(pods.Items))
	}
	pod := pods.Items[0]
	if pod.Status.Phase != corev1.PodFailed || len(pod.Status.ContainerStatuses) != 1 ||
		pod.Status.ContainerStatuses[0].State.Terminated == nil || pod.Status.ContainerStatuses[0].State.Terminated.ExitCode != 1 {
		t.Errorf("pod %s: got phase %s, container statuses %+v; want Failed, its container terminated with exit code 1",
			pod.Name, pod.Status.Phase, pod.Status.ContainerStatuses)
	}
}

// job returns a Job of one pod, never retried, with labels on its pod
// and one container running image on a control-plane node.
func job(name string, labels map[string]string, image string) *batchv1.Job {
	backoffLimit := int32(0)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceDefault, Name: name},
		Spec: batchv1.JobSpec{
			BackoffLimit: &backoffLimit,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					NodeSelector:  map[string]string{"openstack-control-plane": "enabled"},
					Containers:    []corev1.Container{{Name: "main", Image: image}},
				},
			},
		},
	}
}
