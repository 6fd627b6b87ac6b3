package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/apply"
	"github.com/oskproject/osk/internal/credentials"
	"github.com/oskproject/osk/internal/defaulting"
	"github.com/oskproject/osk/internal/lifecycle"
	"github.com/oskproject/osk/internal/render"
	"github.com/oskproject/osk/internal/validation"
)

// pass is one reconcile of one deployment: what it rendered, observed and
// decided, phase by phase.
type pass struct {
	r       *OpenStackDeploymentReconciler
	d       *v1.OpenStackDeployment
	applier *apply.Applier
	creds   *credentials.Store
	result  *render.Result
	// from is the deployment rendered at the release it runs, fromRelease,
	// while it upgrades from it; nil otherwise.
	from        *render.Result
	fromRelease string
	// upgrade is where the upgrade stands, while one runs.
	upgrade *lifecycle.Upgrade
	owned   map[render.Key]client.Object
	// pods are the deployment's pods, the cache's own copies: read only.
	pods    []corev1.Pod
	decided *lifecycle.Plan
	// galera is the Galera cluster's record, nil without a database.
	galera *galeraView
	// ceph is what the Ceph Secret means for the deployment.
	ceph cephVerdict
}

// render validates the spec and renders it with the deployment's
// credentials; an invalid spec fails the deployment and changes nothing.
func (p *pass) render(ctx context.Context) bool {
	spec := p.d.DeepCopy()
	defaulting.Default(&spec.Spec)
	if errs := validation.Validate(spec); len(errs) > 0 {
		p.fail(v1.ConditionSpecValid, "InvalidSpec", errs.ToAggregate().Error())
		return false
	}
	secrets := &corev1.SecretList{}
	if err := p.r.Client.List(ctx, secrets, client.InNamespace(p.d.Namespace), client.MatchingLabels{credentialsLabel: p.d.Name}); err != nil {
		p.fail(v1.ConditionReady, "ReconcileError", "reading credentials: "+err.Error())
		return false
	}
	p.creds = credentials.NewStore(secrets.Items)
	cephName := spec.Spec.Features.Ceph.KeysSecret
	cephSecret, err := p.readCephKeys(ctx, cephName)
	if err != nil {
		p.fail(v1.ConditionReady, "ReconcileError", err.Error())
		return false
	}
	opts := p.r.Render
	opts.Credentials = p.creds
	opts.Ceph = cephData(cephSecret)
	from, errs := upgradingFrom(p.d)
	if len(errs) > 0 {
		p.fail(v1.ConditionSpecValid, "InvalidUpgrade", errs.ToAggregate().Error())
		return false
	}
	opts.UpgradeSteps = from != ""
	res, err := p.renderCached("target", "", opts, secrets.Items, func() (*render.Result, error) { return render.Render(p.d, opts) })
	if err != nil {
		p.fail(v1.ConditionSpecValid, "RenderFailed", err.Error())
		return false
	}
	p.result = res
	p.ceph = judgeCephKeys(cephName, cephSecret, res.Ceph)
	if from != "" {
		p.fromRelease = from
		fromOpts := opts
		fromOpts.UpgradeSteps = false
		if p.from, err = p.renderCached("running", from, fromOpts, secrets.Items, func() (*render.Result, error) { return renderAt(p.d, from, fromOpts) }); err != nil {
			p.fail(v1.ConditionSpecValid, "RenderFailed", err.Error())
			return false
		}
	}
	setCondition(p.d, v1.ConditionSpecValid, metav1.ConditionTrue, "Valid", "the spec follows every rule")
	return true
}

// renderCached returns the deployment's rendering of release (its own
// when empty) in role from the reconciler's renderCache, or renders it
// with do and keeps it when it generated no credential.
func (p *pass) renderCached(role, release string, opts render.Options, secrets []corev1.Secret, do func() (*render.Result, error)) (*render.Result, error) {
	key := renderKey(p.d.Generation, release, opts, secrets)
	if res := p.r.renders.get(p.d.UID, role, key); res != nil {
		return res, nil
	}
	res, err := do()
	if err != nil {
		return nil, err
	}
	if len(p.creds.Changes()) == 0 {
		p.r.renders.put(p.d.UID, role, key, res)
	}
	return res, nil
}

func (p *pass) fail(condition, reason, msg string) {
	p.d.Status.State = v1.StateFailed
	p.d.Status.ObservedGeneration = p.d.Generation
	setCondition(p.d, condition, metav1.ConditionFalse, reason, msg)
	if condition != v1.ConditionReady {
		setCondition(p.d, v1.ConditionReady, metav1.ConditionFalse, reason, msg)
	}
}

