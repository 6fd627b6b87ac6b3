package catalog

import (
	"strings"

	"github.com/oskproject/osk/internal/release"
)

// openstackRegistry hosts the OpenStack-Helm community images.
const openstackRegistry = "quay.io/airshipit"

// openstackImages are the images built per OpenStack release; their tag is
// the release's.
var openstackImages = []string{
	"keystone", "glance", "cinder", "neutron", "placement", "nova", "horizon",
	"designate", "octavia", "heat", "barbican", "masakari", "masakari-monitors",
	"aodh", "ceilometer", "gnocchi", "panko", "tempest", "libvirt",
}

// infraImages are the images that do not follow the OpenStack release.
var infraImages = map[string]string{
	"mariadb":   "docker.io/library/mariadb:10.11",
	"rabbitmq":  "docker.io/library/rabbitmq:3.13-management",
	"memcached": "docker.io/library/memcached:1.6",
	"etcd":      "quay.io/coreos/etcd:v3.5.21",
	"ingress":   "registry.k8s.io/ingress-nginx/controller:v1.12.1",
	// A dated weekly build of OpenStack-Helm's image, not the moving
	// latest-ubuntu_jammy.
	"openvswitch": "quay.io/airshipit/openvswitch:ubuntu_jammy-20250303",
	"ovn":         "quay.io/airshipit/ovn:ubuntu_jammy",
	"powerdns":    "docker.io/powerdns/pdns-auth-49:4.9.4",
	"pause":       "registry.k8s.io/pause:3.10",
	// StackLight's exporters.
	"mysqld-exporter": "quay.io/prometheus/mysqld-exporter:v0.15.1",
	// Kolla's libvirt exporter image (/opt/libvirt-exporter): a build of
	// an exporter of Kumina's line, whose 0.2.0 Debian packages and the
	// bed runs in its place; the image itself is not run here.
	"libvirt-exporter": "quay.io/openstack.kolla/prometheus-libvirt-exporter:2024.1-ubuntu-jammy",
	// StackLight's log shipper: the syslog-ng project's image of the
	// version Debian bookworm ships (3.38.1), which the bed runs.
	"syslog-ng": "docker.io/balabit/syslog-ng:3.38.1",
}

// OskVersion is osk's version, stamped at build time with
// -ldflags "-X github.com/oskproject/osk/internal/catalog.OskVersion=...";
// osk's own image is the one of this version.
var OskVersion = "dev"

// oskRepository is where osk's image is published, one tag per version.
const oskRepository = "ghcr.io/oskproject/osk"

// OskImage is osk's image of this build's version.
func OskImage() string { return oskRepository + ":" + OskVersion }

// DefaultImages returns every image of a release by catalog image name.
func DefaultImages(r release.Release) map[string]string {
	images := make(map[string]string, len(openstackImages)+len(infraImages)+1)
	for _, name := range openstackImages {
		images[name] = openstackRegistry + "/" + name + ":" + r.ImageTag
	}
	for name, ref := range infraImages {
		images[name] = ref
	}
	images["osk"] = OskImage()
	return images
}

// Rehome moves an image reference to another registry prefix, keeping its
// last path element and tag: Rehome("quay.io/airshipit/nova:2024.1",
// "mirror.example.com/osh") is "mirror.example.com/osh/nova:2024.1".
func Rehome(ref, registry string) string {
	if registry == "" {
		return ref
	}
	return strings.TrimSuffix(registry, "/") + "/" + ref[strings.LastIndex(ref, "/")+1:]
}
