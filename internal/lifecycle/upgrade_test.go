package lifecycle_test

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/lifecycle"
	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/render"
)

// upgradeFixture renders examples/minimal.yaml at caracal and at epoxy
// (with the upgrade Jobs), with every caracal object live and ready.
type upgradeFixture struct {
	in   lifecycle.UpgradeInput
	from map[render.Key]client.Object
	to   map[render.Key]client.Object
}

func newUpgradeFixture(t *testing.T) *upgradeFixture {
	t.Helper()
	d, err := manifest.Load("../../examples/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	from, err := render.Render(d, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d.Spec.OpenStackVersion = "epoxy"
	to, err := render.Render(d, render.Options{UpgradeSteps: true})
	if err != nil {
		t.Fatal(err)
	}
	f := &upgradeFixture{
		in: lifecycle.UpgradeInput{From: from, To: to, Live: map[render.Key]client.Object{},
			Sequence: catalog.Default().UpgradeSequence(), Infrastructure: catalog.Default().Infrastructure()},
		from: index(from.Objects), to: index(to.Objects),
	}
	f.live(from.Objects...)
	return f
}

func index(objs []client.Object) map[render.Key]client.Object {
	out := map[render.Key]client.Object{}
	for _, o := range objs {
		out[render.KeyOf(o)] = o
	}
	return out
}

// live makes objs the cluster's, each ready.
func (f *upgradeFixture) live(objs ...client.Object) {
	for _, o := range objs {
		f.in.Live[render.KeyOf(o)] = ready(o)
	}
}

// ready is a live copy of o that has done what it is for.
func ready(o client.Object) client.Object {
	switch o := o.(type) {
	case *appsv1.Deployment:
		return readyDeployment(o)
	case *appsv1.StatefulSet:
		l := o.DeepCopy()
		n := *l.Spec.Replicas
		l.Status = appsv1.StatefulSetStatus{Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, CurrentRevision: "r", UpdateRevision: "r"}
		return l
	case *appsv1.DaemonSet:
		l := o.DeepCopy()
		l.Status = appsv1.DaemonSetStatus{DesiredNumberScheduled: 2, UpdatedNumberScheduled: 2, NumberAvailable: 2}
		return l
	case *batchv1.Job:
		return finished(o, batchv1.JobComplete)
	}
	return o
}

// service returns the objects of a service in a render, filtered.
func ofService(objs map[render.Key]client.Object, svc string, keep func(client.Object) bool) []client.Object {
	var out []client.Object
	for _, o := range objs {
		if o.GetLabels()[render.LabelService] == svc && keep(o) {
			out = append(out, o)
		}
	}
	return out
}

func upgradeJob(step string) func(client.Object) bool {
	return func(o client.Object) bool { return o.GetAnnotations()[render.AnnotationUpgradeStep] == step }
}

func workload(o client.Object) bool {
	switch o.(type) {
	case *appsv1.Deployment, *appsv1.StatefulSet, *appsv1.DaemonSet:
		return true
	}
	return false
}

// image returns the image of the first container of a planned workload
// or Job of the given name.
func image(t *testing.T, objs []client.Object, name string) string {
	t.Helper()
	for _, o := range objs {
		if o.GetName() != name {
			continue
		}
		if tpl := render.PodTemplate(o); tpl != nil {
			return tpl.Spec.Containers[0].Image
		}
		if j, ok := o.(*batchv1.Job); ok {
			return j.Spec.Template.Spec.Containers[0].Image
		}
	}
	t.Fatalf("%s is not planned", name)
	return ""
}

// TestPlanUpgradeWalksTheSequence drives minimal.yaml from caracal to
// epoxy through its steps, one service at a time.
func TestPlanUpgradeWalksTheSequence(t *testing.T) {
	f := newUpgradeFixture(t)
	expect := func(what, service, step string, completed ...string) *lifecycle.Upgrade {
		t.Helper()
		u := lifecycle.PlanUpgrade(f.in)
		if u.Service != service || u.Step != step || !slices.Equal(u.Completed, completed) {
			t.Fatalf("%s: at %q step %q, completed %v; want %q, %q, %v", what, u.Service, u.Step, u.Completed, service, step, completed)
		}
		return u
	}

	u := expect("start", "identity", "expand")
	if got := image(t, u.Objects, "keystone-upgrade-expand"); !strings.Contains(got, "2025.1") {
		t.Errorf("keystone's expand runs %s, want the epoxy image", got)
	}
	if got := image(t, u.Objects, "nova-api"); !strings.Contains(got, "2024.1") {
		t.Errorf("nova-api is planned with %s while identity upgrades, want caracal's", got)
	}
	if got := image(t, u.Objects, "mariadb-server"); got != "docker.io/library/mariadb:10.11" {
		t.Errorf("mariadb-server planned with %s", got)
	}
	for _, o := range u.Objects {
		if j, ok := o.(*batchv1.Job); ok && o.GetLabels()[render.LabelService] == "identity" && o.GetAnnotations()[render.AnnotationUpgradeStep] == "" {
			t.Errorf("identity's %s is planned during its upgrade; only the upgrade Jobs run", j.Name)
		}
	}
	check := lifecycle.Decide(lifecycle.Input{Objects: u.Objects, Needs: u.Needs, Live: f.in.Live})
	if got := names(check.Apply); !strings.Contains(got, "Job/keystone-upgrade-expand") || strings.Contains(got, "keystone-upgrade-migrate") {
		t.Errorf("the first pass applies %s; want expand and not migrate yet", got)
	}

	f.live(ofService(f.to, "identity", upgradeJob("expand"))...)
	expect("expand done", "identity", "migrate")
	f.live(ofService(f.to, "identity", upgradeJob("migrate"))...)
	expect("migrate done", "identity", lifecycle.StepRoll)
	f.live(ofService(f.to, "identity", workload)...)
	expect("rolled", "identity", "contract")
	f.live(ofService(f.to, "identity", upgradeJob("contract"))...)
	u = expect("identity done", "placement", "db-sync", "identity")
	if got := image(t, u.Objects, "keystone-api"); !strings.Contains(got, "2025.1") {
		t.Errorf("keystone-api planned with %s once upgraded", got)
	}

	// Walk the rest: each service's jobs and workloads succeed in turn.
	var done []string
	for u.Service != "" {
		done = append(done, u.Service)
		f.live(ofService(f.to, u.Service, func(o client.Object) bool { return true })...)
		u = lifecycle.PlanUpgrade(f.in)
	}
	want := []string{"placement", "image", "networking", "compute", "block-storage", "dashboard"}
	if !slices.Equal(done, want) {
		t.Errorf("upgraded %v after identity, want %v", done, want)
	}
	fresh := slices.DeleteFunc(slices.Clone(f.in.To.Objects), lifecycle.IsUpgradeJob)
	if u.Step != lifecycle.StepReapply || names(u.Objects) != names(fresh) {
		t.Errorf("after the last service: step %q with %d objects; want %q with the new release as a fresh deployment has it (%d)",
			u.Step, len(u.Objects), lifecycle.StepReapply, len(fresh))
	}
}

// TestPlanUpgradeWaitsUntilHealthy does not start a service whose old
// release is not healthy, and keeps its old objects meanwhile.
func TestPlanUpgradeWaitsUntilHealthy(t *testing.T) {
	f := newUpgradeFixture(t)
	api := f.in.Live[render.Key{Kind: "Deployment", Namespace: "openstack", Name: "keystone-api"}].(*appsv1.Deployment)
	api.Status.ReadyReplicas = 0
	u := lifecycle.PlanUpgrade(f.in)
	if u.Service != "identity" || u.Step != lifecycle.StepHealthy {
		t.Fatalf("at %q step %q, want identity waiting until healthy", u.Service, u.Step)
	}
	if got := image(t, u.Objects, "keystone-api"); !strings.Contains(got, "2024.1") {
		t.Errorf("keystone-api planned with %s before its upgrade started", got)
	}
	for _, o := range u.Objects {
		if o.GetAnnotations()[render.AnnotationUpgradeStep] != "" {
			t.Errorf("%s planned before identity is healthy", o.GetName())
		}
	}
}

// TestPlanUpgradeNeverGoesBack keeps a service whose upgrade started at the
// new release when an earlier one needs attention again.
func TestPlanUpgradeNeverGoesBack(t *testing.T) {
	f := newUpgradeFixture(t)
	for _, svc := range []string{"identity", "placement"} {
		f.live(ofService(f.to, svc, func(client.Object) bool { return true })...)
	}
	if u := lifecycle.PlanUpgrade(f.in); u.Service != "image" {
		t.Fatalf("at %q, want image", u.Service)
	}
	// keystone-api loses a pod: identity is current again, placement stays.
	f.in.Live[render.Key{Kind: "Deployment", Namespace: "openstack", Name: "keystone-api"}].(*appsv1.Deployment).Status.ReadyReplicas = 0
	u := lifecycle.PlanUpgrade(f.in)
	if u.Service != "identity" || u.Step != lifecycle.StepRoll {
		t.Fatalf("at %q step %q, want identity rolling", u.Service, u.Step)
	}
	if got := image(t, u.Objects, "placement-api"); !strings.Contains(got, "2025.1") {
		t.Errorf("placement-api planned with %s: an upgraded service went back", got)
	}
	if got := image(t, u.Objects, "glance-api"); !strings.Contains(got, "2024.1") {
		t.Errorf("glance-api planned with %s before its turn", got)
	}
}

// TestPlanUpgradeStopsAtAFailedJob reports the failed step, and Decide
// fails the service while later ones keep the old release.
func TestPlanUpgradeStopsAtAFailedJob(t *testing.T) {
	f := newUpgradeFixture(t)
	f.live(ofService(f.to, "identity", func(client.Object) bool { return true })...)
	for _, o := range ofService(f.to, "placement", upgradeJob("db-sync")) {
		f.in.Live[render.KeyOf(o)] = finished(o.(*batchv1.Job), batchv1.JobFailed)
	}
	u := lifecycle.PlanUpgrade(f.in)
	if u.Service != "placement" || u.Step != "db-sync" {
		t.Fatalf("at %q step %q, want placement db-sync", u.Service, u.Step)
	}
	plan := lifecycle.Decide(lifecycle.Input{Objects: u.Objects, Needs: u.Needs, Live: f.in.Live})
	if st := plan.Services["placement"]; st.State != v1.ServiceFailed || !strings.Contains(st.Message, "placement-upgrade-db-sync") {
		t.Errorf("placement: %+v; want failed naming its Job", st)
	}
	if got := image(t, u.Objects, "nova-api"); !strings.Contains(got, "2024.1") {
		t.Errorf("nova-api planned with %s after placement failed", got)
	}
}

// TestPlanUpgradeKeepsRollingAServiceWithoutJobs: the dashboard has no
// upgrade Jobs; once its roll began, it is not sent back to the old
// release while the new pods come up.
func TestPlanUpgradeKeepsRollingAServiceWithoutJobs(t *testing.T) {
	f := newUpgradeFixture(t)
	for _, svc := range []string{"identity", "placement", "image", "networking", "compute", "block-storage"} {
		f.live(ofService(f.to, svc, func(client.Object) bool { return true })...)
	}
	u := lifecycle.PlanUpgrade(f.in)
	if u.Service != "dashboard" || u.Step != lifecycle.StepRoll {
		t.Fatalf("at %q step %q, want dashboard rolling", u.Service, u.Step)
	}
	for _, o := range ofService(f.to, "dashboard", workload) {
		rolling := ready(o).(*appsv1.Deployment)
		rolling.Status.UpdatedReplicas = 0
		f.in.Live[render.KeyOf(o)] = rolling
	}
	u = lifecycle.PlanUpgrade(f.in)
	if u.Service != "dashboard" || u.Step != lifecycle.StepRoll {
		t.Fatalf("mid-roll: at %q step %q, want dashboard rolling", u.Service, u.Step)
	}
	if got := image(t, u.Objects, "horizon-server"); !strings.Contains(got, "2025.1") {
		t.Errorf("horizon-server planned with %s mid-roll: sent back to the old release", got)
	}
}

// TestPlanUpgradeRestartsCinderAfterItsLastStep: block-storage rolls onto
// marked copies, runs its last steps, then rolls once more onto the new
// release's own templates, and only then is done.
func TestPlanUpgradeRestartsCinderAfterItsLastStep(t *testing.T) {
	f := newUpgradeFixture(t)
	for _, svc := range []string{"identity", "placement", "image", "networking", "compute"} {
		f.live(ofService(f.to, svc, func(client.Object) bool { return true })...)
	}
	hash := func(objs []client.Object, name string) string {
		for _, o := range objs {
			if o.GetName() == name && workload(o) {
				return render.PodTemplate(o).Annotations[render.AnnotationConfigHash]
			}
		}
		t.Fatalf("%s is not planned", name)
		return ""
	}
	plain := hash(f.in.To.Objects, "cinder-api")
	u := lifecycle.PlanUpgrade(f.in)
	marked := ofService(index(u.Objects), "block-storage", workload)
	if u.Service != "block-storage" || u.Step != "db-sync" || len(marked) == 0 {
		t.Fatalf("at %q step %q with %d workloads; want block-storage db-sync with marked workloads", u.Service, u.Step, len(marked))
	}
	first := hash(u.Objects, "cinder-api")
	if first == plain {
		t.Fatal("the first roll uses the new release's own template; the restart would roll nothing")
	}
	f.live(ofService(f.to, "block-storage", upgradeJob("db-sync"))...)
	f.live(marked...)
	if u = lifecycle.PlanUpgrade(f.in); u.Step != "remove-old-services" {
		t.Fatalf("after the first roll: step %q", u.Step)
	}
	f.live(ofService(f.to, "block-storage", upgradeJob("remove-old-services"))...)
	f.live(ofService(f.to, "block-storage", upgradeJob("online-data-migrations"))...)
	u = lifecycle.PlanUpgrade(f.in)
	if u.Service != "block-storage" || u.Step != lifecycle.StepRestart || hash(u.Objects, "cinder-api") != plain {
		t.Fatalf("after the last step: at %q step %q; want block-storage restarting onto the new release's template", u.Service, u.Step)
	}
	f.live(ofService(f.to, "block-storage", workload)...)
	if u = lifecycle.PlanUpgrade(f.in); u.Service != "dashboard" {
		t.Errorf("after the restart: at %q, want dashboard", u.Service)
	}
}

// TestPlanUpgradeMovesInfrastructureWithItsFirstService: libvirt, whose
// image follows the release, moves with compute, not before identity;
// the database moves at once (identity needs it).
func TestPlanUpgradeMovesInfrastructureWithItsFirstService(t *testing.T) {
	f := newUpgradeFixture(t)
	u := lifecycle.PlanUpgrade(f.in)
	if got := image(t, u.Objects, "libvirt-libvirtd"); !strings.Contains(got, "2024.1") {
		t.Errorf("libvirt planned with %s while identity upgrades; want caracal's until compute's turn", got)
	}
	for _, svc := range []string{"identity", "placement", "image", "networking"} {
		f.live(ofService(f.to, svc, func(client.Object) bool { return true })...)
	}
	u = lifecycle.PlanUpgrade(f.in)
	if u.Service != "compute" {
		t.Fatalf("at %q, want compute", u.Service)
	}
	if got := image(t, u.Objects, "libvirt-libvirtd"); !strings.Contains(got, "2025.1") {
		t.Errorf("libvirt planned with %s on compute's turn; want epoxy's", got)
	}
}
