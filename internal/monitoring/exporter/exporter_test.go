package exporter_test

import (
	"bufio"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/placement/v1/resourceproviders"

	"github.com/oskproject/osk/internal/monitoring/exporter"
)

// TestProbeURL: a catalog URL with a project placeholder is probed up to
// it, where the API answers without a project.
func TestProbeURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://cinder-api:8776/v3/$(project_id)s":     "http://cinder-api:8776/v3/",
		"http://heat-api:8004/v1/%(tenant_id)s":        "http://heat-api:8004/v1/",
		"http://glance-api:9292":                       "http://glance-api:9292",
		"https://compute.example.com/v2.1":             "https://compute.example.com/v2.1",
		"http://rgw:8080/swift/v1/AUTH_$(project_id)s": "http://rgw:8080/swift/v1/AUTH_",
	} {
		if got := exporter.ProbeURL(in); got != want {
			t.Errorf("ProbeURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCapacity: what placement lets be allocated is the unreserved total
// times the allocation ratio.
func TestCapacity(t *testing.T) {
	got := exporter.Capacity(resourceproviders.Inventory{Total: 16, Reserved: 2, AllocationRatio: 4})
	if got != 56 {
		t.Errorf("Capacity = %v, want 56", got)
	}
}

// TestParseMemcachedStats: numeric fields are read up to END, others
// left out; an answer that is not stats is an error.
func TestParseMemcachedStats(t *testing.T) {
	got, err := exporter.ParseMemcachedStats(bufio.NewScanner(strings.NewReader(
		"STAT pid 12\r\nSTAT version 1.6.18\r\nSTAT curr_connections 3\r\nEND\r\n")))
	if err != nil || got["pid"] != 12 || got["curr_connections"] != 3 || len(got) != 2 {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := exporter.ParseMemcachedStats(bufio.NewScanner(strings.NewReader("ERROR\r\n"))); err == nil {
		t.Error("ERROR was read as stats")
	}
}
