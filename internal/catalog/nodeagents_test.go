package catalog

import "testing"

// TestRestricted checks which privileges the restricted profile allows.
func TestRestricted(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    *Privileges
		want bool
	}{
		{"none", nil, true},
		{"writable root", &Privileges{Why: "x", WritableRoot: true}, true},
		{"bind low ports", &Privileges{Why: "x", Capabilities: []string{"NET_BIND_SERVICE"}}, true},
		{"root", &Privileges{Why: "x", Root: true}, false},
		{"privileged", &Privileges{Why: "x", Root: true, Privileged: true}, false},
		{"host network", &Privileges{Why: "x", HostNetwork: true}, false},
		{"host PID", &Privileges{Why: "x", HostPID: true}, false},
		{"another capability", &Privileges{Why: "x", Capabilities: []string{"NET_BIND_SERVICE", "NET_ADMIN"}}, false},
	} {
		if got := tc.p.Restricted(); got != tc.want {
			t.Errorf("%s: Restricted() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestNodeAgent checks that a host path or a sidecar's privileges make a
// component a node agent, and that a sidecar that does not run does not.
func TestNodeAgent(t *testing.T) {
	ctx := &Context{}
	off := func(*Context) bool { return false }
	for _, tc := range []struct {
		name string
		c    Component
		want bool
	}{
		{"plain", Component{}, false},
		{"host path", Component{Volumes: []Volume{{Kind: VolumeHostPath}}}, true},
		{"host path not mounted", Component{Volumes: []Volume{{Kind: VolumeHostPath, When: off}}}, false},
		{"root sidecar", Component{Sidecars: []Container{{Privileges: &Privileges{Why: "x", Root: true}}}}, true},
		{"root sidecar off", Component{Sidecars: []Container{{When: off, Privileges: &Privileges{Why: "x", Root: true}}}}, false},
		{"log shipper", LogShipper, true},
	} {
		if got := tc.c.NodeAgent(ctx); got != tc.want {
			t.Errorf("%s: NodeAgent() = %v, want %v", tc.name, got, tc.want)
		}
	}
}
