// Package logging_test is the bed of StackLight's logs: real oslo.log
// lines from Keystone and Glance (Debian's Zed, started from osk's
// rendered files by cloudtest), written as the kubelet writes
// /var/log/pods, go through the log shipper (Debian's syslog-ng, the
// version of the image osk renders) started with osk's rendered
// configuration and command, where only paths and OpenSearch's address
// differ, to a stand-in that speaks OpenSearch's _bulk API.
package logging_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/monitoring"
	"github.com/oskproject/osk/internal/render"
	"github.com/oskproject/osk/internal/testing/cloudtest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// shipper is osk's rendered log shipper run here.
type shipper struct {
	dir, conf string
	argv      []string
	proc      *proctest.Process
}

// renderedShipper writes osk's rendered shipper configuration with only
// the paths and OpenSearch's address changed, and returns its command
// from the rendered DaemonSet, with the same paths changed.
func renderedShipper(t *testing.T, c *cloudtest.Cloud, pods, opensearch string) *shipper {
	t.Helper()
	return shipperFrom(t, c.ByName, pods, opensearch)
}

// shipperFrom is renderedShipper from rendered objects by "Kind/name".
func shipperFrom(t *testing.T, byName map[string]client.Object, pods, opensearch string) *shipper {
	t.Helper()
	cm, ok := byName["ConfigMap/"+render.LogShipper].(*corev1.ConfigMap)
	ds, ok2 := byName["DaemonSet/"+render.LogShipper+"-control-plane"].(*appsv1.DaemonSet)
	if !ok || !ok2 {
		t.Fatalf("osk renders no log shipper (ConfigMap %v, DaemonSet %v): features.stacklight.logs off?", ok, ok2)
	}
	s := &shipper{dir: t.TempDir()}
	for _, d := range []string{"state", "run"} {
		if err := os.Mkdir(filepath.Join(s.dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	url := regexp.MustCompile(`url\("[^"]*/_bulk"\)`)
	local := strings.NewReplacer(render.PodLogDir, pods, render.LogStateDir, filepath.Join(s.dir, "state"),
		"/etc/osk-logs/", s.dir+"/", "/tmp", filepath.Join(s.dir, "run"))
	conf := url.ReplaceAllString(local.Replace(cm.Data[render.LogShipperConfig]), `url("http://`+opensearch+`/_bulk")`)
	s.conf = filepath.Join(s.dir, render.LogShipperConfig)
	if err := os.WriteFile(s.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, a := range ds.Spec.Template.Spec.Containers[0].Command {
		s.argv = append(s.argv, local.Replace(a))
	}
	return s
}

// start runs the shipper until the test ends or stop.
func (s *shipper) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Env = append(os.Environ(), monitoring.EnvNodeName+"=bed")
	s.proc = proctest.Start(t, s.dir, fmt.Sprintf("syslog-ng-%d", time.Now().UnixNano()), cmd)
}

// stop ends the shipper as the kubelet ends a pod: SIGTERM, then waits.
func (s *shipper) stop(t *testing.T) {
	t.Helper()
	if err := s.proc.Signal(15); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if err := s.proc.Signal(0); err != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("syslog-ng did not stop within 30 s of SIGTERM:\n%s", s.proc.Tail())
}

// memoryKiB reads the shipper's peak and current resident memory.
func (s *shipper) memoryKiB(t *testing.T) (peak, now string) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.proc.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			peak = f[1]
		} else if len(f) >= 2 && f[0] == "VmRSS:" {
			now = f[1]
		}
	}
	return peak, now
}

