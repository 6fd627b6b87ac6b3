package catalog

import (
	"fmt"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

const (
	masakariConf = "masakari.conf"
	monitorsConf = "masakarimonitors.conf"
	monitorsDir  = "/etc/masakarimonitors"
	processList  = "process_list.yaml"
)

// instanceHA is Masakari: the API and engine on the control plane, which
// evacuate or restart instances through Nova, and the monitors on every
// compute node, which report failed hosts, instances and processes.
func instanceHA() *Service {
	api, uwsgi := wsgiAPI("masakari", "api", 15868, "masakari-wsgi", masakariConf, httpProbe("/"))
	// Masakari's WSGI application reads /etc/masakari/api-paste.ini and
	// nothing else.
	api.Command = prepared(linkShipped("masakari", "api-paste.ini"), api.Command)
	api.Volumes = append(api.Volumes, etcVolume("masakari"))
	engine := daemon("masakari", "engine")
	// The engine calls Nova as the "privileged user", masakari's service user.
	novaPassword := Env{Name: "OS_DEFAULT__OS_PRIVILEGED_USER_PASSWORD", Secret: CredentialSecret("masakari"), Key: KeyKeystonePassword}
	api.Env = append(api.Env, novaPassword)
	engine.Env = append(engine.Env, novaPassword)
	instance := masakariMonitor("instance")
	instance.Volumes = []Volume{libvirtRunVolume}
	process := masakariMonitor("process")
	process.Reads = append(process.Reads, processList)
	return &Service{
		Name:         "instance-ha",
		Project:      "masakari",
		Description:  "Masakari: recovers instances of failed compute hosts, with monitors on every compute node.",
		DependsOn:    []string{"identity", "compute"},
		Image:        "masakari",
		Databases:    []string{"masakari"},
		Messaging:    true,
		UpgradeOrder: 13,
		Keystone: &Keystone{User: true, Endpoints: []Endpoint{
			{Type: "instance-ha", Name: "masakari", Component: "api", Path: "/v1/$(project_id)s"},
		}},
		Config: []ConfigFile{
			mainFile("masakari", v1.OsloFile{
				"DEFAULT": {
					"os_privileged_user_name":   "masakari",
					"os_privileged_user_tenant": "service",
					"os_user_domain_name":       "Default",
					"os_project_domain_name":    "Default",
					"nova_catalog_admin_info":   "compute:nova:internalURL",
				},
				"oslo_concurrency": {"lock_path": "/var/lib/masakari/tmp"},
				"oslo_middleware":  {"enable_proxy_headers_parsing": "true"},
			}, standardWiring(
				Wire{Kind: WireDatabase, Database: "masakari"},
				// The engine records its recovery flows in the same database
				// (TaskFlow persistence); db sync creates TaskFlow's tables.
				Wire{Kind: WireDatabase, Section: "taskflow", Database: "masakari"},
			)),
			uwsgi,
			{
				Name: monitorsConf, Dir: monitorsDir,
				Defaults: v1.OsloFile{
					"api": {"api_interface": "internal"},
					// Kubernetes restarts the processes, so the monitor only
					// reports one that stays down for five minutes.
					"process": {
						"process_list_path": monitorsDir + "/" + processList,
						"restart_retries":   "5",
						"restart_interval":  "60",
					},
				},
				// The monitors post notifications as masakari's service user.
				Wiring: []Wire{{Kind: WireServiceAuth, Section: "api", NoRegion: true}, {Kind: WireLogging}},
			},
			{Name: processList, Dir: monitorsDir, Format: FormatRaw, Generate: monitoredProcesses},
		},
		Components: []Component{api, engine, masakariMonitor("host"), instance, process},
		Jobs:       []Job{dbSync("masakari", "masakari-manage", "--config-file", "/etc/masakari/"+masakariConf, "db", "sync")},
		Features: func(c *Context, f Files) {
			wsgiModuleSince(c, f, uwsgi.Name, "flamingo", "masakari.wsgi.api:application")
			f.Set(masakariConf, "DEFAULT", "os_privileged_user_auth_url", c.KeystoneURL()+"/v3")
			f.Set(masakariConf, "DEFAULT", "os_region_name", c.Spec.Region)
			setCA(c, f, masakariConf, "DEFAULT", "nova_ca_certificates_file")
			// [taskflow] takes the database URL only, none of oslo.db's
			// options.
			f.Delete(masakariConf, "taskflow", "max_retries")
			// The monitors name the region "region", not "region_name".
			f.Set(monitorsConf, "api", "region", c.Spec.Region)
		},
	}
}

// masakariMonitor is the <kind> monitor on every compute node. The host
// monitor needs Pacemaker (remote) on the nodes, the instance monitor the
// libvirt Python binding, the process monitor ps: the community
// masakari-monitors image has none of them, so the monitors run only when
// the deployment sets its own image for them.
func masakariMonitor(kind string) Component {
	c := agent(kind+"-monitor", RoleCompute, hostAgent(whyMasakariMonitor), oslo("masakari-"+kind+"monitor", monitorsDir, monitorsConf), monitorsConf)
	c.Image = "masakari-monitors"
	c.Privileges.HostPID = true
	c.When = func(ctx *Context) bool { return ctx.Spec.Images.Overrides["masakari-monitors"] != "" }
	return c
}

// monitoredProcesses lists the processes the process monitor watches:
// nova-compute, seen through the host's process table. Its "restart"
// always fails, so that after the retries the monitor tells Masakari, which
// disables the compute service.
func monitoredProcesses(*Context) []byte {
	return []byte(fmt.Sprintf(`- process_name: %s/nova-compute
  start_command: "true"
  pre_start_command: ""
  post_start_command: ""
  restart_command: "false"
  pre_restart_command: ""
  post_restart_command: ""
  run_as_root: false
`, openstackBin))
}
