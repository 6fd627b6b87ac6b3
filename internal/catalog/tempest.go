package catalog

import (
	"strconv"
	"strings"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

const tempestConf = "tempest.conf"

// tempestServices maps catalog services to their [service_available]
// option in Tempest or in the plugins the Tempest image may carry; a
// plugin's tests are skipped when its service is off.
var tempestServices = []struct{ service, option string }{
	{"compute", "nova"},
	{"image", "glance"},
	{"networking", "neutron"},
	{"block-storage", "cinder"},
	{"object-storage", "swift"},
	{"dashboard", "horizon"},
	{"dns", "designate"},
	{"load-balancer", "load_balancer"},
	{"key-manager", "barbican"},
	{"orchestration", "heat_plugin"},
	{"telemetry-metering", "ceilometer"},
	{"telemetry-alarming", "aodh"},
	{"telemetry-metric", "gnocchi"},
	// Panko has no option: it never runs, and the telemetry plugin of
	// every release osk supports has dropped it.
}

// TempestPasswordEnv holds the admin's password in the tempest Job: the
// variable oslo.config reads [auth] admin_password from, so Tempest finds
// it as osk's job does, and tempest.conf holds no password.
const TempestPasswordEnv = "OS_AUTH__ADMIN_PASSWORD"

// tempestWorkspace is Tempest's workspace on the Job's volume.
const tempestWorkspace = "/var/lib/tempest/workspace"

// tempest runs Tempest once every other service is ready: osk's own job
// (osk job tempest, copied into Tempest's image) creates what the tests
// need, completes tempest.conf with it and with the microversions the
// APIs serve, runs the tests through the internal endpoints, keeps the
// results on the Job's volume and reports their summary to the operator.
// Keystone enforces scopes and the new default roles, so the identity
// admin tests run system-scoped ([auth] admin_system).
func tempest() *Service {
	return &Service{
		Name:        "tempest",
		Project:     "tempest",
		Description: "Tempest: the acceptance run against the cloud, results on a volume and in status.tempest.",
		DependsOn:   []string{"identity"},
		Image:       "tempest",
		Last:        true,
		Config: []ConfigFile{{
			Name: tempestConf,
			Dir:  "/etc/tempest",
			Defaults: v1.OsloFile{
				"auth": {
					"admin_username":          AdminUser,
					"admin_project_name":      AdminProject,
					"admin_domain_name":       AdminDomain,
					"admin_system":            "all",
					"use_dynamic_credentials": "true",
				},
				"identity":       {"auth_version": "v3", "v3_endpoint_type": "internal"},
				"compute":        {"endpoint_type": "internal"},
				"image":          {"endpoint_type": "internal"},
				"network":        {"endpoint_type": "internal"},
				"volume":         {"endpoint_type": "internal"},
				"object-storage": {"endpoint_type": "internal"},
				"placement":      {"endpoint_type": "internal"},
				// Keystone enforces scopes and the new default roles.
				"enforce_scope": {"keystone": "true"},
				// No floating IPs to log into instances from the job's pod.
				"validation": {"run_validation": "false"},
			},
		}},
		Jobs: []Job{{
			Name:      "run",
			Reads:     []string{tempestConf},
			OskBinary: true,
			// Tempest tests the dashboard, which no Keystone endpoint lists.
			Connects: []Connect{{Service: "dashboard", Component: "server", Port: "http"}},
			// oslo.config's environment source keeps the password out of
			// tempest.conf, for Tempest and for osk's job alike.
			Env:     []Env{{Name: TempestPasswordEnv, Secret: AdminSecret, Key: KeyPassword}},
			Volumes: []Volume{{Name: "results", Kind: VolumePersistent, MountPath: "/var/lib/tempest", Size: "1Gi"}},
			Command: []string{OskDir + "/osk", "job", "tempest",
				"--config", "/etc/tempest/" + tempestConf, "--workspace", tempestWorkspace},
			Args: tempestArgs,
		}},
		Features: tempestFeatures,
	}
}

// tempestArgs passes the floating network, then the test selection after
// "--" to tempest run.
func tempestArgs(c *Context) []string {
	var args []string
	if fn := c.Features.Neutron.FloatingNetwork; fn != nil && c.Enabled("networking") {
		s := fn.Subnet
		args = append(args, "--public-network", strings.Join([]string{fn.Physnet, s.Range, s.Gateway, s.PoolStart, s.PoolEnd}, ","))
	}
	t := c.Features.Tempest
	args = append(args, "--")
	if t.Regex != "" {
		args = append(args, "--regex", t.Regex)
	} else {
		args = append(args, "--smoke")
	}
	if exclude := tempestExclude(c); exclude != "" {
		args = append(args, "--exclude-regex", exclude)
	}
	if t.Concurrency > 0 {
		args = append(args, "--concurrency", strconv.Itoa(int(t.Concurrency)))
	}
	return args
}

// tempestUnscopedIdentityTests are the identity tests of Tempest 33
// (zed's) that predate Keystone's enforced scopes: they read other
// projects, update credentials and list EC2 credentials with
// project-scoped tokens, which osk's keystone.conf (enforce_scope,
// enforce_new_defaults) refuses. The cloud is right to refuse; the tests
// cannot pass against it.
const tempestUnscopedIdentityTests = `^tempest\.api\.identity\.(admin\.v3\.(test_projects\.ProjectsTestJSON|` +
	`test_list_projects\.ListProjectsStaticTestJSON|test_users\.UsersV3TestJSON\.test_list_user_projects|` +
	`test_credentials\.CredentialsTestJSON)|v3\.test_ec2_credentials\.EC2CredentialsTest\.test_list_ec2_credentials)`

// tempestExclude is what the run leaves out: the user's exclusions, and on
// zed the identity tests its Tempest cannot run under enforced scopes.
func tempestExclude(c *Context) string {
	var out []string
	if c.Release == "zed" {
		out = append(out, tempestUnscopedIdentityTests)
	}
	if e := c.Features.Tempest.ExcludeRegex; e != "" {
		out = append(out, e)
	}
	return strings.Join(out, "|")
}

// tempestFeatures tells Tempest what the cloud runs: which services, which
// consoles, which backends.
func tempestFeatures(c *Context, f Files) {
	f.Set(tempestConf, "identity", "uri_v3", c.KeystoneURL()+"/v3")
	setCA(c, f, tempestConf, "identity", "ca_certificates_file")
	f.Set(tempestConf, "identity", "region", c.Spec.Region)
	for _, s := range tempestServices {
		f.Set(tempestConf, "service_available", s.option, strconv.FormatBool(c.Enabled(s.service)))
	}
	if c.Enabled("dashboard") {
		f.Set(tempestConf, "dashboard", "dashboard_url", c.InternalURL("horizon", "server", 80, "/"))
	}
	if c.Enabled("compute") {
		console := c.Features.Nova.Console
		f.Set(tempestConf, "compute-feature-enabled", "vnc_console", strconv.FormatBool(console == v1.ConsoleNoVNC))
		f.Set(tempestConf, "compute-feature-enabled", "spice_console", strconv.FormatBool(console == v1.ConsoleSpice))
		f.Set(tempestConf, "compute-feature-enabled", "serial_console", strconv.FormatBool(console == v1.ConsoleSerial))
	}
	if c.Enabled("networking") && c.Features.Neutron.Backend != v1.NeutronTungstenFabric {
		// ML2's port_security extension driver is on (ml2_conf.ini).
		f.Set(tempestConf, "network-feature-enabled", "port_security", "true")
	}
	if c.Enabled("block-storage") {
		f.Set(tempestConf, "volume", "storage_protocol", "ceph")
		f.Set(tempestConf, "volume-feature-enabled", "backup", strconv.FormatBool(c.Features.Cinder.Backup))
	}
}
