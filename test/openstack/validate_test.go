package openstack_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/oslo"
	"github.com/oskproject/osk/internal/render"
)

// The configuration files osk renders for zed, checked with the code of
// the OpenStack services Debian bookworm ships (Zed): each oslo.config file
// must pass oslo-config-validator with the service's namespaces and load in
// oslo.config without a value error.

const (
	// debianPython is the Python the OpenStack packages run on; the
	// python3 first on PATH may be another one.
	debianPython = "/usr/bin/python3"
	// osloValidator is python3-oslo.config's oslo-config-validator.
	osloValidator = "/usr/bin/oslo-config-validator"
	// osloCheck loads a file as the service does (see its comment).
	osloCheck = "testdata/oslo_check.py"
)

// osloFile says how one oslo.config file osk renders is checked.
type osloFile struct {
	// generator names testdata/generator/<generator>.conf, whose namespace
	// lines are the file's namespaces: the service's own generator file
	// as Debian's version ships it, with osk's additions commented there.
	generator string
	// pkgs are the Debian packages that carry the namespaces' code.
	pkgs []string
}

// osloFiles are the oslo.config files osk renders, by their Secret key.
var osloFiles = map[string]osloFile{
	"keystone.conf":                     {"keystone", []string{"python3-keystone"}},
	"placement.conf":                    {"placement", []string{"python3-placement"}},
	"glance-api.conf":                   {"glance-api", []string{"python3-glance"}},
	"nova.conf":                         {"nova", []string{"python3-nova"}},
	"neutron.conf":                      {"neutron", []string{"python3-neutron"}},
	"plugins.ml2.ml2_conf.ini":          {"ml2_conf", []string{"python3-neutron"}},
	"plugins.ml2.openvswitch_agent.ini": {"openvswitch_agent", []string{"python3-neutron"}},
	"l3_agent.ini":                      {"l3_agent", []string{"python3-neutron"}},
	"dhcp_agent.ini":                    {"dhcp_agent", []string{"python3-neutron"}},
	"metadata_agent.ini":                {"metadata_agent", []string{"python3-neutron"}},
	"neutron_ovn_metadata_agent.ini":    {"neutron_ovn_metadata_agent", []string{"python3-neutron"}},
	"cinder.conf":                       {"cinder", []string{"python3-cinder"}},
	"heat.conf":                         {"heat", []string{"python3-heat"}},
	// barbican.plugin.secret_store.kmip imports PyKMIP, which
	// python3-barbican does not depend on.
	"barbican.conf":         {"barbican", []string{"python3-barbican", "python3-pykmip"}},
	"designate.conf":        {"designate", []string{"python3-designate"}},
	"octavia.conf":          {"octavia", []string{"python3-octavia"}},
	"aodh.conf":             {"aodh", []string{"python3-aodh"}},
	"gnocchi.conf":          {"gnocchi", []string{"python3-gnocchi"}},
	"ceilometer.conf":       {"ceilometer", []string{"python3-ceilometer"}},
	"masakari.conf":         {"masakari", []string{"python3-masakari"}},
	"masakarimonitors.conf": {"masakarimonitors", []string{"python3-masakari-monitors"}},
	// The Tempest image carries the plugins of the services osk runs;
	// [service_available] names their options.
	"tempest.conf": {"tempest", []string{"python3-tempest", "barbican-tempest-plugin",
		"designate-tempest-plugin", "heat-tempest-plugin", "octavia-tempest-plugin", "telemetry-tempest-plugin"}},
}

