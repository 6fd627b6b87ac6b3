package catalog

import v1 "github.com/oskproject/osk/api/v1alpha1"

const heatConf = "heat.conf"

// orchestration is Heat: the native and the CloudFormation-compatible APIs
// and the engine. Users Heat creates inside stacks live in the "heat"
// domain, which heat_domain_admin administers; deferred operations run on
// trusts held by the heat service user ([trustee]).
func orchestration() *Service {
	api, apiUWSGI := wsgiAPI("heat", "api", 8004, "heat-wsgi-api", heatConf, httpProbe("/"))
	cfn, cfnUWSGI := wsgiAPI("heat", "cfn", 8000, "heat-wsgi-api-cfn", heatConf, httpProbe("/"))
	engine := rpcServer(sized(daemon("heat", "engine"), heatConf, "DEFAULT", "num_engine_workers"), "heat-engine", "/etc/heat/"+heatConf, "engine")
	// oslo.config's environment source keeps the password out of heat.conf.
	domainPassword := Env{Name: "OS_DEFAULT__STACK_DOMAIN_ADMIN_PASSWORD", Secret: CredentialSecret("heat"), Key: KeyDomainPassword}
	for _, c := range []*Component{&api, &cfn, &engine} {
		c.Env = append(c.Env, domainPassword)
	}
	manage := []string{"heat-manage", "--config-file", "/etc/heat/" + heatConf}
	return &Service{
		Name:         "orchestration",
		Project:      "heat",
		Description:  "Heat: orchestration of stacks described by templates.",
		DependsOn:    []string{"identity"},
		Image:        "heat",
		Databases:    []string{"heat"},
		Messaging:    true,
		UpgradeOrder: 10,
		Keystone: &Keystone{
			User: true,
			Endpoints: []Endpoint{
				{Type: "orchestration", Name: "heat", Component: "api", Path: "/v1/$(project_id)s"},
				{Type: "cloudformation", Name: "heat-cfn", Component: "cfn", Path: "/v1"},
			},
			Roles:  []string{"heat_stack_owner", "heat_stack_user"},
			Domain: &Domain{Name: "heat", AdminUser: "heat_domain_admin"},
		},
		Config: []ConfigFile{
			mainFile("heat", v1.OsloFile{
				"DEFAULT": {
					"stack_user_domain_name": "heat",
					"stack_domain_admin":     "heat_domain_admin",
					// The global environment (resource aliases) Heat ships.
					"environment_dir": openstackEtc + "/heat/environment.d",
					"template_dir":    openstackEtc + "/heat/templates",
					// The engine answers its liveness check's pings.
					"rpc_ping_enabled": "true",
				},
				"paste_deploy":    {"api_paste_config": openstackEtc + "/heat/api-paste.ini"},
				"clients":         {"endpoint_type": "internalURL"},
				"oslo_middleware": {"enable_proxy_headers_parsing": "true"},
			}, standardWiring(
				Wire{Kind: WireCache},
				Wire{Kind: WireDatabase, Database: "heat"},
				Wire{Kind: WireServiceAuth, Section: "trustee", NoRegion: true, NoSession: true},
			)),
			apiUWSGI, cfnUWSGI,
		},
		Components: []Component{api, cfn, engine},
		Jobs:       []Job{dbSync("heat", append(manage, "db_sync")...)},
		CronJobs: []CronJob{{
			// Soft-deleted stacks stay in the database until purged.
			Name:     "purge-deleted",
			Schedule: "17 3 * * *",
			Command:  append(manage, "purge_deleted", "-g", "days", "30"),
			Reads:    []string{heatConf},
		}},
		Features: func(c *Context, f Files) {
			wsgiModuleSince(c, f, apiUWSGI.Name, "epoxy", "heat.wsgi.api:application")
			wsgiModuleSince(c, f, cfnUWSGI.Name, "epoxy", "heat.wsgi.cfn:application")
			setAll(f, heatConf, "DEFAULT", map[string]string{
				"region_name_for_services": c.Spec.Region,
				// Instances reach these through the public endpoints.
				"heat_metadata_server_url":      c.PublicURL("heat-cfn", ""),
				"heat_waitcondition_server_url": c.PublicURL("heat-cfn", "/v1/waitcondition"),
			})
			// Unversioned; Heat discovers the v3 API from it.
			f.Set(heatConf, "clients_keystone", "auth_uri", c.KeystoneURL())
			// Heat's clients reach the internal endpoints (endpoint_type).
			setCA(c, f, heatConf, "clients", "ca_file")
		},
	}
}
