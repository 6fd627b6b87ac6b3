package controllers

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/lifecycle"
	"github.com/oskproject/osk/internal/release"
	"github.com/oskproject/osk/internal/render"
	"github.com/oskproject/osk/internal/validation"
)

// upgradingFrom returns the release a deployment upgrades from: the one
// it last fully ran (status.deployedVersion), when the spec names another.
// A change the transition rules forbid (a downgrade, a skipped release,
// another release while an upgrade runs, going back included) is refused
// here too, for clusters that run osk without its webhook.
func upgradingFrom(d *v1.OpenStackDeployment) (string, field.ErrorList) {
	from, to := d.Status.DeployedVersion, d.Spec.OpenStackVersion
	if u := d.Status.Upgrade; u != nil && u.From == from && u.To != to {
		return "", field.ErrorList{field.Forbidden(field.NewPath("spec", "openstackVersion"), fmt.Sprintf(
			"the upgrade from %s to %s is running (at %s); set %s again and let it complete (rule: %s)",
			u.From, u.To, u.Service, u.To, validation.RuleOneUpgradeAtATime))}
	}
	if from == "" || from == to {
		return "", nil
	}
	if release.Index(from) < 0 {
		return "", field.ErrorList{field.Invalid(field.NewPath("status", "deployedVersion"), from,
			"the running release is not one this osk supports; run an osk that knows it to upgrade")}
	}
	return from, validation.ReleaseStep(from, to)
}

// renderAt renders the deployment as it is, but at another release.
func renderAt(d *v1.OpenStackDeployment, rel string, opts render.Options) (*render.Result, error) {
	at := d.DeepCopy()
	at.Spec.OpenStackVersion = rel
	opts.UpgradeSteps = false
	res, err := render.Render(at, opts)
	if err != nil {
		return nil, fmt.Errorf("rendering the running release %s: %w", rel, err)
	}
	return res, nil
}

// planUpgrade decides where the upgrade stands and which objects, of which
// release, this pass plans.
func (p *pass) planUpgrade(live map[render.Key]client.Object, pods []corev1.Pod) {
	p.upgrade = lifecycle.PlanUpgrade(lifecycle.UpgradeInput{
		From: p.from, To: p.result, Live: live, Pods: pods,
		Sequence: catalog.Default().UpgradeSequence(), Infrastructure: catalog.Default().Infrastructure(),
	})
}

// upgradeCompletes reports whether this pass completes an upgrade: every
// service is upgraded and the whole new release is applied.
func (p *pass) upgradeCompletes() bool {
	return p.upgrade != nil && p.upgrade.Step == lifecycle.StepReapply && p.decided.State() == v1.StateApplied
}

// upgradeStatus records where the upgrade stands: status.upgrade, the
// Upgrading condition, and an event when the service or step changes.
func (p *pass) upgradeStatus() {
	s := &p.d.Status
	if p.upgrade == nil {
		return
	}
	if p.upgradeCompletes() {
		s.Upgrade = nil
		setCondition(p.d, v1.ConditionUpgrading, metav1.ConditionFalse, "Completed",
			fmt.Sprintf("upgraded from %s to %s", p.fromRelease, p.d.Spec.OpenStackVersion))
		p.r.Recorder.Eventf(p.d, "Normal", "Upgraded", "upgraded from %s to %s", p.fromRelease, p.d.Spec.OpenStackVersion)
		return
	}
	prev := s.Upgrade
	s.Upgrade = upgradeProgress(prev, p.upgrade, p.fromRelease, p.d.Spec.OpenStackVersion, metav1.Now())
	failed := p.decided.Services[p.upgrade.Service].State == v1.ServiceFailed
	reason, msg := upgradeCondition(s.Upgrade, p.decided.Services[p.upgrade.Service], failed)
	setCondition(p.d, v1.ConditionUpgrading, metav1.ConditionTrue, reason, msg)
	if prev == nil || prev.Service != s.Upgrade.Service || prev.Step != s.Upgrade.Step {
		p.r.Recorder.Event(p.d, "Normal", "Upgrading", msg)
	}
}

// upgradeProgress is the upgrade's status; Since stays while the service
// and step do.
func upgradeProgress(prev *v1.UpgradeStatus, u *lifecycle.Upgrade, from, to string, now metav1.Time) *v1.UpgradeStatus {
	st := &v1.UpgradeStatus{From: from, To: to, Service: u.Service, Step: u.Step, Since: now, Completed: u.Completed}
	if prev != nil && prev.From == from && prev.To == to && prev.Service == u.Service && prev.Step == u.Step {
		st.Since = prev.Since
	}
	return st
}

// upgradeCondition says what the upgrade does or why it stopped.
func upgradeCondition(u *v1.UpgradeStatus, svc v1.ServiceStatus, failed bool) (reason, msg string) {
	where := u.Service
	if where == "" {
		where = "every service"
	}
	msg = fmt.Sprintf("%s to %s: %s, step %s since %s; upgraded: %s", u.From, u.To, where, u.Step,
		u.Since.UTC().Format(time.RFC3339), strings.Join(orNone(u.Completed), ", "))
	if failed {
		return "UpgradeFailed", fmt.Sprintf("%s to %s stopped at %s, step %s: %s; later services keep %s",
			u.From, u.To, u.Service, u.Step, svc.Message, u.From)
	}
	return "Upgrading", msg
}

func orNone(s []string) []string {
	if len(s) == 0 {
		return []string{"none yet"}
	}
	return s
}
