package render_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// TestOperatorHoldsWhatItGrants checks that osk's own ClusterRole
// (config/rbac/role.yaml) holds every permission of every Role and
// ClusterRole osk renders for the examples, so the operator creates and
// binds them without the bind and escalate verbs, which would let it grant
// anything, and that it holds neither of those verbs.
func TestOperatorHoldsWhatItGrants(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var operator rbacv1.ClusterRole
	if err := yaml.Unmarshal(b, &operator); err != nil {
		t.Fatal(err)
	}
	for _, r := range operator.Rules {
		if slices.Contains(r.Verbs, "bind") || slices.Contains(r.Verbs, "escalate") || slices.Contains(r.Verbs, "*") {
			t.Errorf("osk's ClusterRole may grant what it does not hold: %v", r)
		}
	}
	for file, objs := range deploymentExamples(t) {
		for _, o := range objs {
			for _, rule := range rulesOf(o) {
				if missing := uncovered(operator.Rules, rule); len(missing) > 0 {
					t.Errorf("%s: %T %s grants %v, which osk's ClusterRole does not hold", file, o, o.GetName(), missing)
				}
			}
		}
	}
}

// uncovered returns the "group/resource verb" permissions of rule that
// no rule of held grants (for every name rule is limited to).
func uncovered(held []rbacv1.PolicyRule, rule rbacv1.PolicyRule) []string {
	var out []string
	for _, g := range rule.APIGroups {
		for _, res := range rule.Resources {
			for _, v := range rule.Verbs {
				if !slices.ContainsFunc(held, func(h rbacv1.PolicyRule) bool {
					return grants(h, g, res, v, rule.ResourceNames)
				}) {
					out = append(out, g+"/"+res+" "+v)
				}
			}
		}
	}
	return out
}

// grants reports whether h allows verb on group/resource for all of names
// (for every object when names is empty).
func grants(h rbacv1.PolicyRule, group, resource, verb string, names []string) bool {
	if !slices.Contains(h.APIGroups, group) && !slices.Contains(h.APIGroups, "*") {
		return false
	}
	if !slices.Contains(h.Resources, resource) && !slices.Contains(h.Resources, "*") {
		return false
	}
	if !slices.Contains(h.Verbs, verb) && !slices.Contains(h.Verbs, "*") {
		return false
	}
	if len(h.ResourceNames) == 0 {
		return true
	}
	return len(names) > 0 && !slices.ContainsFunc(names, func(n string) bool { return !slices.Contains(h.ResourceNames, n) })
}

// rulesOf returns the rules of a Role or ClusterRole, none of another
// object.
func rulesOf(o client.Object) []rbacv1.PolicyRule {
	switch r := o.(type) {
	case *rbacv1.Role:
		return r.Rules
	case *rbacv1.ClusterRole:
		return r.Rules
	}
	return nil
}
