// Package nodeconfig finds the addresses of a node's interfaces and writes
// them where agents read them: an oslo.config file and a shell env file.
// It runs as an init container of agents on host networking.
package nodeconfig

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/oskproject/osk/internal/oslo"
)

// Address asks for the first IPv4 address (else IPv6) of an interface.
type Address struct {
	// Name of the variable in node.env.
	Name string
	// Interface to read.
	Interface string
	// Options ("section.key") set to the address in node.conf.
	Options []string
}

// ParseAddress reads NAME=INTERFACE[:section.key...].
func ParseAddress(spec string) (Address, error) {
	name, rest, ok := strings.Cut(spec, "=")
	if !ok || name == "" || rest == "" {
		return Address{}, fmt.Errorf("address %q: want NAME=INTERFACE[:section.key...]", spec)
	}
	parts := strings.Split(rest, ":")
	a := Address{Name: name, Interface: parts[0]}
	for _, o := range parts[1:] {
		if !strings.Contains(o, ".") {
			return Address{}, fmt.Errorf("address %q: option %q is not section.key", spec, o)
		}
		a.Options = append(a.Options, o)
	}
	return a, nil
}

// Lookup returns an interface's address.
type Lookup func(iface string) (string, error)

// InterfaceAddress is the Lookup of the running host.
func InterfaceAddress(name string) (string, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return "", fmt.Errorf("interface %s: %w", name, err)
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return "", fmt.Errorf("addresses of %s: %w", name, err)
	}
	var v6 string
	for _, a := range addrs {
		ip, _, err := net.ParseCIDR(a.String())
		if err != nil || ip.IsLinkLocalUnicast() {
			continue
		}
		if ip.To4() != nil {
			return ip.String(), nil
		}
		if v6 == "" {
			v6 = ip.String()
		}
	}
	if v6 == "" {
		return "", fmt.Errorf("interface %s has no usable address", name)
	}
	return v6, nil
}

// Render returns node.conf and node.env for the addresses.
func Render(addrs []Address, lookup Lookup) (conf, env []byte, err error) {
	f := oslo.New()
	var e strings.Builder
	for _, a := range addrs {
		ip, err := lookup(a.Interface)
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(&e, "%s=%s\n", a.Name, ip)
		for _, o := range a.Options {
			section, key, _ := strings.Cut(o, ".")
			f.Set(section, key, ip)
		}
	}
	return f.Render(), []byte(e.String()), nil
}

// Write renders and writes node.conf and node.env into dir.
func Write(dir string, addrs []Address, lookup Lookup) error {
	conf, env, err := Render(addrs, lookup)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "node.conf"), conf, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "node.env"), env, 0o644)
}
