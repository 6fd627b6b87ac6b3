// Package cephkeys is the contract between a Ceph cluster and the
// OpenStack services that use it: the Secret (openstack-ceph-keys by
// default) that says where the cluster is, which pool serves each role
// and the key of each client. osk's Ceph controller writes it; a user
// connecting an external Ceph cluster writes it by hand. Either way osk
// checks it before any consumer starts, and writes each consumer only
// ceph.conf and its own keyring.
package cephkeys

import (
	"fmt"
	"slices"
	"strings"
)

// Keys of the Secret.
// GatewayAdminRole is the Keystone role the RADOS gateway takes for its
// admins, who reach every project's account: Swift's reseller admin, which
// nobody holds until it is granted. osk's object-storage service and the
// CephObjectStore osk renders both set it.
const GatewayAdminRole = "ResellerAdmin"

const (
	// FSID is the cluster's fsid, a UUID.
	FSID = "fsid"
	// MonHost is the monitors' addresses as ceph.conf's "mon host" takes
	// them: comma-separated, each "IP:port", "v1:IP:port", "v2:IP:port"
	// or a bracketed "[v2:IP:port,v1:IP:port]".
	MonHost = "mon-host"
	// RGWInternalURL is the RADOS gateway's URL inside the cluster
	// (http://host:port), registered as the object-store endpoint.
	RGWInternalURL = "rgw-internal-url"
)

// LabelWatched marks the Secret for osk: the operator caches and watches
// only Secrets with this label set to "true", so a change to one rolls
// its consumers at once.
const LabelWatched = "osk.dev/ceph-keys"

// Roles: what a pool holds. The Secret's key "pool.<role>" names the pool.
const (
	RoleImages  = "images"
	RoleVolumes = "volumes"
	RoleVMs     = "vms"
	RoleBackup  = "backup"
	RoleMetrics = "metrics"
)

// Roles lists every role, in documentation order.
var Roles = []string{RoleImages, RoleVolumes, RoleVMs, RoleBackup, RoleMetrics}

// Clients: the Ceph users OpenStack authenticates as (client.<name>). The
// Secret's key "client.<name>.key" holds the user's cephx key.
const (
	// ClientGlance writes images.
	ClientGlance = "glance"
	// ClientCinder writes volumes and instance disks and reads images:
	// cinder-volume, and nova-compute with libvirt, whose volume
	// attachments carry cinder's user and whose disks use the same one.
	ClientCinder = "cinder"
	// ClientCinderBackup writes backups.
	ClientCinderBackup = "cinder-backup"
	// ClientGnocchi writes metrics.
	ClientGnocchi = "gnocchi"
)

// Clients lists every client, in documentation order.
var Clients = []string{ClientGlance, ClientCinder, ClientCinderBackup, ClientGnocchi}

// Pool is the Secret's key naming the pool of a role.
func Pool(role string) string { return "pool." + role }

// ClientKey is the Secret's key holding a client's cephx key.
func ClientKey(client string) string { return "client." + client + ".key" }

// KeyringFile is the file name Ceph's libraries look for a client's key
// under, in /etc/ceph.
func KeyringFile(client string) string { return "ceph.client." + client + ".keyring" }

// ConfFile is the name of the cluster's configuration file, in /etc/ceph.
const ConfFile = "ceph.conf"

// Placeholder stands for a value of the Secret when rendering offline.
func Placeholder(secret, key string) string { return "OSK_PLACEHOLDER_" + secret + "_" + key }

// Conf writes ceph.conf for a client of the cluster: where the monitors
// are, cephx everywhere, and the client's keyring where KeyringFile puts
// it (Ceph's default, written out).
func Conf(fsid, monHost string) []byte {
	return []byte(fmt.Sprintf("[global]\nfsid = %s\nmon host = %s\n"+
		"auth cluster required = cephx\nauth service required = cephx\nauth client required = cephx\n"+
		"keyring = /etc/ceph/$cluster.$name.keyring\n", fsid, monHost))
}

// Keyring writes the keyring of one client.
func Keyring(client, key string) []byte {
	return []byte(fmt.Sprintf("[client.%s]\n\tkey = %s\n", client, key))
}

// Problem is one thing wrong with the Secret.
type Problem struct {
	// Key of the Secret.
	Key string
	// Missing is true when the key is absent or empty.
	Missing bool
	// Detail says what is wrong with a present value.
	Detail string
}

// String says what is wrong, naming the key but never its value.
func (p Problem) String() string {
	if p.Missing {
		return p.Key + " is missing"
	}
	return p.Key + " " + p.Detail
}

// Check checks the keys a deployment reads; data is the Secret's data
// (nil when it does not exist). The problems are sorted by key.
func Check(data map[string][]byte, keys []string) []Problem {
	var out []Problem
	for _, k := range slices.Sorted(slices.Values(keys)) {
		v := strings.TrimSpace(string(data[k]))
		if v == "" {
			out = append(out, Problem{Key: k, Missing: true})
			continue
		}
		if d := checkValue(k, v); d != "" {
			out = append(out, Problem{Key: k, Detail: d})
		}
	}
	return slices.CompactFunc(out, func(a, b Problem) bool { return a.Key == b.Key })
}

// Summary says in one line what the problems are: the missing keys
// together, then each bad value.
func Summary(secret string, problems []Problem) string {
	var missing, bad []string
	for _, p := range problems {
		if p.Missing {
			missing = append(missing, p.Key)
		} else {
			bad = append(bad, p.String())
		}
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "lacks "+strings.Join(missing, ", "))
	}
	parts = append(parts, bad...)
	return "Secret " + secret + " " + strings.Join(parts, "; ")
}

// checkValue says what is wrong with a present value; "" when nothing is.
func checkValue(key, v string) string {
	switch {
	case key == FSID:
		return checkUUID(v)
	case key == MonHost:
		return checkMonHost(v)
	case key == RGWInternalURL:
		return checkURL(v)
	case strings.HasPrefix(key, "pool."):
		return checkPoolName(v)
	case strings.HasPrefix(key, "client.") && strings.HasSuffix(key, ".key"):
		return checkCephxKey(v)
	}
	return ""
}
