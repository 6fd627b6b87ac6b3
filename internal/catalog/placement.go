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
		Jobs:       []Job{dbSync("placement", "placement-manage", "--config-file", "/etc/placement/placement.conf", "db", "sync")},
		Features: func(c *Context, f Files) {
			wsgiModuleSince(c, f, uwsgi.Name, "epoxy", "placement.wsgi.api:application")
		},
	}
}