// credentials generates what the rendered objects use and the cluster
// does not hold yet.
func (p *pass) credentials(ctx context.Context) error {
	if err := p.creds.Require(p.rendered()); err != nil {
		return err
	}
	for _, c := range p.creds.Changes() {
		if err := p.writeCredentials(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// rendered is every object this pass rendered: the deployment's, and
// while it upgrades, the running release's too.
func (p *pass) rendered() []client.Object {
	if p.from == nil {
		return p.result.Objects
	}
	return slices.Concat(p.result.Objects, p.from.Objects)
}

// plan reads the deployment's live objects and pods from the cache and
// decides what to apply.
func (p *pass) plan(ctx context.Context) error {
	owned, err := p.applier.Owned(ctx)
	if err != nil {
		return err
	}
	p.owned = owned
	// Every pod template osk renders carries the deployment's instance
	// label and the managed-by label the cache selects. The pods are only
	// read: the cache's own copies will do.
	p.pods = nil
	for _, ns := range render.Namespaces(p.d) {
		list := &corev1.PodList{}
		if err := p.r.Client.List(ctx, list, client.InNamespace(ns),
			client.MatchingLabels{render.LabelInstance: p.d.Name}, client.UnsafeDisableDeepCopy); err != nil {
			return fmt.Errorf("listing the pods of namespace %s: %w", ns, err)
		}
		if p.pods == nil {
			p.pods = list.Items // one namespace, the usual case: no copy of thousands of pods
		} else {
			p.pods = append(p.pods, list.Items...)
		}
	}
	p.decide()
	p.galera = p.readGalera(ctx)
	return nil
}

// decide plans on the live objects as the pass knows them.
func (p *pass) decide() {
	objects, needs := p.result.Objects, p.result.Needs
	if p.from != nil {
		p.planUpgrade(p.owned, p.pods)
		objects, needs = p.upgrade.Objects, p.upgrade.Needs
	}
	p.decided = lifecycle.Decide(lifecycle.Input{Objects: objects, Needs: needs, Live: p.owned, Pods: p.pods, Held: p.ceph.held})
}

// maxRounds bounds the rounds of apply in one pass.
const maxRounds = 10

// apply carries out the plan in rounds. What a round writes is planned on
// at once, from the API server's responses: a step that is ready once its
// objects exist (Secrets, Services) lets the next one go in the same
// pass, and the status tells what the writes left running ("Job running",
// "being updated") rather than what preceded them. So the watch events of
// osk's own writes need no pass of their own (apply.Written), and a
// rollout's or a Job's progress is what starts the next one.
func (p *pass) apply(ctx context.Context) error {
	defer p.applier.Remember()
	replaced := map[render.Key]bool{}
	for range maxRounds {
		wrote, err := p.applyRound(ctx, replaced)
		if err != nil || len(wrote) == 0 {
			return err
		}
		maps.Copy(p.owned, wrote)
		p.decide()
	}
	return nil
}

// applyRound applies what the plan decided and returns what it wrote, as
// the API server returned it. A Job replaced (deleted, to run again) but
// not gone yet is left to the pass its deletion starts.
//
// Writes go applyWorkers at a time, in three tiers: what the pods of a
// round use (Secrets, ServiceAccounts, Roles, Services), then the RBAC
// bindings, then what runs pods (workloads and Jobs), so that no binding
// comes before its Role and no pod waits for what it mounts or runs as.
func (p *pass) applyRound(ctx context.Context, replaced map[render.Key]bool) (map[render.Key]client.Object, error) {
	if err := p.applier.Prepare(p.decided.Apply...); err != nil {
		return nil, err
	}
	wrote := map[render.Key]client.Object{}
	for _, tier := range tiers(p.decided.Apply) {
		var mu sync.Mutex
		var done []applied
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(applyWorkers)
		for _, o := range tier {
			if replaced[render.KeyOf(o)] {
				continue
			}
			g.Go(func() error {
				a, err := p.applyOne(gctx, o)
				mu.Lock()
				defer mu.Unlock()
				done = append(done, a)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		for _, a := range done {
			if a.result == apply.Replaced && a.now == nil {
				replaced[a.key] = true // created by the pass its deletion starts
			}
			if a.now != nil {
				wrote[a.key] = a.now
			}
		}
	}
	return wrote, nil
}

// applied is what Apply did to one object: its result, and the object as
// the API server returned it when written.
type applied struct {
	key    render.Key
	result apply.Result
	now    client.Object
}

// applyOne applies one object and logs what changed.
func (p *pass) applyOne(ctx context.Context, o client.Object) (applied, error) {
	k := render.KeyOf(o)
	res, now, err := p.applier.Apply(ctx, o, p.owned[k])
	if err == nil && res != apply.Unchanged {
		log.FromContext(ctx).Info(string(res), "object", k.String(), "service", o.GetLabels()[render.LabelService])
	}
	return applied{k, res, now}, err
}

// applyWorkers bounds the writes of a round in flight at once.
const applyWorkers = 4

// tiers splits objects into what pods use, the RBAC bindings, and what
// runs pods, each in its given order. A binding comes after the Roles it
// binds: osk holds no right to bind, so the API server lets it bind only
// a Role whose every permission osk holds, which it must read to know.
func tiers(objects []client.Object) [3][]client.Object {
	var out [3][]client.Object
	for _, o := range objects {
		i := 0
		switch {
		case render.PodTemplate(o) != nil:
			i = 2
		case isBinding(o):
			i = 1
		}
		out[i] = append(out[i], o)
	}
	return out
}

// isBinding reports whether o is a RoleBinding or a ClusterRoleBinding.
func isBinding(o client.Object) bool {
	switch o.(type) {
	case *rbacv1.RoleBinding, *rbacv1.ClusterRoleBinding:
		return true
	}
	return false
}

// prune deletes what the deployment no longer renders. While it upgrades,
// what either release renders is kept, its upgrade Jobs included: they
// go in the first pass that reads the upgrade as completed.
func (p *pass) prune(ctx context.Context) error {
	rendered := p.rendered()
	keep := make(map[render.Key]bool, len(rendered))
	for _, o := range rendered {
		keep[render.KeyOf(o)] = true
	}
	deleted, err := p.applier.Prune(ctx, p.owned, keep)
	for _, k := range deleted {
		log.FromContext(ctx).Info("pruned", "object", k.String())
	}
	return err
}

// status sums the plan up.
func (p *pass) status() {
	s := &p.d.Status
	pl := p.decided
	s.ObservedGeneration = p.d.Generation
	s.State = pl.State()
	if s.State == v1.StateApplied && p.upgrade != nil && p.upgrade.Step != lifecycle.StepReapply {
		s.State = v1.StateApplying // every step is ready, but the upgrade has services to go
	}
	s.Progress = fmt.Sprintf("%d/%d", pl.Ready, pl.Total)
	s.Health = fmt.Sprintf("%d/%d", pl.Healthy, pl.Workloads)
	s.Services = pl.Services
	s.Tempest = tempestStatus(s.Tempest, p.pods, slices.Contains(p.result.Services, tempestService))
	switch s.State {
	case v1.StateApplied:
		s.DeployedVersion = p.d.Spec.OpenStackVersion
		setCondition(p.d, v1.ConditionReady, metav1.ConditionTrue, "Applied", "every service is ready")
	case v1.StateFailed:
		setCondition(p.d, v1.ConditionReady, metav1.ConditionFalse, "StepFailed", strings.Join(pl.Failed, "; "))
	default:
		setCondition(p.d, v1.ConditionReady, metav1.ConditionFalse, "Applying", applying(pl))
	}
	p.upgradeStatus()
	if p.ceph.none {
		apimeta.RemoveStatusCondition(&s.Conditions, ConditionCephKeys)
	} else {
		setCondition(p.d, ConditionCephKeys, p.ceph.status, p.ceph.reason, p.ceph.message)
	}
	if p.galera != nil {
		status, reason, msg := databaseCondition(*p.galera)
		setCondition(p.d, ConditionDatabase, status, reason, msg)
	} else {
		apimeta.RemoveStatusCondition(&s.Conditions, ConditionDatabase)
	}
	publish(p.d, pl)
}

// applying names what the deployment waits for.
func applying(pl *lifecycle.Plan) string {
	var busy []string
	for _, name := range sortedKeys(pl.Services) {
		if st := pl.Services[name]; st.State == v1.ServiceApplying {
			busy = append(busy, name+" ("+st.Message+")")
		}
	}
	return fmt.Sprintf("%d of %d services ready; in progress: %s", pl.Ready, pl.Total, strings.Join(busy, ", "))
}
