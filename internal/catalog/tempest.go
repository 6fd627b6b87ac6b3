package catalog

import (
	"strconv"

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

// tempest runs Tempest's smoke tests once every other service is ready, as
// the cloud admin, with dynamic test credentials, through the internal
// endpoints. The workspace, with the results (.stestr), lives on a volume.
// Compute tests need [compute] image_ref and flavor_ref, which the
// deployment sets in the service's overrides.
func tempest() *Service {
	return &Service{
		Name:        "tempest",
		Project:     "tempest",
		Description: "Tempest: runs the smoke tests against the cloud, results on a volume.",
		DependsOn:   []string{"identity"},
		Image:       "tempest",
		Last:        true,
		Config: []ConfigFile{{
			Name: tempestConf,
			Dir:  "/etc/tempest",
			Defaults: v1.OsloFile{
				"auth": {
					"admin_username":          "admin",
					"admin_project_name":      "admin",
					"admin_domain_name":       "Default",
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
			Name:  "run",
			Reads: []string{tempestConf},
			// oslo.config's environment source keeps the password out of
			// tempest.conf.
			Env:     []Env{{Name: "OS_AUTH__ADMIN_PASSWORD", Secret: AdminSecret, Key: KeyPassword}},
			Volumes: []Volume{{Name: "results", Kind: VolumePersistent, MountPath: "/var/lib/tempest", Size: "1Gi"}},
			Command: shell(`workspace=/var/lib/tempest/workspace
[ -f "$workspace/.stestr.conf" ] || tempest init "$workspace"
cd "$workspace"
exec tempest run --config-file /etc/tempest/` + tempestConf + ` --smoke`),
		}},
		Features: func(c *Context, f Files) {
			f.Set(tempestConf, "identity", "uri_v3", c.KeystoneURL()+"/v3")
			f.Set(tempestConf, "identity", "region", c.Spec.Region)
			for _, s := range tempestServices {
				f.Set(tempestConf, "service_available", s.option, strconv.FormatBool(c.Enabled(s.service)))
			}
			if c.Enabled("dashboard") {
				f.Set(tempestConf, "dashboard", "dashboard_url", c.InternalURL("horizon", "server", 80, "/"))
			}
		},
	}
}
