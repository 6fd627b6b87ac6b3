package nodeconfig

import (
	"errors"
	"testing"
)

func TestRender(t *testing.T) {
	a, err := ParseAddress("TUNNEL_IP=br-tun:ovs.local_ip:DEFAULT.my_ip")
	if err != nil {
		t.Fatal(err)
	}
	conf, env, err := Render([]Address{a}, func(i string) (string, error) {
		if i != "br-tun" {
			t.Fatalf("looked up %q", i)
		}
		return "10.0.0.7", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(conf) != "[DEFAULT]\nmy_ip = 10.0.0.7\n\n[ovs]\nlocal_ip = 10.0.0.7\n" {
		t.Fatalf("node.conf =\n%s", conf)
	}
	if string(env) != "TUNNEL_IP=10.0.0.7\n" {
		t.Fatalf("node.env = %q", env)
	}
}

func TestRenderFailsOnMissingInterface(t *testing.T) {
	_, _, err := Render([]Address{{Name: "X", Interface: "eth9"}}, func(string) (string, error) { return "", errors.New("no such interface") })
	if err == nil {
		t.Fatal("Render succeeded without the interface")
	}
}

func TestParseAddressRejectsBadSpecs(t *testing.T) {
	for _, s := range []string{"", "X", "=eth0", "X=eth0:nodot"} {
		if _, err := ParseAddress(s); err == nil {
			t.Errorf("ParseAddress(%q) succeeded", s)
		}
	}
}

func TestLoopbackAddress(t *testing.T) {
	ip, err := InterfaceAddress("lo")
	if err != nil || ip != "127.0.0.1" {
		t.Fatalf("InterfaceAddress(lo) = %q, %v", ip, err)
	}
}
