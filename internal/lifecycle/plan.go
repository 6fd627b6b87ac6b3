// Package lifecycle decides, from what osk renders and what the cluster
// holds, what to apply next and how far a deployment has come. It is pure:
// the controller observes the cluster, asks Plan, and carries it out.
//
// A deployment is a graph of steps, one per catalog service, ordered by
// the catalog's dependencies. A step starts only when every step it needs
// is ready; independent branches go in parallel. Within a step, osk applies
// the configuration, Services and permissions first, then the Jobs in the
// order their after-annotations give, then the workloads once the Jobs
// have succeeded, then the Jobs that talk to those workloads.
package lifecycle

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/render"
)

// Input is what Plan decides from.
type Input struct {
	// Objects are the rendered objects, each labelled with its service.
	Objects []client.Object
	// Needs lists, for each enabled service, the services that must be
	// ready before it starts.
	Needs map[string][]string
	// Live holds the cluster's objects by key; a missing key is an object
	// that does not exist.
	Live map[render.Key]client.Object
	// Pods are the deployment's pods; the status of an object that is not
	// ready names the worst problem of its pods.
	Pods []corev1.Pod
	// Held are steps that wait for something outside the deployment (the
	// Ceph Secret), by service, with what they wait for: none of their
	// objects is applied, and what runs keeps running.
	Held map[string]string
}

// Plan is what to do next and where the deployment stands.
type Plan struct {
	// Apply lists the objects to apply now, step by step.
	Apply []client.Object
	// Services is the state of every step, by service.
	Services map[string]v1.ServiceStatus
	// Ready and Total count steps; Healthy and Workloads count workloads.
	Ready, Total, Healthy, Workloads int
	// Failed names the steps that failed, with why.
	Failed []string
}

// State is the deployment's overall state.
func (p *Plan) State() v1.DeploymentState {
	switch {
	case len(p.Failed) > 0:
		return v1.StateFailed
	case p.Ready == p.Total:
		return v1.StateApplied
	}
	return v1.StateApplying
}

// Decide plans the next pass over a deployment.
func Decide(in Input) *Plan {
	steps := map[string][]client.Object{}
	for _, o := range in.Objects {
		svc := o.GetLabels()[render.LabelService]
		steps[svc] = append(steps[svc], o)
	}
	// Each object is judged once; the steps look the judgements up.
	obs := make(observed, len(in.Objects))
	pods := newPodIndex(in.Pods)
	for _, o := range in.Objects {
		k := render.KeyOf(o)
		obs[k] = observe(o, in.Live[k], pods)
	}
	p := &Plan{Services: map[string]v1.ServiceStatus{}, Total: len(in.Needs)}
	// Objects of no service are the deployment's own (the NetworkPolicy
	// that isolates its pods): no step waits for them, and they come first.
	p.Apply = append(p.Apply, steps[""]...)
	for _, svc := range order(in.Needs) {
		st := planStep(in, obs, p, svc, steps[svc])
		p.Services[svc] = st
		switch st.State {
		case v1.ServiceReady:
			p.Ready++
		case v1.ServiceFailed:
			p.Failed = append(p.Failed, svc+": "+st.Message)
		}
	}
	return p
}

// order sorts services so that each comes after what it needs (then by
// name), so that one pass sees the steps a ready step unblocks.
func order(needs map[string][]string) []string {
	var out []string
	done := map[string]bool{}
	var visit func(s string, path []string)
	visit = func(s string, path []string) {
		if done[s] || slices.Contains(path, s) {
			return
		}
		for _, n := range slices.Sorted(slices.Values(needs[s])) {
			if _, ok := needs[n]; ok {
				visit(n, append(path, s))
			}
		}
		done[s] = true
		out = append(out, s)
	}
	for _, s := range slices.Sorted(maps.Keys(needs)) {
		visit(s, nil)
	}
	return out
}

// observed holds what each rendered object's live counterpart says.
type observed map[render.Key]Readiness

func (obs observed) of(o client.Object) Readiness { return obs[render.KeyOf(o)] }

// parts are a step's objects by when they are applied.
type parts struct {
	// base: configuration, Services, permissions, first.
	base []client.Object
	// jobs run before the workloads start or roll; late ones after.
	jobs, late []client.Object
	// workloads are the Deployments, StatefulSets and DaemonSets.
	workloads []client.Object
}

