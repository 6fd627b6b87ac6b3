package validation_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/defaulting"
	"github.com/oskproject/osk/internal/validation"
)

func valid() *v1.OpenStackDeployment {
	d := &v1.OpenStackDeployment{Spec: v1.OpenStackDeploymentSpec{
		OpenStackVersion: "caracal", Preset: v1.PresetCore, Size: v1.SizeTiny, PublicDomainName: "cloud.example.com",
	}}
	d.Name, d.Namespace = "test", "openstack"
	return d
}

func ptr[T any](v T) *T { return &v }

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(d *v1.OpenStackDeployment)
		// want are substrings of the error: the field path and the rule.
		want []string
	}{
		{"valid", func(*v1.OpenStackDeployment) {}, nil},
		{"unknown release", func(d *v1.OpenStackDeployment) { d.Spec.OpenStackVersion = "kilo" },
			[]string{"spec.openstackVersion", "kilo", "caracal"}},
		{"node agents' namespace not a name", func(d *v1.OpenStackDeployment) { d.Spec.Features.NodeAgents.Namespace = "Agents_NS" },
			[]string{"spec.features.nodeAgents.namespace", "Agents_NS", "RFC 1123"}},
		{"unknown preset", func(d *v1.OpenStackDeployment) { d.Spec.Preset = "huge" }, []string{"spec.preset", "huge"}},
		{"unknown size", func(d *v1.OpenStackDeployment) { d.Spec.Size = "xl" }, []string{"spec.size"}},
		{"missing domain", func(d *v1.OpenStackDeployment) { d.Spec.PublicDomainName = "" }, []string{"spec.publicDomainName", "Required"}},
		{"bad domain", func(d *v1.OpenStackDeployment) { d.Spec.PublicDomainName = "Not A Domain" }, []string{"spec.publicDomainName"}},
		{"unknown service", func(d *v1.OpenStackDeployment) { d.Spec.Features.Services = []string{"bogus"} },
			[]string{"spec.features.services[0]", "bogus", "supported values"}},
		{"compute without networking", func(d *v1.OpenStackDeployment) { d.Spec.Features.DisabledServices = []string{"networking"} },
			[]string{"spec.features.services", "compute requires networking"}},
		{"compute without placement", func(d *v1.OpenStackDeployment) { d.Spec.Features.DisabledServices = []string{"placement"} },
			[]string{"compute requires placement"}},
		{"negative replicas", func(d *v1.OpenStackDeployment) {
			d.Spec.Services = map[string]v1.ServiceOverride{"compute": {Components: map[string]v1.ComponentOverride{"api": {Replicas: ptr[int32](-1)}}}}
		}, []string{"spec.services[compute].components[api].replicas", "0 or more"}},
		{"replicas of a DaemonSet", func(d *v1.OpenStackDeployment) {
			d.Spec.Services = map[string]v1.ServiceOverride{"compute": {Components: map[string]v1.ComponentOverride{"compute": {Replicas: ptr[int32](3)}}}}
		}, []string{"spec.services[compute].components[compute].replicas", "every node"}},
		{"maxUnavailable of a Deployment", func(d *v1.OpenStackDeployment) {
			d.Spec.Services = map[string]v1.ServiceOverride{"compute": {Components: map[string]v1.ComponentOverride{"api": {MaxUnavailable: ptr(intstr.FromInt32(2))}}}}
		}, []string{"spec.services[compute].components[api].maxUnavailable", "pod per node"}},
		{"maxUnavailable of no node", func(d *v1.OpenStackDeployment) {
			d.Spec.Services = map[string]v1.ServiceOverride{"compute": {Components: map[string]v1.ComponentOverride{"compute": {MaxUnavailable: ptr(intstr.FromInt32(0))}}}}
		}, []string{"spec.services[compute].components[compute].maxUnavailable", "1 or more"}},
		{"maxUnavailable beyond every node", func(d *v1.OpenStackDeployment) {
			d.Spec.Services = map[string]v1.ServiceOverride{"compute": {Components: map[string]v1.ComponentOverride{"compute": {MaxUnavailable: ptr(intstr.FromString("120%"))}}}}
		}, []string{"spec.services[compute].components[compute].maxUnavailable", "1% to 100%"}},
		{"unknown component", func(d *v1.OpenStackDeployment) {
			d.Spec.Services = map[string]v1.ServiceOverride{"compute": {Components: map[string]v1.ComponentOverride{"apii": {}}}}
		}, []string{"spec.services[compute].components[apii]", "supported values", "scheduler"}},
		{"unknown service override", func(d *v1.OpenStackDeployment) {
			d.Spec.Services = map[string]v1.ServiceOverride{"nova": {}}
		}, []string{"spec.services[nova]", "compute"}},
		{"unknown config file", func(d *v1.OpenStackDeployment) {
			d.Spec.Services = map[string]v1.ServiceOverride{"compute": {Config: map[string]v1.OsloFile{"nova.cfg": {}}}}
		}, []string{"spec.services[compute].config[nova.cfg]", "nova.conf"}},
		{"multi-line value", func(d *v1.OpenStackDeployment) {
			d.Spec.Services = map[string]v1.ServiceOverride{"compute": {Config: map[string]v1.OsloFile{"nova.conf": {"DEFAULT": {"debug": "true\n[x]"}}}}}
		}, []string{"spec.services[compute].config[nova.conf][DEFAULT][debug]", "single line"}},
		{"node key without ::", func(d *v1.OpenStackDeployment) { d.Spec.Nodes = map[string]v1.NodeOverride{"rack=r1": {}} },
			[]string{"spec.nodes[rack=r1]", "<label>::<value>"}},
		{"node key with bad label", func(d *v1.OpenStackDeployment) { d.Spec.Nodes = map[string]v1.NodeOverride{"bad label::x": {}} },
			[]string{"spec.nodes[bad label::x]", "label"}},
		{"node override of an API-only service", func(d *v1.OpenStackDeployment) {
			d.Spec.Nodes = map[string]v1.NodeOverride{"a::b": {Services: map[string]v1.NodeServiceOverride{"identity": {}}}}
		}, []string{"spec.nodes[a::b].services[identity]", "no agents"}},
		{"bad allocation ratio", func(d *v1.OpenStackDeployment) { d.Spec.Features.Nova.AllocationRatios.CPU = "lots" },
			[]string{"spec.features.nova.allocationRatios.cpu", "positive decimal"}},
		{"bad vlan range", func(d *v1.OpenStackDeployment) {
			d.Spec.Features.Neutron.ExternalNetworks = []v1.ExternalNetwork{{Physnet: "p", Interface: "eth1", VLANRanges: "5000:6000"}}
		}, []string{"spec.features.neutron.externalNetworks[0].vlanRanges"}},
		{"floating network off its physnet", func(d *v1.OpenStackDeployment) {
			d.Spec.Features.Neutron.FloatingNetwork = &v1.FloatingNetwork{Physnet: "nope", Subnet: v1.FloatingSubnet{
				Range: "10.0.0.0/24", Gateway: "10.0.0.1", PoolStart: "10.0.1.10", PoolEnd: "10.0.0.20"}}
		}, []string{"spec.features.neutron.floatingNetwork.physnet", "spec.features.neutron.floatingNetwork.subnet.poolStart"}},
		{"dvr with ovn", func(d *v1.OpenStackDeployment) {
			d.Spec.Features.Neutron.Backend, d.Spec.Features.Neutron.DVR = v1.NeutronOVN, true
		}, []string{"spec.features.neutron.dvr"}},
		{"unknown virt type", func(d *v1.OpenStackDeployment) { d.Spec.Features.Nova.VirtType = "xen" },
			[]string{"spec.features.nova.virtType", "xen", "supported values", "qemu"}},
		{"unknown ovs datapath", func(d *v1.OpenStackDeployment) { d.Spec.Features.Neutron.OVSDatapath = "dpdk" },
			[]string{"spec.features.neutron.ovsDatapath", "dpdk", "supported values", "netdev"}},
		{"netdev datapath with tungsten fabric", func(d *v1.OpenStackDeployment) {
			d.Spec.Preset, d.Spec.Features.Neutron.OVSDatapath = v1.PresetComputeTF, v1.OVSDatapathNetdev
		}, []string{"spec.features.neutron.ovsDatapath", "Tungsten Fabric runs no Open vSwitch"}},
		{"bad cron", func(d *v1.OpenStackDeployment) { d.Spec.Features.Keystone.FernetRotation.Schedule = "every day" },
			[]string{"spec.features.keystone.fernetRotation.schedule", "cron"}},
		{"too few keys", func(d *v1.OpenStackDeployment) { d.Spec.Features.Keystone.FernetRotation.MaxActiveKeys = 2 },
			[]string{"spec.features.keystone.fernetRotation.maxActiveKeys", "at least 3"}},
		{"negative tempest concurrency", func(d *v1.OpenStackDeployment) { d.Spec.Features.Tempest.Concurrency = -1 },
			[]string{"spec.features.tempest.concurrency", "0 (one worker per CPU) or more"}},
		{"file store with replicas", func(d *v1.OpenStackDeployment) { d.Spec.Features.Glance.Backend = v1.StoreFile },
			[]string{"spec.features.glance.backend", "exactly 1"}},
		{"stacklight on, defaults", func(d *v1.OpenStackDeployment) { d.Spec.Features.StackLight.Enabled = true }, nil},
		{"stacklight bad namespace", func(d *v1.OpenStackDeployment) {
			d.Spec.Features.StackLight = v1.StackLightFeatures{Enabled: true, Namespace: "Stack_Light"}
		}, []string{"spec.features.stacklight.namespace", "Stack_Light"}},
		{"stacklight bad label", func(d *v1.OpenStackDeployment) {
			d.Spec.Features.StackLight = v1.StackLightFeatures{Enabled: true, Labels: map[string]string{"release": "not a value"}}
		}, []string{"spec.features.stacklight.labels"}},
		{"stacklight negative threshold", func(d *v1.OpenStackDeployment) {
			d.Spec.Features.StackLight = v1.StackLightFeatures{Enabled: true, Thresholds: v1.StackLightThresholds{BackupMaxAgeHours: -2}}
		}, []string{"spec.features.stacklight.thresholds.backupMaxAgeHours", "at least 1"}},
		{"stacklight 5xx above 100", func(d *v1.OpenStackDeployment) {
			d.Spec.Features.StackLight = v1.StackLightFeatures{Enabled: true, Thresholds: v1.StackLightThresholds{API5xxPercent: 150}}
		}, []string{"spec.features.stacklight.thresholds.api5xxPercent", "at most 100"}},
		{"stacklight logs to a URL with a path", func(d *v1.OpenStackDeployment) {
			d.Spec.Features.StackLight = v1.StackLightFeatures{Enabled: true, Logs: v1.StackLightLogs{Enabled: true, URL: "http://os:9200/_bulk"}}
		}, []string{"spec.features.stacklight.logs.url", "no path"}},
		{"stacklight logs with credentials in the URL", func(d *v1.OpenStackDeployment) {
			d.Spec.Features.StackLight = v1.StackLightFeatures{Enabled: true, Logs: v1.StackLightLogs{Enabled: true, URL: "https://u:p@os:9200"}}
		}, []string{"spec.features.stacklight.logs.url", "credentialsSecret"}},
		{"stacklight logs bad Secret name", func(d *v1.OpenStackDeployment) {
			d.Spec.Features.StackLight = v1.StackLightFeatures{Enabled: true, Logs: v1.StackLightLogs{Enabled: true, CredentialsSecret: "Open_Search"}}
		}, []string{"spec.features.stacklight.logs.credentialsSecret", "Open_Search"}},
		{"stacklight critical after warning", func(d *v1.OpenStackDeployment) {
			d.Spec.Features.StackLight = v1.StackLightFeatures{Enabled: true, Thresholds: v1.StackLightThresholds{CertificateCriticalDays: 40}}
		}, []string{"spec.features.stacklight.thresholds.certificateCriticalDays", "below certificateWarningDays"}},
		{"requests above limits", func(d *v1.OpenStackDeployment) {
			d.Spec.Services = map[string]v1.ServiceOverride{"identity": {Components: map[string]v1.ComponentOverride{"api": {Resources: mustResources("2Gi", "1Gi")}}}}
		}, []string{"spec.services[identity].components[api].resources.requests[memory]", "limit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := valid()
			tc.mutate(d)
			defaulting.Default(&d.Spec)
			errs := validation.Validate(d)
			if len(tc.want) == 0 {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				return
			}
			if len(errs) == 0 {
				t.Fatalf("no error, want one mentioning %q", tc.want)
			}
			msg := errs.ToAggregate().Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
		})
	}
}

// TestValidateNeverPanicsOnZeroValues feeds empty and half-filled specs.
func TestValidateNeverPanicsOnZeroValues(t *testing.T) {
	for _, d := range []*v1.OpenStackDeployment{{}, {Spec: v1.OpenStackDeploymentSpec{Nodes: map[string]v1.NodeOverride{"": {}}}},
		{Spec: v1.OpenStackDeploymentSpec{Services: map[string]v1.ServiceOverride{"": {Components: map[string]v1.ComponentOverride{"": {}}}}}}} {
		if errs := validation.Validate(d); len(errs) == 0 {
			t.Errorf("empty spec %+v accepted", d.Spec)
		}
	}
}
