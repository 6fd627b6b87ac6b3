package catalog

import (
	"slices"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/cephkeys"
)

// CephSecretUUID is the libvirt secret that holds the Ceph key of cinder's
// client on compute nodes: cinder.conf's [ceph] rbd_secret_uuid, which
// cinder hands to nova with every attachment (with its user, client.cinder;
// both win over nova.conf's), and nova.conf's [libvirt] rbd_secret_uuid,
// which instance disks use with the same user. One key and one libvirt
// secret serve both; nova-compute's libvirt-secret container keeps it
// defined.
const CephSecretUUID = "457eb676-33da-42ec-9a8c-9293d545c337"

const (
	cinderConf = "cinder.conf"
	// cinderRootwrap is read by cinder-volume and cinder-backup, which run
	// qemu-img and os-brick's privsep helper as root.
	cinderRootwrap = "rootwrap.conf"
)

// blockStorage is Cinder with volumes, and optionally their backups, in
// Ceph. Every cinder-volume replica reports the same backend host, so
// volumes do not belong to a pod; etcd coordinates them.
func blockStorage() *Service {
	api, uwsgi := wsgiAPI("cinder", "api", 8776, "cinder-wsgi", cinderConf, httpProbe("/"))
	volume, backup := daemon("cinder", "volume"), daemon("cinder", "backup")
	volume.Reads = append(volume.Reads, cephReads(cephkeys.ClientCinder)...)
	// The backup service reads the volumes it backs up as cinder and
	// writes the backup pool as cinder-backup.
	backup.Reads = append(backup.Reads, cephReads(cephkeys.ClientCinder, cephkeys.ClientCinderBackup)...)
	for _, c := range []*Component{&volume, &backup} {
		c.Reads = append(c.Reads, cinderRootwrap)
		c.Privileges = &Privileges{Root: true, Capabilities: []string{"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"},
			Why: "converts images with qemu-img and changes the owner of volume files through rootwrap (sudo) as root, " +
				"which needs sudo's user switch and root's file access, not the host"}
	}
	backup.When = cinderBackup
	return &Service{
		Name:         "block-storage",
		Project:      "cinder",
		Description:  "Cinder: block storage volumes, and optionally their backups, in Ceph.",
		DependsOn:    []string{"identity", "coordination"},
		Image:        "cinder",
		Databases:    []string{"cinder"},
		Messaging:    true,
		UpgradeOrder: 6,
		// The old release's service records pin cinder's RPC and object
		// versions; once they are gone the online migrations run (the next
		// release's schema assumes them), and the services restart to
		// take the new versions up.
		Upgrade: &Upgrade{
			Before: []Job{upgradeStep("db-sync", []string{cinderConf}, cinderManage("db", "sync")...)},
			After: []Job{
				upgradeStep("remove-old-services", []string{cinderConf}, shell(removeOldCinderServices)...),
				upgradeStep("online-data-migrations", []string{cinderConf}, cinderManage("db", "online_data_migrations")...),
			},
			RestartAfter: true,
		},
		Keystone: &Keystone{User: true, Endpoints: []Endpoint{
			{Type: "volumev3", Name: "cinderv3", Component: "api", Path: "/v3/$(project_id)s", Host: "cinder"},
		}},
		Config: append([]ConfigFile{
			mainFile("cinder", v1.OsloFile{
				"DEFAULT": {
					"api_paste_config":            openstackEtc + "/cinder/api-paste.ini",
					"resource_query_filters_file": openstackEtc + "/cinder/resource_filters.json",
					"state_path":                  "/var/lib/cinder",
					"glance_catalog_info":         "image:glance:internalURL",
					"rootwrap_config":             "/etc/cinder/" + cinderRootwrap,
					// The scheduler answers its liveness check's pings.
					"rpc_ping_enabled": "true",
				},
				"nova":             {"interface": "internal"},
				"service_user":     {"send_service_user_token": "true"},
				"oslo_concurrency": {"lock_path": "/var/lib/cinder/tmp"},
				"oslo_middleware":  {"enable_proxy_headers_parsing": "true"},
			}, standardWiring(
				Wire{Kind: WireDatabase, Database: "cinder"},
				Wire{Kind: WireCoordination},
				// cinder calls nova (volume events, assisted snapshots) as
				// its service user, and passes service tokens along.
				Wire{Kind: WireServiceAuth, Section: "nova"},
				Wire{Kind: WireServiceAuth, Section: "service_user", NoRegion: true},
			)),
			uwsgi,
			{Name: cinderRootwrap, Dir: "/etc/cinder", Defaults: v1.OsloFile{"DEFAULT": {
				"filters_path": openstackEtc + "/cinder/rootwrap.d",
				"exec_dirs":    openstackBin + ",/usr/local/sbin,/usr/local/bin,/usr/sbin,/usr/bin,/sbin,/bin",
				"use_syslog":   "false",
			}}},
		}, slices.Concat(cephFiles(always, cephkeys.ClientCinder), cephFiles(cinderBackup, cephkeys.ClientCinderBackup)[1:])...),
		Components: []Component{api, rpcServer(daemon("cinder", "scheduler"), "cinder-scheduler", "/etc/cinder/"+cinderConf, "cinder-scheduler"), volume, backup},
		Jobs:       []Job{dbSync("cinder", cinderManage("db", "sync")...)},
		Features:   cinderFeatures(uwsgi.Name),
	}
}

