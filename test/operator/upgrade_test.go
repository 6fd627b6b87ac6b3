package operator_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/lifecycle"
	"github.com/oskproject/osk/internal/release"
	"github.com/oskproject/osk/internal/render"
	"github.com/oskproject/osk/internal/sandbox"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// epoxyTag is in the tag of every epoxy image.
const epoxyTag = "2025.1"

// upgradeTimeout bounds a wait for an upgrade of the compute example.
const upgradeTimeout = 6 * time.Minute

// brokenGlance is the deployment of TestUpgradeStopsAtAFailedMigration:
// the sandbox fails its glance expand Job while it runs epoxy's default
// glance image, as if that image were broken.
const brokenGlance = "broken-glance"

// failingStages are the kwok stages of this package's sandbox.
func failingStages() [][]byte {
	epoxy, _ := release.Lookup("epoxy")
	return [][]byte{sandbox.FailJobPodsStage("fail-broken-glance-expand", map[string]string{
		render.LabelInstance: brokenGlance, render.LabelName: "glance", render.LabelComponent: "upgrade-expand",
	}, catalog.DefaultImages(epoxy)["glance"])}
}

// TestUpgradeInOrder upgrades examples/compute.yaml from caracal to epoxy
// and proves the order from the log of every Job and workload change:
// one service at a time in the catalog's order; within a service, each
// step after the one before, the roll after the steps that precede it and
// before those that follow; the re-apply of the whole release last; the
// database and message buses never restarted.
func TestUpgradeInOrder(t *testing.T) {
	c, ns, _ := setup(t)
	d := waitState(t, c, deploy(t, c, "compute", ns), v1.StateApplied, applyTimeout)
	infra := infraPods(t, c, ns)
	log := recordChanges(t, ns)
	update(t, c, d, func(d *v1.OpenStackDeployment) { d.Spec.OpenStackVersion = "epoxy" })
	since := revision(d)
	seen := watchUpgrade(t, c, d)
	d = waitUpgraded(t, c, d)

	changes := log.stop()
	checkOrder(t, changes, d.Status.Services, since)
	if got := infraPods(t, c, ns); !maps.Equal(got, infra) {
		t.Errorf("infrastructure pods changed during the upgrade:\nbefore %v\nafter  %v", infra, got)
	}
	sandboxtest.Eventually(t, 30*time.Second, "the upgrade Jobs to be removed", func(context.Context) error {
		for _, j := range listJobs(t, c, ns) {
			if j.Annotations[render.AnnotationUpgradeStep] != "" {
				return fmt.Errorf("upgrade Job %s is left", j.Name)
			}
		}
		return nil
	})
	t.Logf("status.upgrade as the test saw it: %s", strings.Join(seen(), " → "))
	if got := templates(changes, "Deployment", "cinder-api", epoxyTag); got != 2 {
		t.Errorf("cinder-api ran %d pod templates of epoxy; want 2 (the roll, and the restart after its last step)", got)
	}
}