// split sorts a step's objects into its parts.
func split(objs []client.Object) parts {
	var ps parts
	for _, o := range objs {
		switch {
		case isJob(o) && o.GetAnnotations()[render.AnnotationAfterWorkloads] == "true":
			ps.late = append(ps.late, o)
		case isJob(o):
			ps.jobs = append(ps.jobs, o)
		case isWorkload(o):
			ps.workloads = append(ps.workloads, o)
		default:
			ps.base = append(ps.base, o)
		}
	}
	return ps
}

func isJob(o client.Object) bool {
	_, ok := o.(*batchv1.Job)
	return ok
}

// isWorkload reports whether an object is a Deployment, StatefulSet or
// DaemonSet.
func isWorkload(o client.Object) bool {
	switch o.(type) {
	case *appsv1.Deployment, *appsv1.StatefulSet, *appsv1.DaemonSet:
		return true
	}
	return false
}

// planStep plans one service.
func planStep(in Input, obs observed, p *Plan, svc string, objs []client.Object) v1.ServiceStatus {
	needs := in.Needs
	ps := split(objs)
	base, jobs, late, workloads := ps.base, ps.jobs, ps.late, ps.workloads
	st := v1.ServiceStatus{Total: int32(len(workloads))}
	for _, w := range workloads {
		if obs.of(w).Ready {
			st.Ready++
		}
	}
	p.Workloads += len(workloads)
	p.Healthy += int(st.Ready)

	if why, held := in.Held[svc]; held {
		st.State, st.Message = v1.ServiceWaiting, "waiting for "+why
		return st
	}
	if waiting := unready(p, needs[svc], needs); len(waiting) > 0 {
		st.State, st.Message = v1.ServiceWaiting, "waiting for "+strings.Join(waiting, ", ")
		return st
	}
	p.Apply = append(p.Apply, base...)
	jobsDone, why, failed := runJobs(obs, p, jobs, nil)
	if failed {
		st.State, st.Message = v1.ServiceFailed, why
		return st
	}
	if !jobsDone {
		st.State, st.Message = v1.ServiceApplying, why
		return st
	}
	p.Apply = append(p.Apply, workloads...)
	if int(st.Ready) < len(workloads) {
		st.State, st.Message = v1.ServiceApplying, notReady(obs, workloads)
		return st
	}
	lateDone, why, failed := runJobs(obs, p, late, jobs)
	switch {
	case failed:
		st.State, st.Message = v1.ServiceFailed, why
	case !lateDone:
		st.State, st.Message = v1.ServiceApplying, why
	default:
		st.State = v1.ServiceReady
	}
	return st
}

// unready returns the needed services that are not ready yet.
func unready(p *Plan, needs []string, enabled map[string][]string) []string {
	var out []string
	for _, n := range needs {
		if _, on := enabled[n]; on && p.Services[n].State != v1.ServiceReady {
			out = append(out, n)
		}
	}
	return out
}

// runJobs adds to the plan every Job whose predecessors (among jobs and
// earlier) have succeeded, and reports whether all succeeded, what the
// first unfinished one waits for, and whether one failed.
func runJobs(obs observed, p *Plan, jobs, earlier []client.Object) (done bool, why string, failed bool) {
	succeeded := map[string]bool{} // by name, for every job of the step
	for _, j := range slices.Concat(earlier, jobs) {
		succeeded[j.GetName()] = obs.of(j).Ready
	}
	done = true
	for _, j := range jobs {
		r := obs.of(j)
		if r.Ready {
			continue
		}
		done = false
		if r.Failed {
			return false, r.Reason, true
		}
		if pending := after(j, succeeded); len(pending) > 0 {
			if why == "" {
				why = fmt.Sprintf("Job %s waits for %s", j.GetName(), strings.Join(pending, ", "))
			}
			continue
		}
		p.Apply = append(p.Apply, j)
		if why == "" {
			why = fmt.Sprintf("Job %s %s", j.GetName(), r.Reason)
		}
	}
	return done, why, false
}

// after returns the Jobs named by j's after-annotation that have not
// succeeded; a Job the deployment does not run (a feature turned it off)
// is not waited for.
func after(j client.Object, succeeded map[string]bool) []string {
	var out []string
	for _, a := range strings.Split(j.GetAnnotations()[render.AnnotationAfter], ",") {
		if ok, known := succeeded[a]; known && !ok {
			out = append(out, a)
		}
	}
	return out
}

// notReady describes the first workload that is not ready.
func notReady(obs observed, workloads []client.Object) string {
	for _, w := range workloads {
		if r := obs.of(w); !r.Ready {
			return fmt.Sprintf("%s: %s", render.KeyOf(w), r.Reason)
		}
	}
	return ""
}
