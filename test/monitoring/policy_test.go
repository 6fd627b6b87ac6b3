package monitoring_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/render"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// policyDefaults prints each rule of an oslo.policy namespace as the
// installed code registers it: name, tab, default check string.
const policyDefaults = `
import sys
from stevedore import named
mgr = named.NamedExtensionManager("oslo.policy.policies", names=[sys.argv[1]], invoke_on_load=True)
for ext in mgr:
    for rule in ext.obj:
        print(rule.name + "\t" + rule.check_str)
`

// policyDecisions loads a policy file (argv 2) over a namespace's
// registered defaults (argv 1) with oslo.policy, as the service does with
// its default options, refuses a rule the service does not register, and
// prints each file rule's decision for a reader with the monitoring role,
// a plain reader and a project admin: name, tab, three 0/1.
const policyDecisions = `
import sys
from oslo_config import cfg
from oslo_policy import policy
from stevedore import named
ns, path, role = sys.argv[1:4]
conf = cfg.ConfigOpts()
conf([], project=ns)
enforcer = policy.Enforcer(conf, policy_file=path)
mgr = named.NamedExtensionManager("oslo.policy.policies", names=[ns], invoke_on_load=True)
for ext in mgr:
    enforcer.register_defaults(ext.obj)
enforcer.load_rules()
unknown = set(enforcer.file_rules) - set(enforcer.registered_rules)
if unknown:
    sys.exit("rules the service does not register: %s" % sorted(unknown))
creds = lambda roles: {"roles": roles, "project_id": "p", "user_id": "u", "is_admin": "admin" in roles, "system_scope": None}
target = {"project_id": "other", "tenant_id": "other"}
for name in sorted(enforcer.file_rules):
    print(name + "\t" + " ".join(str(int(bool(enforcer.enforce(name, target, creds(r))))) for r in (["reader", role], ["reader"], ["admin"])))
`

// TestMonitoringPolicyDefaults: the defaults osk keeps in the policy
// files it renders for the monitoring role are those of the Zed code
// Debian ships (nova, neutron, cinder, placement), and each rendered
// policy.yaml, loaded by oslo.policy over the service's registered rules,
// names only rules the service has and allows them to a reader with the
// monitoring role, not to a plain reader, and still to an admin.
func TestMonitoringPolicyDefaults(t *testing.T) {
	proctest.Need(t, "python3-oslo.policy", "oslopolicy-sample-generator")
	files := zedPolicyFiles(t)
	for _, p := range catalog.MonitoringPolicies {
		svc, ok := catalog.Default().Get(p.Service)
		if !ok {
			t.Fatalf("no service %s in the catalog", p.Service)
		}
		project := svc.Project
		want := installedDefaults(t, project)
		for _, r := range p.Rules["zed"] {
			if got, ok := want[r.Name]; !ok {
				t.Errorf("%s: Zed's %s registers no rule %s", p.Service, project, r.Name)
			} else if got != r.Default {
				t.Errorf("%s: osk keeps %q as %s's default, Zed's code has %q", project, r.Default, r.Name, got)
			}
		}
		file, ok := files[project]
		if !ok {
			t.Errorf("no %s rendered for %s on zed with StackLight on", catalog.MonitoringPolicyFile, project)
			continue
		}
		for _, r := range p.Rules["zed"] {
			if line := fmt.Sprintf("%q: %q", r.Name, catalog.MonitoringCheck(r)); !bytes.Contains(file, []byte(line)) {
				t.Errorf("%s's %s lacks %s:\n%s", project, catalog.MonitoringPolicyFile, line, file)
			}
		}
		validatePolicy(t, project, file)
	}
}

// zedPolicyFiles renders examples/full.yaml on zed and returns each
// service's rendered policy file, by project.
func zedPolicyFiles(t *testing.T) map[string][]byte {
	t.Helper()
	d, err := manifest.Load(filepath.Join("..", "..", "examples", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d.Spec.OpenStackVersion = "zed"
	res, err := render.Render(d, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, o := range res.Objects {
		if s, ok := o.(*corev1.Secret); ok && strings.HasSuffix(s.Name, "-etc") && s.Data[catalog.MonitoringPolicyFile] != nil {
			out[strings.TrimSuffix(s.Name, "-etc")] = s.Data[catalog.MonitoringPolicyFile]
		}
	}
	return out
}

// installedDefaults are the rules of a namespace as the installed code
// registers them.
func installedDefaults(t *testing.T, namespace string) map[string]string {
	t.Helper()
	out, err := exec.Command("/usr/bin/python3", "-c", policyDefaults, namespace).Output()
	if err != nil {
		t.Fatalf("reading %s's registered policies: %v", namespace, err)
	}
	rules := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if name, check, ok := strings.Cut(line, "\t"); ok {
			rules[name] = check
		}
	}
	if len(rules) == 0 {
		t.Fatalf("%s registers no policy rule: is its Python package installed?", namespace)
	}
	return rules
}

// validatePolicy loads a rendered policy file with oslo.policy over the
// service's registered rules: each rule it names exists, allows a reader
// with the monitoring role, refuses a plain reader and still allows a
// project admin (the service's own users, nova's to placement for one).
func validatePolicy(t *testing.T, namespace string, file []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), catalog.MonitoringPolicyFile)
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("/usr/bin/python3", "-c", policyDecisions, namespace, path, catalog.MonitoringRole).Output()
	if err != nil {
		t.Errorf("oslo.policy refuses %s's %s: %v\n%s", namespace, catalog.MonitoringPolicyFile, err, stderr(err))
		return
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		name, got, _ := strings.Cut(line, "\t")
		if got != "1 0 1" {
			t.Errorf("%s %s: monitoring reader, reader, admin allowed %s; want 1 0 1", namespace, name, got)
		}
	}
	t.Logf("%s: %d rules allow %s, refuse a reader, allow an admin", namespace, strings.Count(string(out), "\n"), catalog.MonitoringRole)
}

// stderr is what a failed command wrote to its standard error.
func stderr(err error) string {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(exit.Stderr)
	}
	return ""
}
