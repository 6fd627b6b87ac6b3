package lifecycle_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/lifecycle"
	"github.com/oskproject/osk/internal/render"
)

func meta(svc, name string, ann map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{render.LabelService: svc}, Annotations: ann}
}

func deployment(svc, name string) *appsv1.Deployment {
	d := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{Kind: "Deployment"}, ObjectMeta: meta(svc, name, nil)}
	d.Spec.Replicas = ptr(int32(1))
	return d
}

func job(svc, name, after string) *batchv1.Job {
	return &batchv1.Job{TypeMeta: metav1.TypeMeta{Kind: "Job"},
		ObjectMeta: meta(svc, name, map[string]string{render.AnnotationAfter: after, render.AnnotationInputsHash: "h"})}
}

func service(svc, name string) *corev1.Service {
	return &corev1.Service{TypeMeta: metav1.TypeMeta{Kind: "Service"}, ObjectMeta: meta(svc, name, nil)}
}

func ptr[T any](v T) *T { return &v }

// readyDeployment is a live Deployment that rolled out.
func readyDeployment(d *appsv1.Deployment) *appsv1.Deployment {
	l := d.DeepCopy()
	l.Generation = 2
	l.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
	return l
}

func finished(j *batchv1.Job, kind batchv1.JobConditionType) *batchv1.Job {
	l := j.DeepCopy()
	l.Status.Conditions = []batchv1.JobCondition{{Type: kind, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded"}}
	return l
}

func names(objs []client.Object) string {
	var out []string
	for _, o := range objs {
		out = append(out, render.KeyOf(o).String())
	}
	return strings.Join(out, " ")
}

// TestDecide walks a two-step deployment (identity needs database)
// through its passes.
func TestDecide(t *testing.T) {
	dbSvc, db := service("database", "mariadb"), deployment("database", "mariadb")
	ksSvc, ksInit, ksSync, ks := service("identity", "keystone"), job("identity", "keystone-db-init", ""),
		job("identity", "keystone-db-sync", "keystone-db-init"), deployment("identity", "keystone-api")
	in := lifecycle.Input{
		Objects: []client.Object{dbSvc, db, ksSvc, ksInit, ksSync, ks},
		Needs:   map[string][]string{"database": nil, "identity": {"database"}},
		Live:    map[render.Key]client.Object{},
	}
	live := func(objs ...client.Object) {
		for _, o := range objs {
			in.Live[render.KeyOf(o)] = o
		}
	}
	passes := []struct {
		name, apply string
		state       v1.DeploymentState
		identity    v1.ServiceState
		before      func()
	}{
		{"nothing exists: the database first", "Service/mariadb Deployment/mariadb", v1.StateApplying, v1.ServiceWaiting, func() {}},
		{"database ready: identity's base and first job", "Service/mariadb Deployment/mariadb Service/keystone Job/keystone-db-init",
			v1.StateApplying, v1.ServiceApplying, func() { live(readyDeployment(db)) }},
		{"first job done: the second", "Service/mariadb Deployment/mariadb Service/keystone Job/keystone-db-sync",
			v1.StateApplying, v1.ServiceApplying, func() { live(finished(ksInit, batchv1.JobComplete)) }},
		{"jobs done: the workload", "Service/mariadb Deployment/mariadb Service/keystone Deployment/keystone-api",
			v1.StateApplying, v1.ServiceApplying, func() { live(finished(ksSync, batchv1.JobComplete)) }},
		{"all ready", "Service/mariadb Deployment/mariadb Service/keystone Deployment/keystone-api",
			v1.StateApplied, v1.ServiceReady, func() { live(readyDeployment(ks)) }},
		{"a job failed: the step fails, the job is not applied again", "Service/mariadb Deployment/mariadb Service/keystone",
			v1.StateFailed, v1.ServiceFailed, func() { live(finished(ksSync, batchv1.JobFailed)) }},
	}
	for _, p := range passes {
		p.before()
		plan := lifecycle.Decide(in)
		if got := names(plan.Apply); got != p.apply {
			t.Errorf("%s: applies %q, want %q", p.name, got, p.apply)
		}
		if plan.State() != p.state || plan.Services["identity"].State != p.identity {
			t.Errorf("%s: state %s, identity %+v; want %s, %s", p.name, plan.State(), plan.Services["identity"], p.state, p.identity)
		}
	}
}

// TestObserveRollout checks that a workload is ready only once the live
// object is the desired one and has rolled out.
func TestObserveRollout(t *testing.T) {
	d := deployment("identity", "keystone-api")
	d.Spec.Template.Annotations = map[string]string{render.AnnotationConfigHash: "new"}
	old := readyDeployment(d)
	old.Spec.Template.Annotations = map[string]string{render.AnnotationConfigHash: "old"}
	stale := readyDeployment(d)
	stale.Status.ObservedGeneration = 1
	for _, tc := range []struct {
		name  string
		live  client.Object
		ready bool
	}{
		{"absent", nil, false},
		{"old configuration", old, false},
		{"generation not observed", stale, false},
		{"rolled out", readyDeployment(d), true},
	} {
		if got := lifecycle.Observe(d, tc.live, nil).Ready; got != tc.ready {
			t.Errorf("%s: ready %v, want %v", tc.name, got, tc.ready)
		}
	}
}

// TestDeploymentWideObjectsComeFirst checks that an object of no service
// (the NetworkPolicy that isolates the deployment's pods) is applied on
// the first pass, before any step, although no step lists it.
func TestDeploymentWideObjectsComeFirst(t *testing.T) {
	deny := service("", "deny-ingress")
	in := lifecycle.Input{
		Objects: []client.Object{service("database", "mariadb"), deny},
		Needs:   map[string][]string{"database": nil},
		Live:    map[render.Key]client.Object{},
	}
	if got := names(lifecycle.Decide(in).Apply); got != "Service/deny-ingress Service/mariadb" {
		t.Errorf("first pass applies %q, want the deployment-wide object first", got)
	}
}

// TestDecideHeld checks that a held step applies nothing, says what it
// waits for, and does not hold the steps that do not need it.
func TestDecideHeld(t *testing.T) {
	dbSvc, db := service("database", "mariadb"), deployment("database", "mariadb")
	glSvc, gl := service("image", "glance"), deployment("image", "glance-api")
	in := lifecycle.Input{
		Objects: []client.Object{dbSvc, db, glSvc, gl},
		Needs:   map[string][]string{"database": nil, "image": nil},
		Live:    map[render.Key]client.Object{},
		Held:    map[string]string{"image": "Secret openstack-ceph-keys (lacks fsid)"},
	}
	p := lifecycle.Decide(in)
	if got, want := names(p.Apply), "Service/mariadb Deployment/mariadb"; got != want {
		t.Errorf("applies %s, want %s", got, want)
	}
	st := p.Services["image"]
	if st.State != v1.ServiceWaiting || st.Message != "waiting for Secret openstack-ceph-keys (lacks fsid)" {
		t.Errorf("image: %s %q", st.State, st.Message)
	}
	in.Held = nil
	if got := names(lifecycle.Decide(in).Apply); !strings.Contains(got, "Deployment/glance-api") {
		t.Errorf("released, applies %s", got)
	}
}
