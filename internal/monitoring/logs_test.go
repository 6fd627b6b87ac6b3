package monitoring_test

import (
	"strings"
	"testing"

	"github.com/oskproject/osk/internal/monitoring"
)

// TestShipperConfig: the configuration reads the pod logs of its
// namespace but not the shipper's own, sends to OpenSearch's _bulk API
// with a disk buffer in the state directory, and names credentials only
// as environment variables, and only when there are some.
func TestShipperConfig(t *testing.T) {
	s := monitoring.LogShipper{PodLogs: "/var/log/pods", Namespace: "cloud", URL: "http://os:9200", StateDir: "/state", Self: "log-shipper"}
	conf := monitoring.ShipperConfig(s)
	for _, want := range []string{
		`base-dir("/var/log/pods")`, `/cloud_'`, `/cloud_log-shipper-'`, `url("http://os:9200/_bulk")`,
		`dir("/state")`, "reliable(yes)", "`NODE_NAME`",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("the configuration lacks %s", want)
		}
	}
	if strings.Contains(conf, "OPENSEARCH_") {
		t.Errorf("without credentials the configuration names them:\n%s", conf)
	}
	s.Credentials = true
	conf = monitoring.ShipperConfig(s)
	for _, want := range []string{"user(\"`OPENSEARCH_USERNAME`\")", "password(\"`OPENSEARCH_PASSWORD`\")"} {
		if !strings.Contains(conf, want) {
			t.Errorf("with credentials the configuration lacks %s", want)
		}
	}
	for _, p := range []string{"@POD_LOGS@", "@NAMESPACE@", "@URL@", "@AUTH@", "@STATE_DIR@", "@OSLO_LINE@", "@SYSTEM@", "@AUDIT@", "@INDEX@", "@SELF@", "@NODE@"} {
		if strings.Contains(conf, p) {
			t.Errorf("placeholder %s left in the configuration", p)
		}
	}
}

// TestShipperAgentsNamespace checks that the node agents' namespace, when
// apart, is shipped with the deployment's, and no other.
func TestShipperAgentsNamespace(t *testing.T) {
	s := monitoring.LogShipper{PodLogs: "/var/log/pods", Namespace: "openstack", Self: "log-shipper"}
	if conf := monitoring.ShipperConfig(s); !strings.Contains(conf, `\E/openstack_'`) {
		t.Errorf("alone, the deployment's namespace is not matched as itself:\n%s", conf)
	}
	s.Agents = "openstack-agents"
	conf := monitoring.ShipperConfig(s)
	for _, want := range []string{`\E/(?:openstack|openstack-agents)_'`, `\E/(?:openstack|openstack-agents)_log-shipper-'`} {
		if !strings.Contains(conf, want) {
			t.Errorf("with the agents apart the filter lacks %s", want)
		}
	}
	if strings.Contains(conf, "@NAMESPACES@") {
		t.Error("placeholder @NAMESPACES@ left in the configuration")
	}
}