// notOslo are the other files osk renders, by Secret key, and why they
// are not checked here.
var notOslo = map[string]string{
	"rootwrap.conf":     "oslo.rootwrap's file, read with Python's configparser",
	"local_settings.py": "Horizon's Django settings",
	"polling.yaml":      "Ceilometer's polling definitions",
	"pools.yaml":        "Designate's pool definitions",
	"process_list.yaml": "the process monitor's list",
	"libvirtd.conf":     "libvirt's",
	"qemu.conf":         "libvirt's",
	"galera.cnf":        "MariaDB's",
	"pdns.conf":         "PowerDNS's",
	"schema.mysql.sql":  "PowerDNS's schema",
	"rabbitmq.conf":     "RabbitMQ's",
	"policy.yaml":       "oslo.policy's (test/monitoring loads it over each service's registered rules)",
	"rgw-keystone.conf": "Ceph's (the RADOS gateway's Keystone options)",
	// An oslo.config file, but of Tungsten Fabric's Neutron plugin, which
	// Debian does not carry.
	"plugins.tungstenfabric.tf_plugin.ini": "Tungsten Fabric's Neutron plugin's, which Debian does not carry",
}

func notOsloReason(key string) (string, bool) {
	if strings.HasSuffix(key, "-uwsgi.ini") {
		return "uWSGI's", true
	}
	if key == "ceph.conf" || (strings.HasPrefix(key, "ceph.client.") && strings.HasSuffix(key, ".keyring")) {
		return "Ceph's client configuration and keyrings (test/ceph reads them with Ceph's libraries)", true
	}
	r, ok := notOslo[key]
	return r, ok
}

// zedDeployments are the deployments whose files are checked: the full
// example (every service) on zed, its variant with the other networking
// backend and other compute choices, and the other examples on zed.
func zedDeployments(t *testing.T) map[string]*v1.OpenStackDeployment {
	t.Helper()
	out := map[string]*v1.OpenStackDeployment{}
	for _, name := range []string{"full", "compute", "minimal"} {
		d, err := manifest.Load(filepath.Join("..", "..", "examples", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		d.Spec.OpenStackVersion = "zed"
		out[name] = d
	}
	ovn := out["full"].DeepCopy()
	ovn.Spec.Features.Neutron.Backend = v1.NeutronOVN
	ovn.Spec.Features.Neutron.DVR = false
	ovn.Spec.Features.Nova.ImagesBackend = v1.ImagesLocal
	ovn.Spec.Features.Nova.Console = v1.ConsoleSpice
	ovn.Spec.Features.Nova.VirtType = v1.VirtQEMU
	ovn.Spec.Features.Neutron.OVSDatapath = v1.OVSDatapathNetdev
	ovn.Spec.Features.Glance.Backend = v1.StoreFile
	one := int32(1)
	ovn.Spec.Services["image"] = withReplicas(ovn.Spec.Services["image"], "api", &one)
	out["full-ovn"] = ovn
	return out
}

// withReplicas sets a component's replicas (a file store has one API).
func withReplicas(s v1.ServiceOverride, component string, n *int32) v1.ServiceOverride {
	s = *s.DeepCopy()
	if s.Components == nil {
		s.Components = map[string]v1.ComponentOverride{}
	}
	c := s.Components[component]
	c.Replicas = n
	s.Components[component] = c
	return s
}

// renderedFile is one file of one rendered configuration Secret.
type renderedFile struct {
	deployment, service, secret, key string
	data                             []byte
}

func (f renderedFile) String() string {
	return fmt.Sprintf("%s: service %s, Secret %s, file %s", f.deployment, f.service, f.secret, f.key)
}

// renderedFiles renders the deployments and returns every file of every
// configuration Secret.
func renderedFiles(t *testing.T) []renderedFile {
	t.Helper()
	var out []renderedFile
	deployments := zedDeployments(t)
	for _, name := range slices.Sorted(maps.Keys(deployments)) {
		res, err := render.Render(deployments[name], render.Options{})
		if err != nil {
			t.Fatalf("rendering %s on zed: %v", name, err)
		}
		for _, o := range res.Objects {
			s, ok := o.(*corev1.Secret)
			if !ok || !strings.HasSuffix(s.Name, "-etc") {
				continue
			}
			for _, key := range slices.Sorted(maps.Keys(s.Data)) {
				out = append(out, renderedFile{
					deployment: name, service: s.Labels["osk.dev/service"], secret: s.Name, key: key, data: s.Data[key],
				})
			}
		}
	}
	return out
}

// requirePackages fails the test, naming them, when Debian packages are
// not installed.
func requirePackages(t *testing.T, pkgs ...string) {
	t.Helper()
	slices.Sort(pkgs)
	pkgs = slices.Compact(pkgs)
	// dpkg-query exits 1 when a package is unknown; its output still
	// lists the known ones.
	out, err := exec.Command("dpkg-query", append([]string{"-W", "-f=${Package} ${db:Status-Status}\n"}, pkgs...)...).Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("dpkg-query: %v (these checks need Debian's packages: %s)", err, strings.Join(pkgs, " "))
	}
	installed := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if name, status, ok := strings.Cut(line, " "); ok && status == "installed" {
			installed[name] = true
		}
	}
	var missing []string
	for _, p := range pkgs {
		if !installed[p] {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("Debian packages not installed: %s; install them (.ci/run does): apt-get install --no-install-recommends %s",
			strings.Join(missing, ", "), strings.Join(missing, " "))
	}
	for bin, pkg := range map[string]string{debianPython: "python3", osloValidator: "python3-oslo.config"} {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("%v: install Debian's %s (.ci/run does)", err, pkg)
		}
	}
}

