package operator_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/watch"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// Kill points of TestOperatorSurvivesKills: OSK_KILL_POINTS sets how many
// (make test-kill runs 24), OSK_KILL_SEED the seed, to replay a run.
const (
	defaultKillPoints = 8
	// deployWindow and upgradeWindow are the spans the kills are spread
	// over, from the deployment's creation and from the spec change: about
	// what each takes without kills on two cores.
	deployWindow  = 30 * time.Second
	upgradeWindow = 90 * time.Second
	// maxPause is the longest the cluster goes on without an operator.
	maxPause = 3 * time.Second
)

// TestOperatorSurvivesKills SIGKILLs `osk operator`, its own process, at
// random moments spread over a deployment of examples/compute.yaml and
// its upgrade from caracal to epoxy, and starts it again after a random
// pause each time. The deployment must reach APPLIED at epoxy with every
// Job run once per set of inputs, no workload that ran epoxy ever sent
// back to caracal, and the services upgraded one after another in order.
// The moments come from a seed the test logs; OSK_KILL_SEED replays it.
func TestOperatorSurvivesKills(t *testing.T) {
	points, seed := killSettings(t)
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	t.Logf("kill points %d, seed %d (OSK_KILL_SEED=%d replays it)", points, seed, seed)
	env := sandboxtest.Get(t)
	env.InstallCRDs(t)
	c, ns := env.Client(), env.Namespace(t)
	log := recordChanges(t, ns)
	k := &killer{t: t, env: env, rng: rng, op: startOperatorProcess(t, env)}

	d := deploy(t, c, "compute", ns)
	k.spread(points/2, deployWindow)
	d = waitState(t, c, d, v1.StateApplied, applyTimeout)
	update(t, c, d, func(d *v1.OpenStackDeployment) { d.Spec.OpenStackVersion = "epoxy" })
	since := revision(d)
	k.spread(points-points/2, upgradeWindow)
	d = waitUpgraded(t, c, d)

	changes := log.stop()
	t.Logf("killed at %s", strings.Join(k.moments, ", "))
	if k.kills < points {
		t.Errorf("only %d of %d kills happened before the upgrade ended", k.kills, points)
	}
	checkJobsOncePerInputs(t, changes)
	checkNeverSentBack(t, changes, epoxyTag)
	checkOrder(t, changes, d.Status.Services, since)
}

// killSettings reads the kill points and the seed from the environment.
func killSettings(t *testing.T) (points int, seed uint64) {
	points, seed = defaultKillPoints, uint64(time.Now().UnixNano())
	if s := os.Getenv("OSK_KILL_POINTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 {
			t.Fatalf("OSK_KILL_POINTS=%q: want a whole number of at least 2", s)
		}
		points = n
	}
	if s := os.Getenv("OSK_KILL_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("OSK_KILL_SEED=%q: want a whole number", s)
		}
		seed = n
	}
	return points, seed
}

// killer kills and restarts the operator process.
type killer struct {
	t       *testing.T
	env     *sandboxtest.Env
	rng     *rand.Rand
	op      *proctest.Process
	kills   int
	moments []string
}

// spread kills the operator n times at random moments of the next
// window, sorted, restarting it after a random pause each time.
func (k *killer) spread(n int, window time.Duration) {
	k.t.Helper()
	at := make([]time.Duration, n)
	for i := range at {
		at[i] = time.Duration(k.rng.Int64N(int64(window)))
	}
	slices.Sort(at)
	start := time.Now()
	for _, a := range at {
		if wait := a - time.Since(start); wait > 0 {
			time.Sleep(wait)
		}
		k.op.Kill(k.t)
		pause := time.Duration(k.rng.Int64N(int64(maxPause)))
		k.kills++
		k.moments = append(k.moments, fmt.Sprintf("%.1fs (pause %.1fs)", time.Since(start).Seconds(), pause.Seconds()))
		time.Sleep(pause)
		k.op = startOperatorProcess(k.t, k.env)
	}
}

// checkJobsOncePerInputs fails on a Job created twice with the same
// inputs: a finished Job must never run again for inputs it ran with.
func checkJobsOncePerInputs(t *testing.T, log []change) {
	t.Helper()
	runs := map[string][]int64{}
	for _, ch := range log {
		if ch.kind == "Job" && ch.event == watch.Added {
			key := ch.name + " (inputs " + ch.hash + ")"
			runs[key] = append(runs[key], ch.rv)
		}
	}
	for key, rvs := range runs {
		if len(rvs) > 1 {
			t.Errorf("Job %s was created %d times, at revisions %v", key, len(rvs), rvs)
		}
	}
}

// checkNeverSentBack fails on a workload that ran the new release's image
// and later the old one again.
func checkNeverSentBack(t *testing.T, log []change, newTag string) {
	t.Helper()
	upgraded := map[string]int64{}
	for _, ch := range log {
		if ch.kind == "Job" {
			continue
		}
		key := ch.kind + "/" + ch.name
		at, done := upgraded[key]
		switch {
		case strings.Contains(ch.image, newTag) && !done:
			upgraded[key] = ch.rv
		case done && ch.event != watch.Deleted && !strings.Contains(ch.image, newTag):
			t.Errorf("%s ran %s (revision %d) after it ran %s (revision %d)", key, ch.image, ch.rv, newTag, at)
		}
	}
}

// TestDeploymentSurvivesAPIServerRestart kills the sandbox's
// kube-apiserver with SIGKILL once, at a random moment of a deployment of
// examples/compute.yaml, and starts it again on the same etcd: the
// operator, its own process, carries on and reaches APPLIED with every
// Job created once per set of inputs.
func TestDeploymentSurvivesAPIServerRestart(t *testing.T) {
	_, seed := killSettings(t)
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	env := sandboxtest.Get(t)
	env.InstallCRDs(t)
	c, ns := env.Client(), env.Namespace(t)
	log := recordChanges(t, ns)
	startOperatorProcess(t, env)
	d := deploy(t, c, "compute", ns)
	at := time.Duration(rng.Int64N(int64(deployWindow)))
	time.Sleep(at)
	start := time.Now()
	if err := env.Sandbox.KillAndRestart(t.Context(), "kube-apiserver"); err != nil {
		t.Fatal(err)
	}
	t.Logf("seed %d: kube-apiserver killed %.1fs into the deployment, serving again after %.1fs",
		seed, at.Seconds(), time.Since(start).Seconds())
	waitState(t, c, d, v1.StateApplied, applyTimeout)
	checkJobsOncePerInputs(t, log.stop())
}