// cinderBackup says whether cinder-backup runs.
func cinderBackup(c *Context) bool { return c.Features.Cinder.Backup }

// cinderManage is a cinder-manage command reading cinder.conf.
func cinderManage(args ...string) []string {
	return append(oslo("cinder-manage", "/etc/cinder", cinderConf), args...)
}

// removeOldCinderServices removes the service records of the pods an
// upgrade replaced: until they are gone, cinder pins its RPC and object
// versions to the old release's. The replaced pods stop reporting; once
// service_down_time (cinder.conf's, 60 s by default) has passed, cinder
// lists them as down (XXX, the fifth column) and they are removed. A
// service that is down for another reason registers again when it comes
// back. The listing is captured first, so that its failure fails the job.
const removeOldCinderServices = `conf=/etc/cinder/` + cinderConf + `
m="cinder-manage --config-file $conf"
down=$(sed -n 's/^service_down_time *= *//p' $conf)
sleep $(( ${down:-60} + 15 ))
list=$($m service list)
printf '%s\n' "$list" | awk 'NR > 1 && $5 == "XXX" {print $1, $2}' | while read -r binary host; do
  $m service remove "$binary" "$host"
done`

// cinderFeatures sets the Ceph backend, backups and the key manager.
func cinderFeatures(uwsgi string) func(c *Context, f Files) {
	return func(c *Context, f Files) {
		wsgiModuleSince(c, f, uwsgi, "epoxy", "cinder.wsgi.api:application")
		// The only backend is Ceph (features.cinder.backend: ceph).
		f.Set(cinderConf, "DEFAULT", "enabled_backends", "ceph")
		setAll(f, cinderConf, "ceph", map[string]string{
			"volume_driver":                    "cinder.volume.drivers.rbd.RBDDriver",
			"volume_backend_name":              "ceph",
			"backend_host":                     "cinder-volume",
			"rbd_pool":                         c.Ceph(cephkeys.Pool(cephkeys.RoleVolumes)),
			"rbd_user":                         cephkeys.ClientCinder,
			"rbd_ceph_conf":                    cephDir + "/" + cephkeys.ConfFile,
			"rbd_secret_uuid":                  CephSecretUUID,
			"report_discard_supported":         "true",
			"rbd_flatten_volume_from_snapshot": "false",
		})
		if c.Features.Cinder.Backup {
			setAll(f, cinderConf, "DEFAULT", map[string]string{
				"backup_driver":    "cinder.backup.drivers.ceph.CephBackupDriver",
				"backup_ceph_conf": cephDir + "/" + cephkeys.ConfFile,
				"backup_ceph_user": cephkeys.ClientCinderBackup,
				"backup_ceph_pool": c.Ceph(cephkeys.Pool(cephkeys.RoleBackup)),
				// cinder-backup tells the schedulers its driver works only
				// with its periodic report (its first one, at start, comes
				// before the driver is set up): schedulers refuse every
				// backup until then, a minute by default after each start.
				"backup_driver_stats_polling_interval": "10",
			})
		}
		if c.Enabled("key-manager") {
			// Encrypted volumes keep their keys in Barbican (castellan).
			f.Set(cinderConf, "key_manager", "backend", "barbican")
			f.Set(cinderConf, "barbican", "auth_endpoint", c.KeystoneURL()+"/v3")
			f.Set(cinderConf, "barbican", "barbican_endpoint_type", "internal")
			f.Set(cinderConf, "barbican", "barbican_region_name", c.Spec.Region)
			setCA(c, f, cinderConf, "barbican", "verify_ssl_path")
		}
	}
}