// TestUpgradeResumesAfterRestart kills the operator, its own process, with
// SIGKILL in the middle of the upgrade and starts another: it completes
// the upgrade without running a finished step again or rolling an
// upgraded service again.
func TestUpgradeResumesAfterRestart(t *testing.T) {
	env := sandboxtest.Get(t)
	env.InstallCRDs(t)
	c, ns := env.Client(), env.Namespace(t)
	operator := startOperatorProcess(t, env)
	d := waitState(t, c, deploy(t, c, "compute", ns), v1.StateApplied, applyTimeout)
	log := recordChanges(t, ns)
	update(t, c, d, func(d *v1.OpenStackDeployment) { d.Spec.OpenStackVersion = "epoxy" })
	since := revision(d)
	got := &v1.OpenStackDeployment{}
	sandboxtest.Eventually(t, upgradeTimeout, "the upgrade to reach compute", func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
			return err
		}
		if u := got.Status.Upgrade; u == nil || u.Service != "compute" {
			return fmt.Errorf("upgrade at %+v", got.Status.Upgrade)
		}
		return nil
	})
	operator.Kill(t)
	stopRev := log.latest()
	stoppedAt := got.Status.Upgrade.DeepCopy()
	finished := map[string]types.UID{}
	for _, j := range listJobs(t, c, ns) {
		if j.Annotations[render.AnnotationUpgradeStep] != "" && j.Status.Succeeded > 0 {
			finished[j.Name] = j.UID
		}
	}
	rolled := map[string]int64{}
	for name, dep := range deployments(t, c, ns) {
		if slices.Contains(stoppedAt.Completed, dep.Labels[render.LabelService]) {
			rolled[name] = dep.Generation
		}
	}
	t.Logf("killed after revision %d: %s step %s; upgraded %v; finished upgrade Jobs %d",
		stopRev, stoppedAt.Service, stoppedAt.Step, stoppedAt.Completed, len(finished))
	if len(finished) < 5 || len(rolled) == 0 {
		t.Fatalf("stopped too early to prove anything: %d finished upgrade Jobs, %d upgraded Deployments", len(finished), len(rolled))
	}

	time.Sleep(2 * time.Second) // the cluster goes on without an operator
	startOperator(t, env)
	d = waitUpgraded(t, c, d)
	changes := log.stop()
	for _, ch := range changes {
		if _, ok := finished[ch.name]; ok && ch.kind == "Job" && ch.event == watch.Added && ch.rv > stopRev {
			t.Errorf("finished upgrade Job %s ran again after the restart (revision %d)", ch.name, ch.rv)
		}
	}
	for name, gen := range rolled {
		if now := deployments(t, c, ns)[name].Generation; now != gen {
			t.Errorf("Deployment %s of an upgraded service changed after the restart (generation %d, was %d)", name, now, gen)
		}
	}
	checkOrder(t, changes, d.Status.Services, since)
}

// templates counts the pod templates of a workload that ran a release's
// images.
func templates(log []change, kind, name, tag string) int {
	seen := map[string]bool{}
	for _, ch := range log {
		if ch.kind == kind && ch.name == name && strings.Contains(ch.image, tag) {
			seen[ch.hash] = true
		}
	}
	return len(seen)
}

// revision is an object's resource version as a number (see change).
func revision(o client.Object) int64 {
	rv, _ := strconv.ParseInt(o.GetResourceVersion(), 10, 64)
	return rv
}

// TestUpgradeStopsAtAFailedMigration upgrades with a glance image whose
// expand step fails: the upgrade stops at the image service and says
// which Job failed; later services keep caracal; a corrected image lets
// the upgrade finish.
func TestUpgradeStopsAtAFailedMigration(t *testing.T) {
	c, ns, _ := setup(t)
	d := waitState(t, c, deploy(t, c, "compute", ns, func(d *v1.OpenStackDeployment) { d.Name = brokenGlance }), v1.StateApplied, applyTimeout)
	update(t, c, d, func(d *v1.OpenStackDeployment) { d.Spec.OpenStackVersion = "epoxy" })
	d = waitState(t, c, d, v1.StateFailed, upgradeTimeout)

	cond := apimeta.FindStatusCondition(d.Status.Conditions, v1.ConditionUpgrading)
	if cond == nil || cond.Reason != "UpgradeFailed" || !strings.Contains(cond.Message, "Job glance-upgrade-expand failed") {
		t.Errorf("Upgrading condition %+v; want UpgradeFailed naming Job glance-upgrade-expand", cond)
	}
	if u := d.Status.Upgrade; u == nil || u.Service != "image" || u.Step != "expand" || !slices.Equal(u.Completed, []string{"identity", "placement"}) {
		t.Errorf("status.upgrade %+v; want stopped at image, expand, after identity and placement", u)
	}
	live := deployments(t, c, ns)
	for name, tag := range map[string]string{
		"keystone-api": "2025.1", "placement-api": "2025.1",
		"glance-api": "2024.1", "neutron-server": "2024.1", "nova-api": "2024.1", "cinder-api": "2024.1", "heat-api": "2024.1",
	} {
		if img := live[name].Spec.Template.Spec.Containers[0].Image; !strings.Contains(img, tag) {
			t.Errorf("%s runs %s; want the %s image", name, img, tag)
		}
	}
	for _, j := range listJobs(t, c, ns) {
		if svc := j.Labels[render.LabelService]; j.Annotations[render.AnnotationUpgradeStep] != "" && svc != "identity" && svc != "placement" && svc != "image" {
			t.Errorf("%s's upgrade Job %s exists; later services must be untouched", svc, j.Name)
		}
	}

	const fixed = "registry.example.com/openstack/glance:2025.1-fixed"
	update(t, c, d, func(d *v1.OpenStackDeployment) { d.Spec.Images.Overrides = map[string]string{"glance": fixed} })
	waitUpgraded(t, c, d)
	if img := deployments(t, c, ns)["glance-api"].Spec.Template.Spec.Containers[0].Image; img != fixed {
		t.Errorf("glance-api runs %s after the fix, want %s", img, fixed)
	}
}

