package lifecycle

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/render"
)

// Steps of an upgrade that are not Jobs.
const (
	// StepHealthy waits until the service, still on the old release, is
	// healthy before its upgrade starts.
	StepHealthy = "healthy"
	// StepRoll rolls the service's components onto the new release.
	StepRoll = "roll"
	// StepRestart rolls them once more after the last upgrade Job, for
	// services that read what it changed only when they start.
	StepRestart = "restart"
	// StepReapply applies the whole new release again once every service
	// is upgraded, so that the cloud equals a freshly deployed one.
	StepReapply = "reapply"
)

// UpgradeInput is what PlanUpgrade decides from.
type UpgradeInput struct {
	// From is the deployment rendered at the release it runs, To at the
	// release it upgrades to, with the upgrade steps' Jobs
	// (render.Options.UpgradeSteps).
	From, To *render.Result
	// Sequence lists the services upgraded one by one, in order.
	Sequence []string
	// Infrastructure holds the infrastructure services: each moves to the
	// new release's objects with the first service of Sequence that needs
	// it, which restarts it only where its own image or configuration
	// changed.
	Infrastructure map[string]bool
	// Live holds the cluster's objects by key.
	Live map[render.Key]client.Object
	// Pods are the deployment's pods.
	Pods []corev1.Pod
}

// Upgrade is where a release upgrade stands, derived afresh from the
// cluster on every pass, and the objects to plan in this pass.
type Upgrade struct {
	// Objects to plan in this pass: the services already upgraded, and the
	// infrastructure they or the current one need, at the new release; the
	// service being upgraded with its steps; every later service at the
	// old release.
	Objects []client.Object
	// Needs are the dependencies among the services of Objects.
	Needs map[string][]string
	// Service is the service being upgraded; empty in StepReapply.
	Service string
	// Step is the Service's step: StepHealthy, the name of one of its
	// upgrade Jobs (for example "expand"), StepRoll or StepRestart; StepReapply once
	// every service is upgraded.
	Step string
	// Completed lists the services already upgraded, in upgrade order.
	Completed []string
}

// PlanUpgrade decides how far a release upgrade has come. Services are
// upgraded one at a time in the sequence's order; each one is done when
// its upgrade Jobs have succeeded and its components run the new release.
// A service whose upgrade has begun (see started) never goes back to the
// old release's objects, even if an earlier one needs attention again.
// Once every service is done, the plan is the new release as a fresh
// deployment would have it; the caller keeps the upgrade Jobs (so that a
// restart still sees the services as upgraded) until the upgrade is
// recorded as completed.
func PlanUpgrade(in UpgradeInput) *Upgrade {
	from, to := byService(in.From.Objects), byService(in.To.Objects)
	pods := newPodIndex(in.Pods)
	obs := func(o client.Object) Readiness { k := render.KeyOf(o); return observe(o, in.Live[k], pods) }
	u := &Upgrade{}
	for _, svc := range in.Sequence {
		if _, old := from[svc]; old { // a service enabled with the upgrade is deployed at the end
			u.place(svc, from[svc], upgradeSet(to[svc]), in.Live, obs)
		}
	}
	if u.Service == "" {
		u.Step = StepReapply
		u.Objects = slices.DeleteFunc(slices.Clone(in.To.Objects), IsUpgradeJob)
		u.Needs = in.To.Needs
		return u
	}
	// Infrastructure moves with the first service that needs it (libvirt
	// with compute), or at once when no service of the sequence does (image
	// pre-caching); whatever else is not upgraded service by service
	// (tempest) waits for the end at the old release.
	current := slices.Index(in.Sequence, u.Service)
	for _, svc := range slices.Sorted(maps.Keys(to)) {
		if !in.Infrastructure[svc] {
			continue
		}
		if first := firstNeeding(in.Sequence, in.To.Needs, svc); first < 0 || first <= current || from[svc] == nil {
			u.Objects = append(u.Objects, to[svc]...)
		} else {
			u.Objects = append(u.Objects, from[svc]...)
		}
	}
	for _, svc := range slices.Sorted(maps.Keys(from)) {
		if !in.Infrastructure[svc] && !slices.Contains(in.Sequence, svc) {
			u.Objects = append(u.Objects, from[svc]...)
		}
	}
	u.Needs = needsOf(u.Objects, in.To.Needs, in.From.Needs)
	return u
}

// place plans one service of the sequence, given the services before it:
// upgraded, the one being upgraded, or one that waits at the old release
// (old) unless its upgrade has begun (set is its upgrade's objects).
func (u *Upgrade) place(svc string, old, set []client.Object, live map[render.Key]client.Object, obs func(client.Object) Readiness) {
	switch {
	case u.Service == "" && allReady(set, obs):
		u.Completed = append(u.Completed, svc)
		u.Objects = append(u.Objects, set...)
	case u.Service == "":
		u.Service = svc
		u.Step = StepHealthy
		if !started(set, old, live) && !allReady(old, obs) {
			u.Objects = append(u.Objects, old...) // not healthy yet: not started
			return
		}
		set = firstRoll(set, obs)
		u.Step = step(set, obs)
		u.Objects = append(u.Objects, set...)
	case started(set, old, live):
		u.Objects = append(u.Objects, firstRoll(set, obs)...)
	default:
		u.Objects = append(u.Objects, old...)
	}
}

