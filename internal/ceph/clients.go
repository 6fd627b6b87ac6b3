package ceph

import (
	"slices"
	"strings"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/cephkeys"
)

// Client is a Ceph user and its capabilities, by daemon type.
type Client struct {
	// Name is the user's name, without "client.".
	Name string
	// Caps are the capabilities, by daemon type (mon, osd, mgr, mds).
	Caps map[string]string
}

// Clients are the Ceph users of a spec: OpenStack's, each with the least
// privilege its service needs on the pools the spec has, then the spec's
// own. A service whose pool the spec lacks gets no user.
//
//   - glance writes images: RBD on the images pool.
//   - cinder writes volumes and, for nova-compute (which attaches volumes
//     and keeps instance disks as cinder's user), the vms pool, and
//     clones images copy-on-write: read-only RBD on images.
//   - cinder-backup writes the backup pool.
//   - gnocchi writes RADOS objects in the metrics pool (RBD's profile
//     grants that on the pool, and no more).
func Clients(s *v1.CephDeploymentSpec) []Client {
	pools := map[string]string{}
	for _, p := range s.Pools {
		if p.Role != "" {
			pools[string(p.Role)] = PoolName(p)
		}
	}
	var out []Client
	rbd := func(name string, rw []string, ro ...string) {
		var osd []string
		for _, r := range rw {
			if p := pools[r]; p != "" {
				osd = append(osd, "profile rbd pool="+p)
			}
		}
		for _, r := range ro {
			if p := pools[r]; p != "" {
				osd = append(osd, "profile rbd-read-only pool="+p)
			}
		}
		out = append(out, Client{Name: name, Caps: map[string]string{"mon": "profile rbd", "osd": strings.Join(osd, ", ")}})
	}
	if pools[cephkeys.RoleImages] != "" {
		rbd(cephkeys.ClientGlance, []string{cephkeys.RoleImages})
	}
	if pools[cephkeys.RoleVolumes] != "" {
		rbd(cephkeys.ClientCinder, []string{cephkeys.RoleVolumes, cephkeys.RoleVMs}, cephkeys.RoleImages)
	}
	if pools[cephkeys.RoleBackup] != "" {
		rbd(cephkeys.ClientCinderBackup, []string{cephkeys.RoleBackup})
	}
	if pools[cephkeys.RoleMetrics] != "" {
		rbd(cephkeys.ClientGnocchi, []string{cephkeys.RoleMetrics})
	}
	for _, c := range s.Clients {
		out = append(out, Client{Name: c.Name, Caps: c.Caps})
	}
	return out
}

// IsOpenStackClient says whether a user is one of OpenStack's.
func IsOpenStackClient(name string) bool { return slices.Contains(cephkeys.Clients, name) }
