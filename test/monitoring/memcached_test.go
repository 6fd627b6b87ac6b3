package monitoring_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/render"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// TestMemcachedDown: a real memcached with the rendered exporter sidecar
// (osk exporter memcached, the built binary) beside it, scraped as osk's
// PodMonitor says; stopping memcached fires MemcachedDown at the webhook.
func TestMemcachedDown(t *testing.T) {
	proctest.Need(t, "memcached", "memcached")
	s := renderStack(t)
	osk := proctest.BuildOsk(t)
	dir := t.TempDir()
	port := proctest.FreePort(t)
	mc := proctest.Start(t, dir, "memcached", exec.Command("memcached", "-u", "memcache", "-l", "127.0.0.1", "-p", fmt.Sprint(port), "-U", "0"))
	addr := proctest.FreeAddr(t)
	args := sidecarArgs(t, "StatefulSet/memcached-server", "exporter")
	for i, a := range args {
		switch {
		case strings.HasPrefix(a, "--address="):
			args[i] = fmt.Sprintf("--address=127.0.0.1:%d", port)
		case strings.HasPrefix(a, "--listen="):
			args[i] = "--listen=" + addr
		}
	}
	proctest.Start(t, dir, "memcached-exporter", exec.Command(osk, args...))
	pod := "memcached-server-0"
	prom, hook := s.start(t, scrapeConfigs(t, s, "memcached-server", map[string]string{pod: addr}))
	waitFor(t, time.Minute, "memcached up in Prometheus", func() error {
		got, err := prom.Query(fmt.Sprintf(`memcached_up{namespace=%q,pod=%q,osk_target="memcached"} == 1`, s.d.Namespace, pod))
		if err == nil && len(got) != 1 {
			err = fmt.Errorf("not up: %v", got)
		}
		return err
	})
	stopped := time.Now()
	mc.Kill(t)
	waitFor(t, 4*time.Minute, "MemcachedDown at the webhook", func() error {
		if n, ok := hook.Find("MemcachedDown", "firing"); ok {
			t.Logf("MemcachedDown received %s after memcached stopped (for: 2m): %s", n.Received.Sub(stopped).Round(time.Second), n.Annotations["summary"])
			return nil
		}
		return fmt.Errorf("received so far: %v", hook.Names("firing"))
	})
}

// sidecarArgs returns the arguments of a rendered workload's container
// of examples/full.yaml, after "osk".
func sidecarArgs(t *testing.T, object, container string) []string {
	t.Helper()
	d, err := manifest.Load("../../examples/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := render.Render(d, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Objects {
		ss, ok := o.(*appsv1.StatefulSet)
		if !ok || "StatefulSet/"+ss.Name != object {
			continue
		}
		for _, c := range ss.Spec.Template.Spec.Containers {
			if c.Name == container && len(c.Command) > 0 && c.Command[0] == "osk" {
				return append(c.Command[1:len(c.Command):len(c.Command)], c.Args...)
			}
		}
	}
	t.Fatalf("examples/full.yaml renders no osk container %s in %s", container, object)
	return nil
}
