package logging_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/render"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// TestAgentsLogsShipped: with the node agents in a namespace of their own
// (features.nodeAgents.namespace), osk's rendered shipper, which runs
// there, ships the logs of the deployment's pods and of the agents' pods
// (Debian's syslog-ng, rendered configuration and command), and none of
// another namespace's pods.
func TestAgentsLogsShipped(t *testing.T) {
	proctest.Need(t, "syslog-ng-core", "syslog-ng")
	if _, err := os.Stat("/usr/lib/syslog-ng/3.38/libhttp.so"); err != nil {
		t.Fatalf("syslog-ng's http module (Debian's syslog-ng-mod-http) is missing: %v", err)
	}
	d, err := manifest.Load(filepath.Join("testdata", "zed.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	agents := d.Namespace + "-agents"
	d.Spec.Features.NodeAgents.Namespace = agents
	res, err := render.Render(d, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inAgents := map[string]client.Object{}
	for _, o := range res.Objects {
		if o.GetNamespace() == agents {
			inAgents[render.KeyOf(o).String()] = o
		}
	}
	pods := filepath.Join(t.TempDir(), "pods")
	os1 := StartStandIn(t, proctest.FreeAddr(t))
	sh := shipperFrom(t, inAgents, pods, os1.Addr)
	sh.start(t)

	src := filepath.Join(t.TempDir(), "compute.log")
	var lines []byte
	for i := range 20 {
		lines = fmt.Appendf(lines, "2026-12-04 10:00:%02d.000 4242 INFO nova.compute.manager [-] line %d of the agent\n", i, i)
	}
	if err := os.WriteFile(src, lines, 0o600); err != nil {
		t.Fatal(err)
	}
	shipped := []*podLog{
		followPod(t, pods, d.Namespace, "nova-api-5d8f6c7b9-x2x7q", "api", src),
		followPod(t, pods, agents, "nova-compute-x2x7q", "compute", src),
	}
	other := followPod(t, pods, "elsewhere", "nova-compute-x2x7q", "compute", src)
	waitDelivered(t, os1, shipped, 2*time.Minute)
	other.Sync(t)
	time.Sleep(5 * time.Second) // the shipper polls every second: it had time to read the other file
	n := 0
	for _, doc := range os1.Docs() {
		if doc.String("file") == other.Path {
			n++
		}
	}
	if n > 0 {
		t.Errorf("%d records shipped from namespace elsewhere", n)
	}
	t.Logf("%d records from the deployment's and the agents' namespaces, none from another", len(os1.Docs()))
}
