package catalog

import (
	"fmt"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// CephSecretUUID is the libvirt secret that holds the cinder Ceph key on
// compute nodes; cinder and nova must agree on it.
const CephSecretUUID = "457eb676-33da-42ec-9a8c-9293d545c337"

// openstackService is the common shape of an API service with a database
// and a bus: an API under uWSGI, workers, a db-sync job.
type openstackService struct {
	name, project, image, endpointType, wsgi, syncCmd string
	port                                              int32
	path                                              string
	order                                             int
	deps                                              []string
	workers                                           []string
}

func (o openstackService) build() *Service {
	conf := o.project + ".conf"
	dir := "/etc/" + o.project
	api, uwsgi := wsgiAPI(o.project, "api", o.port, o.wsgi, conf, tcpProbe())
	comps := []Component{api}
	for _, w := range o.workers {
		comps = append(comps, worker(w, oslo(o.project+"-"+w, dir, conf), conf))
	}
	return &Service{
		Name: o.name, Project: o.project, Image: o.image, DependsOn: o.deps,
		Databases: []string{o.project}, Messaging: true, UpgradeOrder: o.order,
		Keystone: &Keystone{User: true, Endpoints: []Endpoint{{Type: o.endpointType, Name: o.project, Component: "api", Path: o.path}}},
		Config: []ConfigFile{{Name: conf, Dir: dir,
			Defaults: v1.OsloFile{"oslo_middleware": {"enable_proxy_headers_parsing": "true"}},
			Wiring:   standardWiring(Wire{Kind: WireDatabase, Database: o.project})}, uwsgi},
		Components: comps,
		Jobs:       []Job{{Name: "db-sync", Command: shell(o.syncCmd), Reads: []string{conf}, After: []string{"db-init"}}},
	}
}

func blockStorage() *Service {
	s := openstackService{name: "block-storage", project: "cinder", image: "cinder", endpointType: "volumev3",
		wsgi: "cinder-wsgi", syncCmd: "cinder-manage --config-file /etc/cinder/cinder.conf db sync",
		port: 8776, path: "/v3/$(project_id)s", order: 6, deps: []string{"identity", "coordination"},
		workers: []string{"scheduler", "volume", "backup"}}.build()
	s.Description = "Cinder: block storage volumes in Ceph."
	s.Keystone.Endpoints[0].Name = "cinderv3"
	s.Keystone.Endpoints[0].Host = "cinder"
	s.Config[0].Wiring = append(s.Config[0].Wiring, Wire{Kind: WireCoordination}, Wire{Kind: WireServiceAuth, Section: "nova"})
	for i := range s.Components {
		switch s.Components[i].Name {
		case "volume":
			s.Components[i].Volumes = []Volume{cephVolume}
		case "backup":
			s.Components[i].Volumes = []Volume{cephVolume}
			s.Components[i].When = func(c *Context) bool { return c.Features.Cinder.Backup }
		}
	}
	s.Features = func(c *Context, f Files) {
		f.Set("cinder.conf", "DEFAULT", "enabled_backends", "ceph")
		for k, v := range map[string]string{
			"volume_driver": "cinder.volume.drivers.rbd.RBDDriver", "volume_backend_name": "ceph",
			"rbd_pool": "volumes", "rbd_user": "cinder", "rbd_ceph_conf": "/etc/ceph/ceph.conf", "rbd_secret_uuid": CephSecretUUID,
		} {
			f.Set("cinder.conf", "ceph", k, v)
		}
		if c.Features.Cinder.Backup {
			f.Set("cinder.conf", "DEFAULT", "backup_driver", "cinder.backup.drivers.ceph.CephBackupDriver")
			f.Set("cinder.conf", "DEFAULT", "backup_ceph_pool", "backup")
			f.Set("cinder.conf", "DEFAULT", "backup_ceph_user", "cinder")
		}
	}
	return s
}

func dns() *Service {
	s := openstackService{name: "dns", project: "designate", image: "designate", endpointType: "dns",
		wsgi: "designate-api-wsgi", syncCmd: "designate-manage --config-file /etc/designate/designate.conf database sync",
		port: 9001, order: 8, deps: []string{"identity", "powerdns"},
		workers: []string{"central", "worker", "producer"}}.build()
	s.Description = "Designate: DNS as a service, served by PowerDNS."
	mdns := worker("mdns", oslo("designate-mdns", "/etc/designate", "designate.conf"), "designate.conf")
	mdns.Ports = []Port{{Name: "mdns", Port: 5354}}
	s.Components = append(s.Components, mdns)
	s.Config = append(s.Config, ConfigFile{Name: "pools.yaml", Dir: "/etc/designate", Format: FormatRaw, Generate: designatePools})
	s.Jobs = append(s.Jobs, Job{Name: "pool-update", Reads: []string{"designate.conf", "pools.yaml"}, After: []string{"db-sync"},
		Command: []string{"designate-manage", "--config-file", "/etc/designate/designate.conf", "pool", "update", "--file", "/etc/designate/pools.yaml"}})
	return s
}

// designatePools describes the one PowerDNS pool. The PowerDNS API key is
// read from the environment by the pool-update job.
func designatePools(c *Context) []byte {
	return []byte(fmt.Sprintf(`- name: default
  description: PowerDNS run by osk
  attributes: {}
  ns_records:
    - hostname: ns1.%[1]s.
      priority: 1
  nameservers:
    - host: %[2]s
      port: 53
  targets:
    - type: pdns4
      description: PowerDNS
      masters:
        - host: %[3]s
          port: 5354
      options:
        host: %[2]s
        port: 53
        api_endpoint: http://%[2]s:8081
        api_token: ${POWERDNS_API_KEY}
`, c.Spec.PublicDomainName, c.Host("powerdns", "server"), c.Host("designate", "mdns")))
}

func powerdns() *Service {
	return &Service{
		Name: "powerdns", Project: "powerdns", Image: "powerdns", Infrastructure: true,
		Description: "PowerDNS, the authoritative servers behind Designate.",
		DependsOn:   []string{"database"}, Databases: []string{"powerdns"}, ExtraCredentials: []string{"api-key"},
		Config: []ConfigFile{{Name: "pdns.conf", Dir: "/etc/powerdns", Format: FormatFlat, Defaults: v1.OsloFile{"": {
			"launch": "gmysql", "gmysql-dbname": "powerdns", "gmysql-user": "powerdns", "gmysql-port": "3306",
			"api": "yes", "webserver": "yes", "webserver-address": "0.0.0.0", "webserver-port": "8081",
			"webserver-allow-from": "0.0.0.0/0", "local-address": "0.0.0.0", "local-port": "53",
		}}}},
		Features: func(c *Context, f Files) { f.Set("pdns.conf", "", "gmysql-host", c.Host("mariadb", "server")) },
		Components: []Component{{
			Name: "server", Kind: Deployment, Role: RoleControlPlane, Scale: ScaleWorker, Profile: ProfileLight,
			Command: []string{"pdns_server", "--config-dir=/etc/powerdns", "--gmysql-password=$(DB_PASSWORD)", "--api-key=$(API_KEY)"},
			Ports:   []Port{{Name: "dns", Port: 53}, {Name: "api", Port: 8081}},
			Probe:   tcpProbe(),
			Reads:   []string{"pdns.conf"},
			Env: []Env{{Name: "DB_PASSWORD", Secret: CredentialSecret("powerdns"), Key: KeyDatabasePassword},
				{Name: "API_KEY", Secret: CredentialSecret("powerdns"), Key: "api-key"}},
		}},
	}
}

func loadBalancer() *Service {
	s := openstackService{name: "load-balancer", project: "octavia", image: "octavia", endpointType: "load-balancer",
		wsgi: "octavia-wsgi", syncCmd: "octavia-db-manage --config-file /etc/octavia/octavia.conf upgrade head",
		port: 9876, order: 7, deps: []string{"identity", "networking", "compute"},
		workers: []string{"worker", "housekeeping"}}.build()
	s.Description = "Octavia: load balancers run as amphora instances."
	s.Config[0].Wiring = append(s.Config[0].Wiring, Wire{Kind: WireServiceAuth, Section: "service_auth"})
	for i := range s.Components[1:] {
		s.Components[i+1].Role = RoleGateway
	}
	hm := agent("health-manager", RoleGateway, oslo("octavia-health-manager", "/etc/octavia", "octavia.conf"), "octavia.conf")
	hm.Privileged = false
	s.Components = append(s.Components, hm)
	return s
}

func keyManager() *Service {
	s := openstackService{name: "key-manager", project: "barbican", image: "barbican", endpointType: "key-manager",
		wsgi: "barbican-wsgi-api", syncCmd: "barbican-manage db upgrade",
		port: 9311, order: 9, deps: []string{"identity"}, workers: []string{"worker"}}.build()
	s.Description = "Barbican: secrets and keys, encrypted with a key osk generates."
	s.ExtraCredentials = []string{"kek"}
	// oslo.config reads OS_<SECTION>__<OPTION> from the environment, so
	// the key-encryption key never enters a file.
	kek := Env{Name: "OS_SIMPLE_CRYPTO_PLUGIN__KEK", Secret: CredentialSecret("barbican"), Key: "kek"}
	for i := range s.Components {
		s.Components[i].Env = append(s.Components[i].Env, kek)
	}
	s.Config[0].Defaults["secretstore"] = map[string]string{"enabled_secretstore_plugins": "store_crypto"}
	s.Config[0].Defaults["crypto"] = map[string]string{"enabled_crypto_plugins": "simple_crypto"}
	return s
}

func orchestration() *Service {
	s := openstackService{name: "orchestration", project: "heat", image: "heat", endpointType: "orchestration",
		wsgi: "heat-wsgi-api", syncCmd: "heat-manage --config-file /etc/heat/heat.conf db_sync",
		port: 8004, path: "/v1/$(project_id)s", order: 10, deps: []string{"identity"}, workers: []string{"engine"}}.build()
	s.Description = "Heat: orchestration of stacks from templates."
	cfn, cfnUWSGI := wsgiAPI("heat", "cfn", 8000, "heat-wsgi-api-cfn", "heat.conf", tcpProbe())
	s.Components = append(s.Components, cfn)
	s.Config = append(s.Config, cfnUWSGI)
	s.Keystone.Endpoints = append(s.Keystone.Endpoints, Endpoint{Type: "cloudformation", Name: "heat-cfn", Component: "cfn", Path: "/v1"})
	s.Keystone.Roles = []string{"heat_stack_owner", "heat_stack_user"}
	s.Keystone.Domain = &Domain{Name: "heat", AdminUser: "heat_domain_admin"}
	s.Config[0].Defaults["DEFAULT"] = map[string]string{"stack_user_domain_name": "heat", "stack_domain_admin": "heat_domain_admin"}
	s.Config[0].Wiring = append(s.Config[0].Wiring, Wire{Kind: WireServiceAuth, Section: "trustee"})
	domainPW := Env{Name: "OS_DEFAULT__STACK_DOMAIN_ADMIN_PASSWORD", Secret: CredentialSecret("heat"), Key: KeyDomainPassword}
	for i := range s.Components {
		s.Components[i].Env = append(s.Components[i].Env, domainPW)
	}
	s.CronJobs = []CronJob{{Name: "purge-deleted", Schedule: "0 3 * * *", Reads: []string{"heat.conf"},
		Command: []string{"heat-manage", "--config-file", "/etc/heat/heat.conf", "purge_deleted", "-g", "days", "30"}}}
	return s
}

func instanceHA() *Service {
	s := openstackService{name: "instance-ha", project: "masakari", image: "masakari", endpointType: "instance-ha",
		wsgi: "masakari-wsgi", syncCmd: "masakari-manage --config-file /etc/masakari/masakari.conf db sync",
		port: 15868, path: "/v1/$(project_id)s", order: 13, deps: []string{"identity", "compute"}, workers: []string{"engine"}}.build()
	s.Description = "Masakari: restarts instances of failed hosts, with monitors on every compute node."
	s.Config = append(s.Config, ConfigFile{Name: "masakarimonitors.conf", Dir: "/etc/masakarimonitors",
		Wiring: []Wire{{Kind: WireServiceAuth, Section: "api"}, {Kind: WireLogging}}})
	for _, m := range []string{"host", "instance", "process"} {
		c := agent(m+"-monitor", RoleCompute, oslo("masakari-"+m+"monitor", "/etc/masakarimonitors", "masakarimonitors.conf"), "masakarimonitors.conf")
		c.Image, c.HostPID = "masakari-monitors", true
		c.Volumes = []Volume{{Name: "libvirt-run", Kind: VolumeHostPath, Source: "/run/libvirt", MountPath: "/run/libvirt"}}
		s.Components = append(s.Components, c)
	}
	return s
}

func objectStorage() *Service {
	return &Service{
		Name: "object-storage", Project: "swift", Image: "osk", UpgradeOrder: 12,
		Description: "The Swift API served by Ceph's RADOS gateway: osk registers it and writes its Keystone settings.",
		DependsOn:   []string{"identity"},
		Keystone: &Keystone{User: true, Endpoints: []Endpoint{{Type: "object-store", Name: "swift", Host: "swift", Port: 8080,
			InternalHost: "rook-ceph-rgw-openstack-store.rook-ceph.svc", Path: "/swift/v1/AUTH_$(project_id)s"}}},
		// Read by the Ceph side; Rook's RGW takes these options.
		Config: []ConfigFile{{Name: "rgw-keystone.conf", Dir: "/etc/ceph", Defaults: v1.OsloFile{"client.rgw.openstack.store": {
			"rgw_keystone_api_version": "3", "rgw_keystone_admin_user": "swift", "rgw_keystone_admin_project": "service",
			"rgw_keystone_admin_domain": "Default", "rgw_keystone_accepted_roles": "member,admin",
			"rgw_keystone_implicit_tenants": "true", "rgw_swift_account_in_url": "true", "rgw_s3_auth_use_keystone": "true",
		}}}},
		Features: func(c *Context, f Files) {
			f.Set("rgw-keystone.conf", "client.rgw.openstack.store", "rgw_keystone_url", c.KeystoneURL())
		},
	}
}

func dashboard() *Service {
	return &Service{
		Name: "dashboard", Project: "horizon", Image: "horizon", UpgradeOrder: 11,
		Description: "Horizon, the web dashboard.", DependsOn: []string{"identity", "memcached"},
		ExtraCredentials: []string{"secret-key"},
		Config: []ConfigFile{{Name: "local_settings.py", Dir: "/etc/openstack-dashboard", Format: FormatFlat, Defaults: v1.OsloFile{"": {
			"ALLOWED_HOSTS":                   "['*']",
			"SECRET_KEY":                      `__import__("os").environ["HORIZON_SECRET_KEY"]`,
			"SESSION_ENGINE":                  `"django.contrib.sessions.backends.cache"`,
			"OPENSTACK_KEYSTONE_DEFAULT_ROLE": `"member"`,
			"USE_X_FORWARDED_HOST":            "True",
		}}}},
		Features: func(c *Context, f Files) {
			f.Set("local_settings.py", "", "OPENSTACK_KEYSTONE_URL", fmt.Sprintf("%q", c.KeystoneURL()+"/v3"))
			f.Set("local_settings.py", "", "CACHES", fmt.Sprintf(`{"default": {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache", "LOCATION": "%s"}}`,
				c.Host("memcached", "server")+":11211"))
		},
		Components: []Component{{
			Name: "server", Kind: Deployment, Role: RoleControlPlane, Scale: ScaleAPI, Profile: ProfileAPI,
			Command: shell("exec apache2 -DFOREGROUND"),
			Ports:   []Port{{Name: "http", Port: 80, Public: true, Host: "horizon"}},
			Probe:   httpProbe("/"),
			Reads:   []string{"local_settings.py"},
			Env:     []Env{{Name: "HORIZON_SECRET_KEY", Secret: CredentialSecret("horizon"), Key: "secret-key"}},
		}},
	}
}

func tempest() *Service {
	return &Service{
		Name: "tempest", Project: "tempest", Image: "tempest", Last: true,
		Description: "Tempest: runs the OpenStack test suite against the cloud, results on a volume.",
		DependsOn:   []string{"identity"},
		Config: []ConfigFile{{Name: "tempest.conf", Dir: "/etc/tempest", Defaults: v1.OsloFile{
			"auth": {"admin_username": "admin", "admin_project_name": "admin", "admin_domain_name": "Default", "use_dynamic_credentials": "true"},
		}}},
		Features: func(c *Context, f Files) {
			f.Set("tempest.conf", "identity", "uri_v3", c.KeystoneURL()+"/v3")
			f.Set("tempest.conf", "identity", "region", c.Spec.Region)
			for svc, project := range map[string]string{"compute": "nova", "networking": "neutron", "image": "glance", "block-storage": "cinder",
				"orchestration": "heat", "dns": "designate", "load-balancer": "octavia", "key-manager": "barbican", "dashboard": "horizon", "object-storage": "swift"} {
				f.Set("tempest.conf", "service_available", project, fmt.Sprint(c.Enabled(svc)))
			}
		},
		Jobs: []Job{{Name: "run", Reads: []string{"tempest.conf"},
			Volumes: []Volume{{Name: "results", Kind: VolumePersistent, MountPath: "/var/lib/tempest", Size: "1Gi"}},
			Env:     []Env{{Name: "OS_AUTH__ADMIN_PASSWORD", Secret: AdminSecret, Key: KeyPassword}},
			Command: shell("cd /var/lib/tempest && { [ -d cloud ] || tempest init cloud; } && cd cloud && " +
				"tempest run --config-file /etc/tempest/tempest.conf --smoke --subunit > results-$(date +%s).subunit")}},
	}
}

func telemetry() []*Service {
	part := func(s *Service) *Service { s.PartOf, s.UpgradeOrder = "telemetry", 14; return s }
	metric := openstackService{name: "telemetry-metric", project: "gnocchi", image: "gnocchi", endpointType: "metric",
		wsgi: "gnocchi-api", syncCmd: "gnocchi-upgrade --config-file /etc/gnocchi/gnocchi.conf",
		port: 8041, deps: []string{"identity"}, workers: []string{"metricd"}}.build()
	metric.Messaging = false
	metric.Config[0].Wiring = []Wire{{Kind: WireDatabase, Section: "indexer", Database: "gnocchi"}, {Kind: WireAuthToken}, {Kind: WireLogging}}
	metric.Config[0].Defaults["storage"] = map[string]string{"driver": "ceph", "ceph_pool": "gnocchi", "ceph_username": "gnocchi", "ceph_conffile": "/etc/ceph/ceph.conf"}
	for i := range metric.Components {
		metric.Components[i].Volumes = []Volume{cephVolume}
	}
	alarming := openstackService{name: "telemetry-alarming", project: "aodh", image: "aodh", endpointType: "alarming",
		wsgi: "aodh-api", syncCmd: "aodh-dbsync --config-file /etc/aodh/aodh.conf",
		port: 8042, deps: []string{"identity"}, workers: []string{"evaluator", "listener", "notifier"}}.build()
	alarming.Config[0].Wiring = append(alarming.Config[0].Wiring, Wire{Kind: WireServiceAuth, Section: "service_credentials"})
	metering := &Service{
		Name: "telemetry-metering", Project: "ceilometer", Image: "ceilometer", DependsOn: []string{"identity", "telemetry-metric"},
		Messaging: true, Keystone: &Keystone{User: true},
		Config: []ConfigFile{{Name: "ceilometer.conf", Dir: "/etc/ceilometer",
			Wiring: []Wire{{Kind: WireMessaging}, {Kind: WireNotifications}, {Kind: WireServiceAuth, Section: "service_credentials"}, {Kind: WireLogging}}},
			{Name: "polling.yaml", Dir: "/etc/ceilometer", Format: FormatRaw, Generate: func(c *Context) []byte {
				return []byte(fmt.Sprintf("sources:\n  - name: all\n    interval: %d\n    meters: ['*']\n", c.Features.Telemetry.Interval))
			}}},
		Components: []Component{
			worker("central", oslo("ceilometer-polling", "/etc/ceilometer", "ceilometer.conf"), "ceilometer.conf", "polling.yaml"),
			worker("notification", oslo("ceilometer-agent-notification", "/etc/ceilometer", "ceilometer.conf"), "ceilometer.conf"),
			agent("compute", RoleCompute, append(oslo("ceilometer-polling", "/etc/ceilometer", "ceilometer.conf"), "--polling-namespaces", "compute"),
				"ceilometer.conf", "polling.yaml"),
		},
		Jobs: []Job{{Name: "upgrade", Command: oslo("ceilometer-upgrade", "/etc/ceilometer", "ceilometer.conf"),
			Reads: []string{"ceilometer.conf"}, After: []string{"keystone-register"}}},
	}
	// Panko, the event store, was retired upstream after Wallaby; none of
	// the releases osk supports ships it, so it never runs.
	event := &Service{Name: "telemetry-event", Project: "panko", Image: "panko", DependsOn: []string{"identity"},
		Releases: &ReleaseRange{Until: "wallaby"}}
	for _, s := range []*Service{metric, alarming, metering, event} {
		part(s)
	}
	metric.Description = "Gnocchi: the metric store of telemetry."
	alarming.Description = "Aodh: alarms on telemetry."
	metering.Description = "Ceilometer: polls and collects meters."
	event.Description = "Panko: the event store (retired upstream after Wallaby)."
	return []*Service{metric, alarming, metering, event}
}