// TestLogsReachOpenSearch: every line Keystone and Glance write reaches
// OpenSearch's stand-in exactly in one record, a traceback as one record;
// every record carries service, level, logger and request id; and neither
// an OpenSearch outage nor a restart of the shipper during it loses a
// line.
func TestLogsReachOpenSearch(t *testing.T) {
	proctest.Need(t, "syslog-ng-core", "syslog-ng")
	proctest.Need(t, "keystone", "keystone-manage")
	proctest.Need(t, "glance-api", "glance-manage")
	proctest.Need(t, "uwsgi-plugin-python3", "uwsgi")
	if _, err := os.Stat("/usr/lib/syslog-ng/3.38/libhttp.so"); err != nil {
		t.Fatalf("syslog-ng's http module (Debian's syslog-ng-mod-http) is missing: %v", err)
	}
	start := time.Now()
	c := cloudtest.New(t, filepath.Join("testdata", "zed.yaml"), oskBinary)
	pods := filepath.Join(t.TempDir(), "pods")
	os1 := StartStandIn(t, proctest.FreeAddr(t))
	sh := renderedShipper(t, c, pods, os1.Addr)
	sh.start(t)

	var logs []*podLog
	for _, a := range []cloudtest.API{cloudtest.CoreAPIs[0], cloudtest.CoreAPIs[2]} {
		c.StartAPI(a)
		logs = append(logs, followPod(t, pods, c.D.Namespace, a.Deployment+"-5d8f6c7b9-x2x7q", "api", c.Logs[a.Deployment].Log))
	}
	t.Logf("keystone and glance up after %s", time.Since(start).Round(time.Second))
	breakGlanceStore(t, c)
	traffic(t, c, "first")
	waitDelivered(t, os1, logs, 2*time.Minute)
	checkRecords(t, os1.Docs(), logs)
	checkTracebacks(t, os1.Docs(), logs)
	top := t
	t.Run("OpenSearch down, the shipper restarted meanwhile: nothing lost", func(t *testing.T) {
		os1.Stop()
		before := os1.Requests()
		traffic(t, c, "during the outage")
		for _, l := range logs {
			l.Sync(t)
		}
		time.Sleep(5 * time.Second) // the shipper read them and failed to send at least once
		sh.stop(t)
		sh.start(top)
		traffic(t, c, "after the restart")
		time.Sleep(3 * time.Second)
		if os1.Requests() != before {
			t.Fatalf("the stand-in served requests while stopped")
		}
		os1.Start(t)
		waitDelivered(t, os1, logs, 2*time.Minute)
		checkRecords(t, os1.Docs(), logs)
		checkTracebacks(t, os1.Docs(), logs)
	})
	peak, now := sh.memoryKiB(t)
	t.Logf("bed: %s; %d records from %d lines; shipper memory: peak %s KiB, now %s KiB (the last run, after the restart)",
		time.Since(start).Round(time.Second), len(os1.Docs()), countLines(logs), peak, now)

	t.Run("the shipper killed (SIGKILL) while sending: nothing lost", func(t *testing.T) {
		traffic(t, c, "before the kill")
		for _, l := range logs {
			l.Sync(t)
		}
		time.Sleep(1500 * time.Millisecond) // read, some of it sent
		sh.proc.Kill(t)
		traffic(t, c, "while the shipper is dead")
		sh.start(top)
		waitDelivered(t, os1, logs, 2*time.Minute)
		received := 0
		for _, lines := range recordLines(os1.Docs()) {
			received += len(nonBlank(lines))
		}
		written := 0
		for _, l := range logs {
			written += len(nonBlank(l.Lines()))
		}
		t.Logf("%d lines written, %d received: %d sent twice (at least once after a crash: the file positions are saved as the buffer is)", written, received, received-written)
	})
}

