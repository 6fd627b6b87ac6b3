package validation

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation/field"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/defaulting"
	"github.com/oskproject/osk/internal/release"
)

// Rule names, quoted in every refusal of a change.
const (
	RuleNoDowngrade       = "no downgrade"
	RuleOneReleaseAtATime = "one release at a time, or SLURP to the next SLURP"
	RuleUpgradeAlone      = "an upgrade changes nothing else than enabling services"
	RuleOneUpgradeAtATime = "one upgrade at a time"
)

// ValidateUpdate checks the change from old to d against the transition
// rules; Validate checks d itself. Both specs are compared defaulted, so
// setting a field to its default is no change. The rules apply only when
// spec.openstackVersion changes between two supported releases:
//
//   - no downgrade: the new release is not older than the old one;
//   - one release at a time: the new release is the next one, or the next
//     SLURP release when both are SLURP releases (caracal to epoxy);
//   - one upgrade at a time: no upgrade while the last one runs, that is
//     while status.deployedVersion is set and differs from the old
//     spec.openstackVersion;
//   - an upgrade changes nothing else in the spec than enabling services:
//     names added to spec.features.services, names removed from
//     spec.features.disabledServices. A preset change is not enabling: it
//     may change features too.
func ValidateUpdate(old, d *v1.OpenStackDeployment) field.ErrorList {
	from, to := old.Spec.OpenStackVersion, d.Spec.OpenStackVersion
	if from == to || release.Index(from) < 0 || release.Index(to) < 0 {
		return nil
	}
	p := field.NewPath("spec", "openstackVersion")
	if errs := ReleaseStep(from, to); len(errs) > 0 {
		return errs
	}
	var errs field.ErrorList
	if running := old.Status.DeployedVersion; running != "" && running != from {
		errs = append(errs, field.Forbidden(p, fmt.Sprintf(
			"the upgrade from %s to %s is still running (status.deployedVersion is %s); wait until it completes before upgrading to %s (rule: %s)",
			running, from, running, to, RuleOneUpgradeAtATime)))
	}
	return append(errs, otherChanges(old, d)...)
}

// ReleaseStep checks that going from one release to the other (both
// supported) is a single allowed step forward: the rules no downgrade and
// one release at a time, reported on spec.openstackVersion.
func ReleaseStep(from, to string) field.ErrorList {
	p := field.NewPath("spec", "openstackVersion")
	i, j := release.Index(from), release.Index(to)
	if j < i {
		return field.ErrorList{field.Forbidden(p, fmt.Sprintf(
			"%s to %s is a downgrade; osk upgrades only to newer releases (rule: %s)", from, to, RuleNoDowngrade))}
	}
	all := release.All()
	if j-i == 1 || (j-i == 2 && all[i].SLURP && all[j].SLURP) {
		return nil
	}
	var skipped []string
	for _, r := range all[i+1 : j] {
		skipped = append(skipped, r.Name)
	}
	return field.ErrorList{field.Forbidden(p, fmt.Sprintf(
		"%s to %s skips %s; upgrade to %s first (rule: %s)",
		from, to, strings.Join(skipped, ", "), all[i+1].Name, RuleOneReleaseAtATime))}
}

// otherChanges names every spec field, besides the release and the
// services enabled, that differs between the two defaulted specs.
func otherChanges(old, d *v1.OpenStackDeployment) field.ErrorList {
	a, b := old.Spec.DeepCopy(), d.Spec.DeepCopy()
	defaulting.Default(a)
	defaulting.Default(b)
	b.OpenStackVersion = a.OpenStackVersion
	if isSubset(a.Features.Services, b.Features.Services) {
		b.Features.Services = a.Features.Services
	}
	if isSubset(b.Features.DisabledServices, a.Features.DisabledServices) {
		b.Features.DisabledServices = a.Features.DisabledServices
	}
	msg := fmt.Sprintf("cannot change together with the upgrade of spec.openstackVersion from %s to %s; upgrade first, then change it (rule: %s)",
		old.Spec.OpenStackVersion, d.Spec.OpenStackVersion, RuleUpgradeAlone)
	var errs field.ErrorList
	for _, p := range changedFields(reflect.ValueOf(*a), reflect.ValueOf(*b), field.NewPath("spec")) {
		errs = append(errs, field.Forbidden(p, msg))
	}
	return errs
}

// changedFields lists the paths of the fields that differ, descending
// into spec.features so that each feature is named.
func changedFields(a, b reflect.Value, p *field.Path) []*field.Path {
	var out []*field.Path
	for i := range a.NumField() {
		name, _, _ := strings.Cut(a.Type().Field(i).Tag.Get("json"), ",")
		fa, fb := a.Field(i), b.Field(i)
		if equality.Semantic.DeepEqual(fa.Interface(), fb.Interface()) {
			continue
		}
		if fa.Type() == reflect.TypeFor[v1.Features]() {
			out = append(out, changedFields(fa, fb, p.Child(name))...)
			continue
		}
		out = append(out, p.Child(name))
	}
	return out
}

// isSubset reports whether every item of small is in big.
func isSubset(small, big []string) bool {
	for _, s := range small {
		if !slices.Contains(big, s) {
			return false
		}
	}
	return true
}
