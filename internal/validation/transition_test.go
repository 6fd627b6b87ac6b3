package validation_test

import (
	"strings"
	"testing"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/validation"
)

func TestValidateUpdate(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		// deployed is the old status.deployedVersion; from when empty.
		deployed string
		mutate   func(d *v1.OpenStackDeployment)
		// want are substrings of the errors: the field path and the rule;
		// none means the change is allowed.
		want []string
	}{
		{name: "no change", from: "caracal", to: "caracal"},
		{name: "other change without upgrade", from: "caracal", to: "caracal",
			mutate: func(d *v1.OpenStackDeployment) { d.Spec.Size = v1.SizeSmall }},
		{name: "next release", from: "caracal", to: "dalmatian"},
		{name: "SLURP to next SLURP", from: "caracal", to: "epoxy"},
		{name: "SLURP to next SLURP, antelope", from: "antelope", to: "caracal"},
		{name: "downgrade", from: "caracal", to: "bobcat",
			want: []string{"spec.openstackVersion", "caracal to bobcat is a downgrade", validation.RuleNoDowngrade}},
		{name: "skip a non-SLURP", from: "zed", to: "bobcat",
			want: []string{"spec.openstackVersion", "skips antelope", validation.RuleOneReleaseAtATime}},
		{name: "non-SLURP to SLURP+1", from: "bobcat", to: "dalmatian",
			want: []string{"spec.openstackVersion", "skips caracal", "upgrade to caracal first"}},
		{name: "SLURP past the next SLURP", from: "antelope", to: "epoxy",
			want: []string{"spec.openstackVersion", "skips bobcat, caracal, dalmatian"}},
		{name: "upgrade and another change", from: "caracal", to: "dalmatian",
			mutate: func(d *v1.OpenStackDeployment) {
				d.Spec.Size = v1.SizeSmall
				d.Spec.Features.Nova.Console = v1.ConsoleSpice
			},
			want: []string{"spec.size", "spec.features.nova", "from caracal to dalmatian", validation.RuleUpgradeAlone}},
		{name: "upgrade and a preset change", from: "caracal", to: "dalmatian",
			mutate: func(d *v1.OpenStackDeployment) { d.Spec.Preset = v1.PresetCompute },
			want:   []string{"spec.preset", validation.RuleUpgradeAlone}},
		{name: "upgrade and disabling a service", from: "caracal", to: "dalmatian",
			mutate: func(d *v1.OpenStackDeployment) { d.Spec.Features.DisabledServices = []string{"dashboard"} },
			want:   []string{"spec.features.disabledServices", validation.RuleUpgradeAlone}},
		{name: "upgrade and enabling a service", from: "caracal", to: "dalmatian",
			mutate: func(d *v1.OpenStackDeployment) { d.Spec.Features.Services = []string{"dns"} }},
		{name: "upgrade and setting a default", from: "caracal", to: "dalmatian",
			mutate: func(d *v1.OpenStackDeployment) { d.Spec.Region = "RegionOne" }},
		{name: "upgrade while one runs", from: "dalmatian", to: "epoxy", deployed: "caracal",
			want: []string{"spec.openstackVersion", "from caracal to dalmatian is still running", validation.RuleOneUpgradeAtATime}},
		{name: "first version change before anything was deployed", from: "caracal", to: "dalmatian", deployed: "-"},
		{name: "unknown new release is Validate's", from: "caracal", to: "kilo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := valid()
			old.Spec.OpenStackVersion = tc.from
			old.Status.DeployedVersion = tc.from
			switch tc.deployed {
			case "-":
				old.Status.DeployedVersion = ""
			case "":
			default:
				old.Status.DeployedVersion = tc.deployed
			}
			d := valid()
			d.Spec.OpenStackVersion = tc.to
			if tc.mutate != nil {
				tc.mutate(d)
			}
			assertErrors(t, validation.ValidateUpdate(old, d).ToAggregate(), tc.want)
		})
	}
}

// assertErrors checks that err mentions every wanted substring, or that
// there is no error when none is wanted.
func assertErrors(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected errors: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}