// slots bounds the Python processes running at once: they are CPU-bound.
var slots = make(chan struct{}, runtime.NumCPU())

// run runs a tool of Debian's Python and returns its standard output and
// error.
func run(name string, args ...string) (stdout, stderr []byte, err error) {
	slots <- struct{}{}
	defer func() { <-slots }()
	cmd := exec.Command(name, args...)
	// Debian's Python with Debian's modules only.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(e string) bool { return strings.HasPrefix(e, "PYTHON") })
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.Bytes(), e.Bytes(), err
}

var (
	notInSample = regexp.MustCompile(`(?m)^ERROR:root:(\S+) is not part of the sample config$`)
	deprecated  = regexp.MustCompile(`(?m)^WARNING:root:Deprecated opt (\S+) found$`)
)

// checkResult is what oslo_check.py says of a file.
type checkResult struct {
	Runtime map[string]string `json:"runtime"`
	Unknown []string          `json:"unknown"`
	Errors  []string          `json:"errors"`
}

// checkOslo checks files against the namespaces of one generator file and
// returns the problems of each file, by path: every option
// oslo-config-validator does not know (unless oslo_check.py shows that the
// service registers it at run time), every deprecated name it finds, every
// option of a group it skips that is no option, and every option whose
// value oslo.config cannot read. An error means the check itself could not
// run: a namespace is not installed or a tool failed.
//
// oslo-config-validator (without --check-defaults) looks at the names of
// sections and options only, and each run loads the service's code: it
// runs once, on the file itself when there is one, else on a file with
// every section and option of the files, and each complaint is the
// problem of the files that have that option. oslo_check.py, also run
// once, reads every file's values.
func checkOslo(generator string, paths []string) (map[string][]string, error) {
	names := make([]map[string]bool, len(paths))
	union := oslo.New()
	for i, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		f, err := oslo.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		names[i] = map[string]bool{}
		for _, s := range f.Sections() {
			for _, k := range f.Keys(s) {
				names[i][s+"/"+k] = true
				v, _ := f.Get(s, k)
				union.Set(s, k, v)
			}
		}
	}
	input := paths[0]
	if len(paths) > 1 {
		dir, err := os.MkdirTemp("", "osk-oslo-check")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		input = filepath.Join(dir, "all-options.conf")
		if err := os.WriteFile(input, union.Render(), 0o600); err != nil {
			return nil, err
		}
	}
	var (
		wg            sync.WaitGroup
		validated     []byte
		validationErr error
	)
	wg.Go(func() {
		// The validator logs to standard error.
		_, validated, validationErr = run(osloValidator, "--config-file", generator, "--input-file", input)
	})
	out, stderr, err := run(debianPython, append([]string{osloCheck, generator}, paths...)...)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v\n%s", osloCheck, generator, err, outputTail(stderr))
	}
	var checked struct {
		Missing []string               `json:"missing"`
		Files   map[string]checkResult `json:"files"`
	}
	if err := json.Unmarshal(out, &checked); err != nil {
		return nil, fmt.Errorf("%s %s: %v\n%s", osloCheck, generator, err, outputTail(append(out, stderr...)))
	}
	if len(checked.Missing) > 0 {
		return nil, fmt.Errorf("namespaces of %s not loaded:\n  %s", generator, strings.Join(checked.Missing, "\n  "))
	}
	complaints := notInSample.FindAllSubmatch(validated, -1)
	warnings := deprecated.FindAllSubmatch(validated, -1)
	var exit *exec.ExitError
	if validationErr != nil && (!errors.As(validationErr, &exit) || len(complaints) == 0) {
		return nil, fmt.Errorf("oslo-config-validator --config-file %s --input-file %s: %v\n%s",
			generator, input, validationErr, outputTail(validated))
	}
	problems := map[string][]string{}
	for _, m := range complaints {
		option, found := string(m[1]), false
		for i, p := range paths {
			if !names[i][option] {
				continue
			}
			found = true
			if _, ok := checked.Files[p].Runtime[option]; !ok {
				problems[p] = append(problems[p], "oslo-config-validator: "+option+" is not part of the sample config")
			}
		}
		if !found {
			return nil, fmt.Errorf("oslo-config-validator complains of %s, which none of the files has:\n%s", option, outputTail(validated))
		}
	}
	for _, m := range warnings {
		for i, p := range paths {
			if names[i][string(m[1])] {
				problems[p] = append(problems[p], "oslo-config-validator: "+string(m[1])+" is a deprecated name")
			}
		}
	}
	for _, p := range paths {
		c := checked.Files[p]
		for _, o := range c.Unknown {
			group, _, _ := strings.Cut(o, "/")
			problems[p] = append(problems[p], fmt.Sprintf("%s is not an option (oslo-config-validator skips [%s]; oslo_check.py checks it)", o, group))
		}
		for _, e := range c.Errors {
			problems[p] = append(problems[p], "oslo.config cannot read "+e)
		}
	}
	return problems, nil
}