// firstNeeding returns the position in sequence of the first service that
// needs svc, or -1.
func firstNeeding(sequence []string, needs map[string][]string, svc string) int {
	return slices.IndexFunc(sequence, func(s string) bool { return slices.Contains(needs[s], svc) })
}

// byService groups objects by their service label.
func byService(objs []client.Object) map[string][]client.Object {
	out := map[string][]client.Object{}
	for _, o := range objs {
		svc := o.GetLabels()[render.LabelService]
		out[svc] = append(out[svc], o)
	}
	return out
}

// IsUpgradeJob reports whether an object is a Job of an upgrade step.
func IsUpgradeJob(o client.Object) bool {
	_, ok := o.GetAnnotations()[render.AnnotationUpgradeStep]
	return ok
}

// upgradeSet is what a service runs while it is upgraded: the new
// release's objects and upgrade Jobs, without its other Jobs (db-sync,
// bootstrap, registrations), which run again once every service is
// upgraded.
func upgradeSet(objs []client.Object) []client.Object {
	var out []client.Object
	for _, o := range objs {
		if !isJob(o) || IsUpgradeJob(o) {
			out = append(out, o)
		}
	}
	return out
}

// firstRoll returns the set of a service that restarts after its last
// upgrade Job while that Job has not succeeded: its workloads are copies
// whose pod template differs from the new release's only by a mark, so
// that once the Job has succeeded, the new release's own template rolls
// them again.
func firstRoll(set []client.Object, obs func(client.Object) Readiness) []client.Object {
	ps := split(set)
	if !restartsAfter(ps.late) || allReady(ps.late, obs) {
		return set
	}
	out := make([]client.Object, len(set))
	for i, o := range set {
		out[i] = o
		if isWorkload(o) {
			c := o.DeepCopyObject().(client.Object)
			render.PodTemplate(c).Annotations[render.AnnotationConfigHash] += "-before-restart"
			out[i] = c
		}
	}
	return out
}

// restartsAfter reports whether the service's components roll once more after
// its last upgrade Job (late are its upgrade Jobs after the roll).
func restartsAfter(late []client.Object) bool {
	return slices.ContainsFunc(late, func(o client.Object) bool {
		return o.GetAnnotations()[render.AnnotationRestartAfterUpgrade] == "true"
	})
}

// started reports whether the service's upgrade has begun: one of its
// upgrade Jobs exists, whatever its inputs, or one of its workloads runs
// the new release's pod template where the old release's differs (a
// service without upgrade Jobs starts with its roll).
func started(set, old []client.Object, live map[render.Key]client.Object) bool {
	was := map[render.Key]client.Object{}
	for _, o := range old {
		was[render.KeyOf(o)] = o
	}
	for _, o := range set {
		k := render.KeyOf(o)
		l := live[k]
		switch {
		case l == nil:
		case IsUpgradeJob(o):
			return true
		case isWorkload(o) && outdated(o, l) == "" && (was[k] == nil || outdated(was[k], l) != ""):
			return true
		}
	}
	return false
}

// allReady reports whether every Job and workload of objs is ready.
func allReady(objs []client.Object, obs func(client.Object) Readiness) bool {
	for _, o := range objs {
		if (isJob(o) || isWorkload(o)) && !obs(o).Ready {
			return false
		}
	}
	return true
}

// step names the first step of a started service that is not done: the
// upgrade Job that runs next (its predecessors succeeded) before the
// components roll, the roll, the Job that runs next after it; or the
// restart after the last Job. A service's set holds no other Jobs.
func step(set []client.Object, obs func(client.Object) Readiness) string {
	ps := split(set)
	roll := StepRoll
	if restartsAfter(ps.late) && allReady(ps.late, obs) {
		roll = StepRestart
	}
	succeeded := map[string]bool{}
	for _, j := range slices.Concat(ps.jobs, ps.late) {
		succeeded[j.GetName()] = obs(j).Ready
	}
	for _, phase := range [][]client.Object{ps.jobs, ps.workloads, ps.late} {
		for _, o := range phase {
			switch {
			case obs(o).Ready:
			case isWorkload(o):
				return roll
			case len(after(o, succeeded)) == 0:
				return o.GetAnnotations()[render.AnnotationUpgradeStep]
			}
		}
	}
	return roll // every step is done: the service is being checked once more
}

// needsOf returns the dependencies of the services that have objects,
// from the first of the graphs that knows each.
func needsOf(objs []client.Object, graphs ...map[string][]string) map[string][]string {
	out := map[string][]string{}
	for _, o := range objs {
		svc := o.GetLabels()[render.LabelService]
		if _, done := out[svc]; done {
			continue
		}
		for _, g := range graphs {
			if n, ok := g[svc]; ok {
				out[svc] = n
				break
			}
		}
		if out[svc] == nil {
			out[svc] = []string{}
		}
	}
	return out
}
