package validation_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/yaml"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/validation"
)

// cephExample is the CephDeployment of examples/ceph.yaml.
func cephExample(t *testing.T) *v1.CephDeployment {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "examples", "ceph.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		var d v1.CephDeployment
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("no CephDeployment in examples/ceph.yaml: %v", err)
		}
		if d.Kind == "CephDeployment" {
			return &d
		}
	}
}

// TestValidateCephDeployment checks that each broken rule is named with
// its field.
func TestValidateCephDeployment(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(d *v1.CephDeployment)
		want   []string
	}{
		{"valid", func(*v1.CephDeployment) {}, nil},
		{"name and selector", func(d *v1.CephDeployment) { d.Spec.Nodes[0].Name = "x" }, []string{"spec.nodes[0]", "exactly one of name and selector"}},
		{"no osd", func(d *v1.CephDeployment) {
			d.Spec.Nodes[0].Roles = []v1.CephRole{"mon", "rgw"}
			d.Spec.Nodes[0].Devices = v1.CephDevices{}
		},
			[]string{"spec.nodes: Required value: a node with the osd role"}},
		{"osd without devices", func(d *v1.CephDeployment) { d.Spec.Nodes[0].Devices = v1.CephDevices{} }, []string{"spec.nodes[0].devices", "Required"}},
		{"devices without osd", func(d *v1.CephDeployment) { d.Spec.Nodes[1].Devices.AllFree = true }, []string{"spec.nodes[1].devices", "only a node with the osd role"}},
		{"device path", func(d *v1.CephDeployment) { d.Spec.Nodes[0].Devices.Paths = []string{"sdb"} }, []string{"spec.nodes[0].devices.paths[0]", "under /dev/"}},
		{"unknown role", func(d *v1.CephDeployment) { d.Spec.Nodes[1].Roles = []v1.CephRole{"mds"} }, []string{"spec.nodes[1].roles[0]", "mds"}},
		{"bad CIDR", func(d *v1.CephDeployment) { d.Spec.Network.Public = "10.0.0.0" }, []string{"spec.network.public", "CIDR"}},
		{"pool role twice", func(d *v1.CephDeployment) { d.Spec.Pools[1].Role = "images" }, []string{"spec.pools[1].role", "Duplicate"}},
		{"unknown pool role", func(d *v1.CephDeployment) { d.Spec.Pools[0].Role = "photos" }, []string{"spec.pools[0].role", "photos"}},
		{"pool without name", func(d *v1.CephDeployment) { d.Spec.Pools[5].Name = "" }, []string{"spec.pools[5].name", "needs a name"}},
		{"EC volumes", func(d *v1.CephDeployment) {
			d.Spec.Pools[1].ErasureCoded = &v1.CephErasureCoding{DataChunks: 2, CodingChunks: 1}
		},
			[]string{"spec.pools[1].erasureCoded", "replicated pool"}},
		{"EC metadata", func(d *v1.CephDeployment) {
			d.Spec.ObjectStore.MetadataPool.ErasureCoded = &v1.CephErasureCoding{DataChunks: 2, CodingChunks: 1}
		}, []string{"spec.objectStore.metadataPool.erasureCoded"}},
		{"failure domain", func(d *v1.CephDeployment) { d.Spec.Pools[0].FailureDomain = "planet" }, []string{"spec.pools[0].failureDomain", "planet"}},
		{"ratio", func(d *v1.CephDeployment) { d.Spec.Pools[0].TargetSizeRatio = "0" }, []string{"spec.pools[0].targetSizeRatio", "positive"}},
		{"keystone URL", func(d *v1.CephDeployment) { d.Spec.ObjectStore.Keystone.URL = "keystone:5000" }, []string{"spec.objectStore.keystone.url"}},
		{"object store without rgw", func(d *v1.CephDeployment) { d.Spec.Nodes[0].Roles = []v1.CephRole{"mon", "osd"} },
			[]string{"spec.nodes: Required value: a node with the rgw role"}},
		{"OpenStack's client", func(d *v1.CephDeployment) { d.Spec.Clients[0].Name = "glance" }, []string{"spec.clients[0].name", "OpenStack's Ceph users"}},
		{"caps daemon", func(d *v1.CephDeployment) { d.Spec.Clients[0].Caps["rgw"] = "allow" }, []string{"spec.clients[0].caps[rgw]", "Unsupported"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := cephExample(t)
			tc.mutate(d)
			errs := validation.ValidateCephDeployment(d)
			if tc.want == nil {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				return
			}
			got := errs.ToAggregate()
			if got == nil {
				t.Fatalf("no error, want %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(got.Error(), w) {
					t.Errorf("error %q lacks %q", got, w)
				}
			}
		})
	}
}
