package catalog

import (
	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/cephkeys"
)

const (
	rgwKeystoneConf = "rgw-keystone.conf"
	// rgwSection is the Ceph configuration section of the gateway daemon of
	// Rook's object store "openstack-store" (Rook names it
	// client.rgw.<store, dashes as dots>.a).
	rgwSection = "client.rgw.openstack.store.a"
)

// objectStorage is the Swift API served by Ceph's RADOS gateway, which Rook
// runs outside osk. osk registers the swift user and the object-store
// endpoint, and writes the gateway's Keystone options to rgw-keystone.conf
// for the Ceph side to apply. The gateway authenticates as the swift user;
// its password, which has no place in this file, is the keystone-password
// key of the swift-credentials Secret (Rook's CephObjectStore takes it
// through spec.auth.keystone.serviceUserSecretName, plain Ceph through
// rgw_keystone_admin_password).
func objectStorage() *Service {
	return &Service{
		Name:         "object-storage",
		Project:      "swift",
		Description:  "The Swift API of Ceph's RADOS gateway, registered in Keystone and authenticating through it.",
		DependsOn:    []string{"identity"},
		UpgradeOrder: 12,
		Keystone: &Keystone{User: true, Endpoints: []Endpoint{{
			Type: "object-store", Name: "swift", Host: "swift", Path: "/swift/v1/AUTH_$(project_id)s",
			// The gateway's URL, from the Ceph Secret.
			InternalURL: func(c *Context) string { return c.Ceph(cephkeys.RGWInternalURL) },
		}}},
		Config: []ConfigFile{{
			Name: rgwKeystoneConf,
			Dir:  "/etc/ceph",
			Defaults: v1.OsloFile{rgwSection: {
				"rgw_keystone_api_version":    "3",
				"rgw_keystone_admin_user":     "swift",
				"rgw_keystone_admin_project":  "service",
				"rgw_keystone_admin_domain":   "Default",
				"rgw_keystone_accepted_roles": "member,admin",
				// A gateway admin role reaches every project's account, so
				// it is one role nobody holds by default (Swift's reseller
				// admin); admin above only reaches its own project's.
				"rgw_keystone_accepted_admin_roles": cephkeys.GatewayAdminRole,
				// Each project gets its own RGW tenant, for Swift and S3.
				"rgw_keystone_implicit_tenants": "true",
				// Matches the endpoint's AUTH_$(project_id)s path.
				"rgw_swift_account_in_url":     "true",
				"rgw_swift_versioning_enabled": "true",
				// EC2 credentials from Keystone work for S3.
				"rgw_s3_auth_use_keystone": "true",
			}},
		}},
		Features: func(c *Context, f Files) {
			f.Set(rgwKeystoneConf, rgwSection, "rgw_keystone_url", c.KeystoneURL())
		},
	}
}