// startOperatorProcess runs osk operator, built from this tree, as its own
// process on the sandbox.
func startOperatorProcess(t *testing.T, env *sandboxtest.Env) *proctest.Process {
	t.Helper()
	probe := proctest.FreeAddr(t)
	p := proctest.Start(t, t.TempDir(), "osk-operator", exec.Command(proctest.BuildOsk(t), "operator",
		"--kubeconfig", env.Sandbox.Kubeconfig(), "--metrics-bind-address", "0", "--health-probe-bind-address", probe))
	p.WaitUntil(t, time.Minute, func() error {
		resp, err := http.Get("http://" + probe + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz: %s", resp.Status)
		}
		return nil
	})
	return p
}

// waitUpgraded waits until the deployment runs epoxy, APPLIED.
func waitUpgraded(t *testing.T, c client.Client, d *v1.OpenStackDeployment) *v1.OpenStackDeployment {
	t.Helper()
	got := waitState(t, c, d, v1.StateApplied, upgradeTimeout)
	cond := apimeta.FindStatusCondition(got.Status.Conditions, v1.ConditionUpgrading)
	if got.Status.DeployedVersion != "epoxy" || got.Status.Upgrade != nil || cond == nil || cond.Reason != "Completed" {
		t.Fatalf("APPLIED with deployedVersion %q, upgrade %+v, Upgrading condition %+v", got.Status.DeployedVersion, got.Status.Upgrade, cond)
	}
	return got
}

