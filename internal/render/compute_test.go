package render_test

import (
	"bufio"
	"bytes"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/render"
)

// option returns one option of a rendered INI file, and whether it is set.
func option(file []byte, section, key string) (string, bool) {
	in := ""
	sc := bufio.NewScanner(bytes.NewReader(file))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "[") {
			in = strings.Trim(line, "[]")
			continue
		}
		k, v, ok := strings.Cut(line, " = ")
		if ok && in == section && k == key {
			return v, true
		}
	}
	return "", false
}

// renderCompute renders the compute example with its features changed.
func renderCompute(t *testing.T, change func(f *v1.Features)) *render.Result {
	t.Helper()
	d := load(t, "compute")
	change(&d.Spec.Features)
	res, err := render.Render(d, render.Options{Credentials: recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// wantOptions checks options of the files of rendered Secrets:
// "secret/file" → "section.key" → value.
func wantOptions(t *testing.T, res *render.Result, want map[string]map[string]string) {
	t.Helper()
	for where, opts := range want {
		secret, file, _ := strings.Cut(where, "/")
		data := find(res.Objects, "Secret/"+secret).(*corev1.Secret).Data[file]
		for so, v := range opts {
			section, key, _ := strings.Cut(so, ".")
			if got, ok := option(data, section, key); !ok || got != v {
				t.Errorf("%s [%s] %s = %q (set: %v), want %q", where, section, key, got, ok, v)
			}
		}
	}
}

// TestVirtTypeAndDatapath checks what features.nova.virtType and
// features.neutron.ovsDatapath render: libvirt's hypervisor and CPU model
// in nova-compute's file, the datapath in every agent that plugs into Open
// vSwitch, veth pairs for the namespaces of the DHCP and L3 agents on the
// userspace datapath, and the Open vSwitch socket for the agents and
// os-vif.
func TestVirtTypeAndDatapath(t *testing.T) {
	socket := "unix:/run/openvswitch/db.sock"
	tests := []struct {
		name   string
		change func(f *v1.Features)
		want   map[string]map[string]string
	}{
		{"defaults", func(*v1.Features) {}, map[string]map[string]string{
			"nova-compute-etc/nova.conf": {"libvirt.virt_type": "kvm", "libvirt.cpu_mode": "host-model",
				"os_vif_ovs.ovsdb_connection": socket},
			"neutron-ovs-agent-etc/plugins.ml2.openvswitch_agent.ini": {"ovs.datapath_type": "system", "ovs.ovsdb_connection": socket},
			"neutron-dhcp-agent-etc/dhcp_agent.ini": {"ovs.datapath_type": "system", "DEFAULT.ovs_use_veth": "false",
				"ovs.ovsdb_connection": socket},
			"neutron-l3-agent-etc/l3_agent.ini": {"ovs.datapath_type": "system", "DEFAULT.ovs_use_veth": "false",
				"ovs.ovsdb_connection": socket},
		}},
		{"qemu on the userspace datapath", func(f *v1.Features) {
			f.Nova.VirtType, f.Neutron.OVSDatapath = v1.VirtQEMU, v1.OVSDatapathNetdev
		}, map[string]map[string]string{
			"nova-compute-etc/nova.conf":                              {"libvirt.virt_type": "qemu", "libvirt.cpu_mode": "none"},
			"neutron-ovs-agent-etc/plugins.ml2.openvswitch_agent.ini": {"ovs.datapath_type": "netdev"},
			"neutron-dhcp-agent-etc/dhcp_agent.ini":                   {"ovs.datapath_type": "netdev", "DEFAULT.ovs_use_veth": "true"},
			"neutron-l3-agent-etc/l3_agent.ini":                       {"ovs.datapath_type": "netdev", "DEFAULT.ovs_use_veth": "true"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantOptions(t, renderCompute(t, tc.change), tc.want)
		})
	}
}

// TestExternalBridgesCreated checks that the OVS agent creates the bridge
// of each external network on its node's datapath, with the network's
// interface plugged in, before it starts: it exits when a bridge of its
// bridge_mappings is missing. Nodes that override the interface get
// theirs.
func TestExternalBridgesCreated(t *testing.T) {
	res := renderCompute(t, func(f *v1.Features) { f.Neutron.OVSDatapath = v1.OVSDatapathNetdev })
	for _, name := range []string{"neutron-ovs-agent", "neutron-ovs-agent-rack-r2"} {
		cmd := find(res.Objects, "DaemonSet/"+name).(*appsv1.DaemonSet).Spec.Template.Spec.Containers[0].Command
		if len(cmd) != 6 || cmd[0] != "/bin/sh" || !strings.Contains(cmd[2], "add-br") ||
			!strings.Contains(cmd[2], "exec neutron-openvswitch-agent") {
			t.Fatalf("%s: command %q does not create the bridges, then run the agent", name, cmd)
		}
		if got, want := strings.Join(cmd[3:], " "), "sh netdev br-physnet1:ens4"; got != want {
			t.Errorf("%s: the script's arguments are %q, want %q", name, got, want)
		}
	}
}

// TestNovaComputeHostDirectories checks that nova-compute mounts the
// host's Open vSwitch socket directory, where os-vif plugs the instances'
// ports, and its instances directory, which nova-compute does not create
// and without which its disk inventory fails on a new node.
func TestNovaComputeHostDirectories(t *testing.T) {
	pod := find(renderCompute(t, func(*v1.Features) {}).Objects, "DaemonSet/nova-compute").(*appsv1.DaemonSet).Spec.Template.Spec
	for _, dir := range []string{"/run/openvswitch", "/var/lib/nova/instances"} {
		if !mountsHostPath(pod, dir) {
			t.Errorf("nova-compute does not mount the host's %s", dir)
		}
	}
}

// TestMetadataProxySocketShared checks that the metadata agent and the
// L3 and DHCP agents, whose haproxy processes connect to its socket in
// $state_path, share the host's state directory.
func TestMetadataProxySocketShared(t *testing.T) {
	res := renderCompute(t, func(*v1.Features) {})
	wantOptions(t, res, map[string]map[string]string{"neutron-etc/neutron.conf": {"DEFAULT.state_path": "/var/lib/neutron"}})
	for _, name := range []string{"neutron-metadata-agent", "neutron-l3-agent", "neutron-dhcp-agent"} {
		pod := find(res.Objects, "DaemonSet/"+name).(*appsv1.DaemonSet).Spec.Template.Spec
		if !mountsHostPath(pod, "/var/lib/neutron") {
			t.Errorf("%s does not mount the host's /var/lib/neutron", name)
		}
	}
}

// mountsHostPath says whether the pod's first container mounts a host
// directory at the same path.
func mountsHostPath(pod corev1.PodSpec, path string) bool {
	for _, m := range pod.Containers[0].VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name == m.Name && m.MountPath == path && v.HostPath != nil && v.HostPath.Path == path {
				return true
			}
		}
	}
	return false
}

// TestLibvirtListensOnMigrationAddress checks that libvirtd listens for
// other nodes on the node's live-migration address only: osk node-config
// finds it, libvirtd's file gets it as listen_addr.
func TestLibvirtListensOnMigrationAddress(t *testing.T) {
	res := renderCompute(t, func(f *v1.Features) { f.Nova.LiveMigrationInterface = "ens9" })
	pod := find(res.Objects, "DaemonSet/libvirt-libvirtd").(*appsv1.DaemonSet).Spec.Template.Spec
	if len(pod.InitContainers) == 0 || !slices.Contains(pod.InitContainers[0].Command, "LIVE_MIGRATION_IP=ens9") {
		t.Fatalf("libvirtd's pod does not find the live-migration address of ens9: %v", pod.InitContainers)
	}
	script := strings.Join(pod.Containers[0].Command, " ")
	for _, want := range []string{`listen_addr = \"$LIVE_MIGRATION_IP\"`, "libvirtd --listen --config /etc/libvirt/libvirtd-node.conf"} {
		if !strings.Contains(script, want) {
			t.Errorf("libvirtd's command %q lacks %q", script, want)
		}
	}
}

// TestLibvirtRemoteAccessTLS checks libvirt's remote access: TLS only,
// with client certificates of the deployment's libvirt CA and no TCP
// listener, nova migrating over TLS, and the CA's key handed to the init
// container that signs the node's certificates, never to libvirtd.
func TestLibvirtRemoteAccessTLS(t *testing.T) {
	res := renderCompute(t, func(*v1.Features) {})
	wantOptions(t, res, map[string]map[string]string{
		"libvirt-etc/libvirtd.conf": {".listen_tls": "1", ".listen_tcp": "0", ".auth_tls": `"none"`,
			".tls_allowed_dn_list": `["CN=osk-libvirt-client"]`},
		"nova-compute-etc/nova.conf": {"libvirt.live_migration_scheme": "tls"},
	})
	conf := find(res.Objects, "Secret/libvirt-etc").(*corev1.Secret).Data["libvirtd.conf"]
	for _, key := range []string{"auth_tcp", "tls_no_verify_certificate", "tls_no_sanity_certificate"} {
		if v, ok := option(conf, "", key); ok {
			t.Errorf("libvirtd.conf sets %s = %s", key, v)
		}
	}
	pod := find(res.Objects, "DaemonSet/libvirt-libvirtd").(*appsv1.DaemonSet).Spec.Template.Spec
	init := pod.InitContainers[0]
	if len(init.Env) != 1 || init.Env[0].ValueFrom == nil || init.Env[0].ValueFrom.SecretKeyRef == nil ||
		init.Env[0].ValueFrom.SecretKeyRef.Name != "libvirt-credentials" || init.Env[0].ValueFrom.SecretKeyRef.Key != "libvirt-ca" {
		t.Errorf("node-config does not get the CA of libvirt-credentials: %v", init.Env)
	}
	if !slices.Contains(init.Command, "--certificates") {
		t.Errorf("node-config does not make the node's certificates: %v", init.Command)
	}
	for _, c := range pod.Containers {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Key == "libvirt-ca" {
				t.Errorf("container %s gets the CA's key", c.Name)
			}
		}
	}
	if !slices.ContainsFunc(pod.Containers[0].VolumeMounts, func(m corev1.VolumeMount) bool {
		return m.MountPath == "/etc/pki" && m.ReadOnly
	}) {
		t.Errorf("libvirtd does not read its certificates from /etc/pki: %v", pod.Containers[0].VolumeMounts)
	}
}

// TestNodeRolloutPace: every DaemonSet rolls 10% of its nodes at a time,
// and a component's maxUnavailable sets its own pace.
func TestNodeRolloutPace(t *testing.T) {
	d := load(t, "compute")
	five := intstr.FromInt32(5)
	d.Spec.Services = map[string]v1.ServiceOverride{"compute": {Components: map[string]v1.ComponentOverride{"compute": {MaxUnavailable: &five}}}}
	res, err := render.Render(d, render.Options{Credentials: recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	sets := 0
	for _, o := range res.Objects {
		ds, ok := o.(*appsv1.DaemonSet)
		if !ok {
			continue
		}
		sets++
		want := render.DefaultMaxUnavailable
		if strings.HasPrefix(ds.Name, "nova-compute") { // node override variants too
			want = five
		}
		ru := ds.Spec.UpdateStrategy.RollingUpdate
		if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru == nil || ru.MaxUnavailable == nil || *ru.MaxUnavailable != want {
			t.Errorf("DaemonSet %s: update strategy %+v, want rolling, %s nodes at a time", ds.Name, ds.Spec.UpdateStrategy, want.String())
		}
	}
	if sets == 0 {
		t.Fatal("no DaemonSet rendered for examples/compute.yaml")
	}
}
