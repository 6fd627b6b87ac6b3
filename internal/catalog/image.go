package catalog

import (
	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/cephkeys"
)

func image() *Service {
	return &Service{
		Name:         "image",
		Project:      "glance",
		Description:  "Glance: virtual machine images, stored in Ceph (or a file volume for labs).",
		DependsOn:    []string{"identity"},
		Image:        "glance",
		Databases:    []string{"glance"},
		UpgradeOrder: 3,
		// Rolling, as keystone's: expand and migrate while the old API
		// serves, contract once the new one does.
		Upgrade: &Upgrade{
			Before: []Job{glanceDB("expand"), glanceDB("migrate")},
			After:  []Job{glanceDB("contract")},
		},
		Keystone: &Keystone{User: true, Endpoints: []Endpoint{
			{Type: "image", Name: "glance", Component: "api"},
		}},
		Config: append([]ConfigFile{{
			Name: "glance-api.conf",
			Dir:  "/etc/glance",
			Defaults: v1.OsloFile{
				"DEFAULT":          {"bind_port": "9292", "bind_host": "0.0.0.0"},
				"paste_deploy":     {"flavor": "keystone"},
				"oslo_middleware":  {"enable_proxy_headers_parsing": "true"},
				"oslo_concurrency": {"lock_path": "/var/lib/glance/tmp"},
			},
			Wiring: []Wire{
				{Kind: WireDatabase, Database: "glance"}, {Kind: WireNotifications},
				// No WireCache: Glance does not use oslo.cache.
				{Kind: WireAuthToken}, {Kind: WireLogging},
			},
		}}, cephFiles(glanceFile(false), cephkeys.ClientGlance)...),
		Components: []Component{{
			Name:    "api",
			Kind:    Deployment,
			Role:    RoleControlPlane,
			Scale:   ScaleAPI,
			Profile: ProfileAPI,
			Command: oslo("glance-api", "/etc/glance", "glance-api.conf"),
			Ports:   []Port{{Name: "api", Port: 9292, Public: true}},
			Probe:   httpProbe("/healthcheck"),
			// glance-api stops at once on SIGTERM: the drain is all the grace
			// its requests get.
			DrainSeconds: drainSeconds,
			Reads:        append([]string{"glance-api.conf"}, cephReads(cephkeys.ClientGlance)...),
			Volumes: []Volume{
				{Name: "images", Kind: VolumePersistent, MountPath: "/var/lib/glance/images", Size: "50Gi", When: glanceFile(true)},
			},
			Workers: &Option{File: "glance-api.conf", Section: "DEFAULT", Key: "workers"},
		}},
		Jobs: []Job{
			{Name: "db-sync", Command: oslo("glance-manage", "/etc/glance", "glance-api.conf"),
				Args: func(*Context) []string { return []string{"db_sync"} }, Reads: []string{"glance-api.conf"}, After: []string{"db-init"}},
			{Name: "metadefs-load", Command: oslo("glance-manage", "/etc/glance", "glance-api.conf"),
				Args: func(*Context) []string { return []string{"db_load_metadefs"} }, Reads: []string{"glance-api.conf"}, After: []string{"db-sync"}},
		},
		Features: func(c *Context, f Files) {
			const file = "glance-api.conf"
			if c.Features.Glance.Backend == v1.StoreFile {
				f.Set(file, "glance_store", "stores", "file,http")
				f.Set(file, "glance_store", "default_store", "file")
				f.Set(file, "glance_store", "filesystem_store_datadir", "/var/lib/glance/images")
				return
			}
			// Nova and Cinder clone RBD images copy-on-write only when
			// Glance shows them where an image lives; the file store's
			// paths are no one's business.
			f.Set(file, "DEFAULT", "show_image_direct_url", "true")
			f.Set(file, "glance_store", "stores", "rbd,http")
			f.Set(file, "glance_store", "default_store", "rbd")
			f.Set(file, "glance_store", "rbd_store_pool", c.Ceph(cephkeys.Pool(cephkeys.RoleImages)))
			f.Set(file, "glance_store", "rbd_store_user", cephkeys.ClientGlance)
			f.Set(file, "glance_store", "rbd_store_ceph_conf", cephDir+"/"+cephkeys.ConfFile)
		},
	}
}

// glanceFile returns a When function true when the file store's use is want.
func glanceFile(want bool) func(c *Context) bool {
	return func(c *Context) bool { return (c.Features.Glance.Backend == v1.StoreFile) == want }
}

// glanceDB is one phase of glance's rolling database upgrade.
func glanceDB(phase string) Job {
	return upgradeStep(phase, []string{"glance-api.conf"},
		append(oslo("glance-manage", "/etc/glance", "glance-api.conf"), "db", phase)...)
}