// watchUpgrade samples status.upgrade until the upgrade ends, for the
// test's log; it returns what it saw.
func watchUpgrade(t *testing.T, c client.Client, d *v1.OpenStackDeployment) func() []string {
	var mu sync.Mutex
	var seen []string
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			got := &v1.OpenStackDeployment{}
			if c.Get(ctx, client.ObjectKeyFromObject(d), got) == nil && got.Status.Upgrade != nil {
				s := got.Status.Upgrade.Service + "/" + got.Status.Upgrade.Step
				mu.Lock()
				if len(seen) == 0 || seen[len(seen)-1] != s {
					seen = append(seen, s)
				}
				mu.Unlock()
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return func() []string {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

// infraPods returns the UIDs of the database's and the message buses'
// pods, by name.
func infraPods(t *testing.T, c client.Client, ns string) map[string]types.UID {
	t.Helper()
	out := map[string]types.UID{}
	for _, svc := range []string{"database", "messaging"} {
		pods := &corev1.PodList{}
		if err := c.List(t.Context(), pods, client.InNamespace(ns), client.MatchingLabels{render.LabelService: svc}); err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			out[p.Name] = p.UID
		}
	}
	if len(out) == 0 {
		t.Fatal("no database or messaging pods")
	}
	return out
}

// change is one observed change of a Job or workload. The sandbox has one
// etcd, so resource versions are its revisions: a total order of every
// write, whatever the kind.
type change struct {
	rv      int64
	at      time.Time // when the test received it
	event   watch.EventType
	kind    string
	name    string
	uid     types.UID
	service string
	// step is a Job's upgrade step; empty for other Jobs and workloads.
	step string
	// after and afterWorkloads are a Job's annotations.
	after          string
	afterWorkloads bool
	// done: a Job completed, or a workload runs its desired pods.
	done bool
	// image is the main container's.
	image string
	// hash is a Job's inputs hash, a workload's pod template config hash.
	hash string
}

// changeLog records the changes of a namespace's Jobs and workloads.
type changeLog struct {
	scheme  *runtime.Scheme
	mu      sync.Mutex
	changes []change
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// recordChanges starts watching ns's Jobs, Deployments, StatefulSets and
// DaemonSets. A watch the API server ends (it restarted, say) is started
// again from the last revision it delivered, so nothing is missed.
func recordChanges(t *testing.T, ns string) *changeLog {
	t.Helper()
	l := &changeLog{scheme: sandboxtest.Scheme()}
	wc, err := client.NewWithWatch(sandboxtest.Get(t).Config(), client.Options{Scheme: l.scheme})
	if err != nil {
		t.Fatal(err)
	}
	var ctx context.Context
	ctx, l.cancel = context.WithCancel(context.Background())
	for _, list := range []client.ObjectList{&batchv1.JobList{}, &appsv1.DeploymentList{}, &appsv1.StatefulSetList{}, &appsv1.DaemonSetList{}} {
		// The list's revision is where a watch ended before its first
		// event starts again.
		if err := wc.List(ctx, list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		w, err := wc.Watch(ctx, list, client.InNamespace(ns))
		if err != nil {
			t.Fatal(err)
		}
		l.wg.Go(func() { l.follow(ctx, wc, list, ns, w, list.GetResourceVersion()) })
	}
	t.Cleanup(func() { l.stop() })
	return l
}

// follow records w's events until ctx ends, watching again from the last
// revision seen whenever the watch ends or fails.
func (l *changeLog) follow(ctx context.Context, wc client.WithWatch, list client.ObjectList, ns string, w watch.Interface, last string) {
	for {
		for ev := range w.ResultChan() {
			if o, ok := ev.Object.(client.Object); ok && ev.Type != watch.Error && ev.Type != watch.Bookmark {
				l.add(ev.Type, o)
				last = o.GetResourceVersion()
			}
		}
		w.Stop()
		for {
			if ctx.Err() != nil {
				return
			}
			var err error
			w, err = wc.Watch(ctx, list, client.InNamespace(ns), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: last}})
			if err == nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func (l *changeLog) add(ev watch.EventType, o client.Object) {
	ch := change{rv: revision(o), at: time.Now(), event: ev, name: o.GetName(), uid: o.GetUID(), service: o.GetLabels()[render.LabelService]}
	switch o := o.(type) {
	case *batchv1.Job:
		ch.kind, ch.step, ch.after = "Job", o.Annotations[render.AnnotationUpgradeStep], o.Annotations[render.AnnotationAfter]
		ch.afterWorkloads = o.Annotations[render.AnnotationAfterWorkloads] == "true"
		ch.image, ch.hash = o.Spec.Template.Spec.Containers[0].Image, o.Annotations[render.AnnotationInputsHash]
		for _, c := range o.Status.Conditions {
			ch.done = ch.done || (c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue)
		}
	default:
		gvk, _ := apiutil.GVKForObject(o, l.scheme)
		ch.kind = gvk.Kind
		tpl := render.PodTemplate(o)
		ch.image, ch.hash = tpl.Spec.Containers[0].Image, tpl.Annotations[render.AnnotationConfigHash]
		ch.done = lifecycle.Observe(o, o, nil).Ready
	}
	l.mu.Lock()
	l.changes = append(l.changes, ch)
	l.mu.Unlock()
}

// latest is the highest revision seen so far.
func (l *changeLog) latest() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var rv int64
	for _, ch := range l.changes {
		rv = max(rv, ch.rv)
	}
	return rv
}

// stop ends the watches and returns the changes in revision order.
func (l *changeLog) stop() []change {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.changes)
	slices.SortStableFunc(out, func(a, b change) int { return int(a.rv - b.rv) })
	return out
}

// span is when a service's upgrade began and ended, in revisions.
type span struct{ start, end int64 }

// serviceSpans finds, in the log, each service's upgrade: its upgrade
// Jobs' creation and completion, its workloads' switch to the new image
// and their readiness on it. It checks the order within each service.
func serviceSpans(t *testing.T, log []change, newTag string) map[string]*span {
	t.Helper()
	type job struct {
		created, completed    int64
		after, service        string
		afterWorkloads, isNew bool
	}
	jobs := map[string]*job{}
	type roll struct {
		service        string
		started, ready int64
		done           bool
	}
	rolls := map[string]*roll{} // by kind/name
	spans := map[string]*span{}
	extend := func(svc string, rv int64) {
		s := spans[svc]
		if s == nil {
			s = &span{start: rv, end: rv}
			spans[svc] = s
		}
		s.start, s.end = min(s.start, rv), max(s.end, rv)
	}
	for _, ch := range log {
		switch {
		case ch.kind == "Job" && ch.step != "":
			j := jobs[ch.name]
			if j == nil {
				j = &job{created: ch.rv, after: ch.after, service: ch.service, afterWorkloads: ch.afterWorkloads}
				jobs[ch.name] = j
				extend(ch.service, ch.rv)
			}
			if ch.done && j.completed == 0 {
				j.completed = ch.rv
				extend(ch.service, ch.rv)
			}
		case ch.kind != "Job" && strings.Contains(ch.image, newTag):
			key := ch.kind + "/" + ch.name
			r := rolls[key]
			if r == nil {
				r = &roll{service: ch.service, started: ch.rv}
				rolls[key] = r
				extend(ch.service, ch.rv)
			}
			if ch.done && r.ready == 0 {
				r.ready = ch.rv
			}
			if ch.done && !r.done { // ready again after a restart, too
				extend(ch.service, ch.rv)
			}
			r.done = ch.done
		}
	}
	for name, j := range jobs {
		if j.completed == 0 {
			t.Errorf("upgrade Job %s never completed", name)
			continue
		}
		if p := jobs[j.after]; j.after != "" && (p == nil || p.completed > j.created) {
			t.Errorf("upgrade Job %s was created before %s completed", name, j.after)
		}
		for key, r := range rolls {
			if r.service == j.service {
				if !j.afterWorkloads && r.started < j.completed {
					t.Errorf("%s rolled before upgrade Job %s completed", key, name)
				}
				if j.afterWorkloads && (r.ready == 0 || r.ready > j.created) {
					t.Errorf("upgrade Job %s was created before %s ran the new release", name, key)
				}
			}
		}
	}
	return spans
}

// checkOrder checks that the services were upgraded one after another in
// the catalog's order, each fully before the next began, and that the
// services' other Jobs ran again only after the last one. Changes up to
// revision since (the spec change) are the watches' initial state.
func checkOrder(t *testing.T, log []change, services map[string]v1.ServiceStatus, since int64) {
	t.Helper()
	log = slices.DeleteFunc(slices.Clone(log), func(ch change) bool { return ch.rv <= since })
	spans := serviceSpans(t, log, epoxyTag)
	var order []string
	var last int64
	for _, svc := range catalog.Default().UpgradeSequence() {
		if _, on := services[svc]; !on {
			continue
		}
		s := spans[svc]
		if s == nil {
			t.Errorf("%s: no upgrade step or roll in the log", svc)
			continue
		}
		if s.start < last {
			t.Errorf("%s began (revision %d) before the service before it ended (%d)", svc, s.start, last)
		}
		order = append(order, fmt.Sprintf("%s[%d-%d]", svc, s.start, s.end))
		last = s.end
	}
	runs := map[string][]string{}
	for _, ch := range log {
		if ch.kind == "Job" && ch.step != "" && ch.event == watch.Added {
			runs[ch.name] = append(runs[ch.name], fmt.Sprintf("inputs %s at revision %d", ch.hash, ch.rv))
		}
	}
	for name, r := range runs {
		if len(r) > 1 {
			t.Errorf("upgrade Job %s ran %d times: %v", name, len(r), r)
		}
	}
	for _, ch := range log {
		if ch.kind == "Job" && ch.step == "" && ch.event == watch.Added && ch.rv < last {
			t.Errorf("Job %s was created (revision %d) before the last service was upgraded (%d)", ch.name, ch.rv, last)
		}
	}
	t.Logf("upgrade order by etcd revision: %s", strings.Join(order, " → "))
}