// breakGlanceStore makes Glance's file store a file, so that an upload
// fails inside glance_store and Glance logs the error with its traceback.
func breakGlanceStore(t *testing.T, c *cloudtest.Cloud) {
	t.Helper()
	for mount, local := range c.Mounts("Deployment/glance-api") {
		if mount == "/var/lib/glance" || strings.HasPrefix("/var/lib/glance/images", mount+"/") {
			store := filepath.Join(local, strings.TrimPrefix("/var/lib/glance/images", mount))
			if err := os.RemoveAll(store); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(store, []byte("not a directory\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("glance-api mounts nothing at /var/lib/glance: %v", c.Mounts("Deployment/glance-api"))
}

// traffic makes Keystone and Glance log requests: a login, an image
// listing, and an upload that fails with a traceback.
func traffic(t *testing.T, c *cloudtest.Cloud, name string) {
	t.Helper()
	admin := c.Admin()
	ic, err := openstack.NewImageV2(admin, gophercloud.EndpointOpts{Availability: gophercloud.AvailabilityInternal})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := images.List(ic, images.ListOpts{}).AllPages(t.Context()); err != nil {
		t.Fatalf("listing images: %v", err)
	}
	img, err := images.Create(t.Context(), ic, images.CreateOpts{Name: "logs " + name, ContainerFormat: "bare", DiskFormat: "raw"}).Extract()
	if err != nil {
		t.Fatalf("creating an image: %v", err)
	}
	if err := imagedata.Upload(t.Context(), ic, img.ID, bytes.NewReader([]byte("data"))).ExtractErr(); err == nil {
		t.Fatalf("the upload to a broken store succeeded: no traceback to ship")
	}
}

// waitDelivered waits until every line written reached the stand-in.
func waitDelivered(t *testing.T, s *OpenSearchStandIn, logs []*podLog, timeout time.Duration) {
	t.Helper()
	begin := time.Now()
	for {
		for _, l := range logs {
			l.Sync(t)
		}
		missing := missingLines(s.Docs(), logs)
		if len(missing) == 0 {
			t.Logf("every line delivered %s after the wait began (%d records)", time.Since(begin).Round(100*time.Millisecond), len(s.Docs()))
			return
		}
		if time.Since(begin) > timeout {
			t.Fatalf("%d lines not delivered after %s, the first: %q", len(missing), timeout, missing[0])
		}
		time.Sleep(time.Second)
	}
}

// recordLines are the lines of every record, in order of arrival, by the
// pod log file they came from.
func recordLines(docs []Doc) map[string][]string {
	out := map[string][]string{}
	for _, d := range docs {
		out[d.String("file")] = append(out[d.String("file")], strings.Split(d.String("message"), "\n")...)
	}
	return out
}

// missingLines are the non-blank lines written that no record holds.
func missingLines(docs []Doc, logs []*podLog) []string {
	got := recordLines(docs)
	var missing []string
	for _, l := range logs {
		have := map[string]int{}
		for _, line := range got[l.Path] {
			have[line]++
		}
		for _, line := range l.Lines() {
			if strings.TrimSpace(line) == "" {
				continue
			}
			if have[line] == 0 {
				missing = append(missing, line)
				continue
			}
			have[line]--
		}
	}
	return missing
}

func countLines(logs []*podLog) int {
	n := 0
	for _, l := range logs {
		n += len(l.Lines())
	}
	return n
}

// requestID is the request id oslo.log writes in a line's context.
var requestID = regexp.MustCompile(`^\S+ \S+ \d+ [A-Z]+ \S+ \[\S+ (req-[0-9a-f-]{36})`)

// checkRecords: every record carries service, level, logger and request
// id; an oslo.log line's record its level, logger and request id; the
// lines of each file arrive in order, none twice.
func checkRecords(t *testing.T, docs []Doc, logs []*podLog) {
	t.Helper()
	withRequest := 0
	for _, d := range docs {
		for _, k := range []string{monitoring.FieldService, monitoring.FieldLevel, monitoring.FieldLogger, monitoring.FieldRequestID} {
			if d.String(k) == "" {
				t.Errorf("a record without %s: %v", k, d.Fields)
			}
		}
		if !strings.HasPrefix(d.Index, monitoring.LogIndexPrefix+"-"+monitoring.LogKindSystem+"-") {
			t.Errorf("a record went to index %s", d.Index)
		}
		first, _, _ := strings.Cut(d.String("message"), "\n")
		if m := requestID.FindStringSubmatch(first); m != nil {
			withRequest++
			if d.String(monitoring.FieldRequestID) != m[1] {
				t.Errorf("record of %q has request id %q", first, d.String(monitoring.FieldRequestID))
			}
			f := strings.Fields(first)
			if d.String(monitoring.FieldLevel) != f[3] || d.String(monitoring.FieldLogger) != f[4] {
				t.Errorf("record of %q has level %q, logger %q", first, d.String(monitoring.FieldLevel), d.String(monitoring.FieldLogger))
			}
		}
	}
	if withRequest == 0 {
		t.Errorf("no record of a request among %d: the check proves nothing", len(docs))
	}
	got := recordLines(docs)
	for _, l := range logs {
		want := nonBlank(l.Lines())
		have := nonBlank(got[l.Path])
		sort.Strings(want)
		sort.Strings(have)
		if strings.Join(have, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: %d lines written, %d received: not each exactly once", l.Path, len(want), len(have))
		}
	}
	t.Logf("%d records, %d of requests with their request id", len(docs), withRequest)
}

// osloLine splits an oslo.log line into its prefix (date, time, pid,
// level, logger) and the character after it: "[" opens a record's
// context; anything else is oslo.log's exception prefix, a line of a
// traceback.
var osloLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \d+ [A-Z]+ \S+ )(.?)`)

// exceptionLine reports whether a line is a line of a traceback, and its
// prefix.
func exceptionLine(line string) (prefix string, ok bool) {
	m := osloLine.FindStringSubmatch(line)
	if m == nil || m[2] == "[" {
		return "", false
	}
	return m[1], true
}

// checkTracebacks: each logged exception arrives as one record: the
// record of the line that logged it, with every line of its traceback
// (same prefix) and nothing else; no record starts inside a traceback.
// As many such records arrive as the services logged, Glance's failed
// upload among them.
func checkTracebacks(t *testing.T, docs []Doc, logs []*podLog) {
	t.Helper()
	want := 0
	for _, l := range logs {
		lines := l.Lines()
		for i := 0; i+1 < len(lines); i++ {
			m := osloLine.FindStringSubmatch(lines[i])
			if p, ok := exceptionLine(lines[i+1]); ok && m != nil && m[2] == "[" && p == m[1] {
				want++
			}
		}
	}
	got, glance := 0, 0
	for _, d := range docs {
		lines := strings.Split(d.String("message"), "\n")
		if _, ok := exceptionLine(lines[0]); ok {
			t.Errorf("a record starts inside a traceback: %q", lines[0])
			continue
		}
		if len(lines) < 2 {
			continue
		}
		m := osloLine.FindStringSubmatch(lines[0])
		for _, line := range lines[1:] {
			if p, ok := exceptionLine(line); !ok || m == nil || p != m[1] {
				t.Errorf("record %q holds a line not of its traceback: %q", lines[0], line)
				break
			}
		}
		got++
		if d.String(monitoring.FieldService) == "glance" && strings.Contains(d.String("message"), "Traceback (most recent call last):") {
			glance++
		}
		if d.String(monitoring.FieldLevel) != "ERROR" && d.String(monitoring.FieldLevel) != "WARNING" {
			t.Errorf("a record with a traceback at level %q: %q", d.String(monitoring.FieldLevel), lines[0])
		}
	}
	if got != want || glance == 0 {
		t.Errorf("%d records with a traceback (%d of Glance), want %d, one per exception logged, Glance's among them", got, glance, want)
	}
	t.Logf("%d tracebacks, each one record (%d of Glance)", got, glance)
}

func nonBlank(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
