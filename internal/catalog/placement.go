package catalog

import v1 "github.com/oskproject/osk/api/v1alpha1"

func placement() *Service {
	api, uwsgi := wsgiAPI("placement", "api", 8778, "placement-api", "placement.conf", httpProbe("/"))
	return &Service{
		Name:         "placement",
		Project:      "placement",
		Description:  "Placement: inventories and allocations of resource providers.",
		DependsOn:    []string{"identity"},
		Image:        "placement",
		Databases:    []string{"placement"},
		UpgradeOrder: 2,
		// A later release's schema migrations refuse to run before the
		// online ones of the release before.
		Upgrade: &Upgrade{
			Before: []Job{upgradeStep("db-sync", []string{"placement.conf"}, placementManage("db", "sync")...)},
			After:  []Job{upgradeStep("online-data-migrations", []string{"placement.conf"}, placementManage("db", "online_data_migrations")...)},
		},
		Keystone: &Keystone{User: true, Endpoints: []Endpoint{
			{Type: "placement", Name: "placement", Component: "api"},
		}},
		Config: []ConfigFile{
			mainFile("placement", v1.OsloFile{
				"api":             {"auth_strategy": "keystone"},
				"oslo_middleware": {"enable_proxy_headers_parsing": "true"},
			}, []Wire{
				{Kind: WireDatabase, Section: "placement_database", Database: "placement"},
				{Kind: WireAuthToken}, {Kind: WireLogging},
			}),
			uwsgi,
		},
		Components: []Component{api},
		Jobs:       []Job{dbSync("placement", placementManage("db", "sync")...)},
		Features: func(c *Context, f Files) {
			wsgiModuleSince(c, f, uwsgi.Name, "epoxy", "placement.wsgi.api:application")
		},
	}
}

// placementManage is a placement-manage command reading placement.conf.
func placementManage(args ...string) []string {
	return append(oslo("placement-manage", "/etc/placement", "placement.conf"), args...)
}