// outputTail is the end of a tool's output, for messages.
func outputTail(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

func generatorPath(name string) string {
	return filepath.Join("testdata", "generator", name+".conf")
}

// TestZedConfigPassesOslo checks every oslo.config file osk renders for
// zed: each must pass oslo-config-validator with its service's namespaces
// and load in oslo.config without a value error. Files with the same
// content (a node variant's neutron.conf) are checked once.
func TestZedConfigPassesOslo(t *testing.T) {
	start := time.Now()
	var pkgs []string
	for _, f := range osloFiles {
		pkgs = append(pkgs, f.pkgs...)
	}
	requirePackages(t, append(pkgs, "python3-oslo.config", "python3-keystoneauth1")...)

	// unique is one content of one file, with where it is rendered.
	type unique struct {
		path  string
		where []renderedFile
	}
	dir := t.TempDir()
	byGenerator := map[string]map[[32]byte]*unique{}
	var unclassified []string
	files := renderedFiles(t)
	for _, f := range files {
		of, ok := osloFiles[f.key]
		if !ok {
			if _, skip := notOsloReason(f.key); !skip {
				unclassified = append(unclassified, f.String())
			}
			continue
		}
		if byGenerator[of.generator] == nil {
			byGenerator[of.generator] = map[[32]byte]*unique{}
		}
		sum := sha256.Sum256(f.data)
		u := byGenerator[of.generator][sum]
		if u == nil {
			u = &unique{path: filepath.Join(dir, fmt.Sprintf("%x-%s", sum[:6], f.key))}
			if err := os.WriteFile(u.path, f.data, 0o600); err != nil {
				t.Fatal(err)
			}
			byGenerator[of.generator][sum] = u
		}
		u.where = append(u.where, f)
	}
	if len(unclassified) > 0 {
		t.Errorf("files osk renders that this test neither checks nor lists in notOslo:\n  %s", strings.Join(unclassified, "\n  "))
	}
	for _, f := range osloFiles {
		if byGenerator[f.generator] == nil {
			t.Errorf("no deployment renders a file checked with %s", generatorPath(f.generator))
		}
	}

	t.Run("files", func(t *testing.T) {
		for _, gen := range slices.Sorted(maps.Keys(byGenerator)) {
			t.Run(gen, func(t *testing.T) {
				t.Parallel()
				var paths []string
				for _, u := range byGenerator[gen] {
					paths = append(paths, u.path)
				}
				slices.Sort(paths)
				problems, err := checkOslo(generatorPath(gen), paths)
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range byGenerator[gen] {
					if len(problems[u.path]) == 0 {
						continue
					}
					var where []string
					for _, f := range u.where {
						where = append(where, f.String())
					}
					t.Errorf("%s\n  %s", strings.Join(where, "\n"), strings.Join(problems[u.path], "\n  "))
				}
				n := 0
				for _, u := range byGenerator[gen] {
					n += len(u.where)
				}
				t.Logf("%d rendered files, %d distinct", n, len(byGenerator[gen]))
			})
		}
	})
	t.Logf("%d rendered files, %s", len(files), time.Since(start).Round(time.Millisecond))
}

// TestOsloCheckFindsBadOptions shows that the check of
// TestZedConfigPassesOslo fails on an unknown option, on an unknown option
// in [keystone_authtoken] (which oslo-config-validator skips) and on a
// value of the wrong type, naming each.
func TestOsloCheckFindsBadOptions(t *testing.T) {
	requirePackages(t, "python3-nova", "python3-oslo.config", "python3-keystoneauth1")
	var nova []byte
	for _, f := range renderedFiles(t) {
		if f.deployment == "full" && f.secret == "nova-etc" && f.key == "nova.conf" {
			nova = f.data
		}
	}
	if nova == nil {
		t.Fatal("full on zed renders no nova.conf in Secret nova-etc")
	}
	f, err := oslo.Parse(nova)
	if err != nil {
		t.Fatal(err)
	}
	f.Set("DEFAULT", "osk_no_such_option", "1")
	f.Set("keystone_authtoken", "osk_no_such_token_option", "1")
	f.Set("DEFAULT", "osapi_compute_listen_port", "not-a-port")
	path := filepath.Join(t.TempDir(), "nova.conf")
	if err := os.WriteFile(path, f.Render(), 0o600); err != nil {
		t.Fatal(err)
	}
	problems, err := checkOslo(generatorPath("nova"), []string{path})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(problems[path], "\n")
	for _, want := range []string{
		"oslo-config-validator: DEFAULT/osk_no_such_option is not part of the sample config",
		"keystone_authtoken/osk_no_such_token_option is not an option",
		"oslo.config cannot read DEFAULT/osapi_compute_listen_port",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems of the spoilt nova.conf lack %q; got:\n%s", want, got)
		}
	}
	if len(problems[path]) != 3 {
		t.Errorf("want exactly the 3 injected problems, got %d:\n%s", len(problems[path]), got)
	}
}

// TestOsloCheckNeedsNamespaces shows that a namespace that is not
// installed fails the check, naming it, rather than narrowing it.
func TestOsloCheckNeedsNamespaces(t *testing.T) {
	requirePackages(t, "python3-oslo.config", "python3-keystoneauth1")
	dir := t.TempDir()
	gen := filepath.Join(dir, "generator.conf")
	conf := filepath.Join(dir, "x.conf")
	if err := os.WriteFile(gen, []byte("[DEFAULT]\nnamespace = oslo.log\nnamespace = osk.no_such_namespace\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("[DEFAULT]\ndebug = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := checkOslo(gen, []string{conf})
	if err == nil || !strings.Contains(err.Error(), "osk.no_such_namespace: no oslo.config.opts entry point") {
		t.Fatalf("checkOslo with a missing namespace: err = %v, want one naming osk.no_such_namespace", err)
	}
}
