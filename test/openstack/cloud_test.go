package openstack_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/credentials"
	"github.com/oskproject/osk/internal/render"
	"github.com/oskproject/osk/internal/testing/mariadbtest"
	"github.com/oskproject/osk/internal/testing/proctest"
	"github.com/oskproject/osk/internal/testing/rabbitmqtest"
)

// cloud is a deployment rendered by osk and run as local processes: the
// infrastructure and the OpenStack services from Debian's archive, each
// component on a loopback address of its own (so every port stays the
// one osk renders), its files written under root as the pod would mount
// them.
//
// What differs from a pod, and only that: cluster DNS names become those
// loopback addresses, "0.0.0.0" becomes the component's own address, the
// mounted directories live under root, and the image's
// /var/lib/openstack/bin is Debian's /usr/bin. The image's own files (the
// paste pipelines, policies) come from Debian's /etc/<project>.
type cloud struct {
	// t is the current step, which failures are reported to; top is the
	// whole test, which the servers live as long as.
	t, top *testing.T
	root   string
	d      *v1.OpenStackDeployment
	result *render.Result
	creds  *testCredentials
	byName map[string]client.Object
	// ips maps a host's service name to its loopback address.
	ips map[string]string
	db  *mariadbtest.Server
	mq  *rabbitmqtest.Server
	// logs names each started component's log, for failures.
	logs map[string]*proctest.Process
}

// clusterHost is a cluster DNS name the renderer writes.
var clusterHost = regexp.MustCompile(`[a-z0-9][a-z0-9.-]*\.openstack\.svc\.cluster\.local`)

// newCloud renders testdata/<example>.yaml and starts its
// infrastructure: MariaDB, RabbitMQ and Memcached.
func newCloud(t *testing.T, example string) *cloud {
	t.Helper()
	proctest.Need(t, "memcached", "memcached")
	c := &cloud{t: t, top: t, root: t.TempDir(), ips: map[string]string{}, logs: map[string]*proctest.Process{}}
	b, err := os.ReadFile(filepath.Join("testdata", example+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c.d = &v1.OpenStackDeployment{}
	if err := yaml.UnmarshalStrict(b, c.d); err != nil {
		t.Fatalf("%s: %v", example, err)
	}
	c.db = mariadbtest.StartOn(t, c.ip("mariadb-server"), int(catalog.DatabasePort))
	c.mq = rabbitmqtest.StartOn(t, c.ip("rabbitmq"), int(catalog.MessagingPort), 15672)
	mc := proctest.Start(t, c.root, "memcached", exec.Command("memcached", "-u", "memcache", "-l", c.ip("memcached-server"),
		"-p", fmt.Sprint(catalog.MemcachedPort), "-U", "0"))
	c.logs["memcached"] = mc
	c.creds = &testCredentials{store: credentials.NewStore(nil), dbRoot: c.db.AdminPassword, busAdmin: c.mq.AdminPassword}
	c.render()
	return c
}

// render renders the deployment with the test's credentials, and with
// the Jobs of an upgrade to its own release (zed to zed): serviceJobs
// leaves those out, upgradeJobs returns them.
func (c *cloud) render() {
	res, err := render.Render(c.d, render.Options{Credentials: c.creds, UpgradeSteps: true})
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.creds.store.Require(res.Objects); err != nil {
		c.t.Fatal(err)
	}
	c.result, c.byName = res, map[string]client.Object{}
	for _, o := range res.Objects {
		c.byName[o.GetObjectKind().GroupVersionKind().Kind+"/"+o.GetName()] = o
	}
}

// ip returns the loopback address of a host, by its first DNS label: the
// RabbitMQ buses share one broker and the Memcached members one server.
func (c *cloud) ip(host string) string {
	name, _, _ := strings.Cut(host, ".")
	switch {
	case strings.HasPrefix(name, "rabbitmq-"):
		name = "rabbitmq"
	case strings.HasPrefix(name, "memcached-server"):
		name = "memcached-server"
	}
	if ip, ok := c.ips[name]; ok {
		return ip
	}
	ip := fmt.Sprintf("127.0.10.%d", len(c.ips)+1)
	c.ips[name] = ip
	return ip
}

// testCredentials are the deployment's credentials, except the admins of
// MariaDB and RabbitMQ, which the test's servers already have.
type testCredentials struct {
	store    *credentials.Store
	dbRoot   string
	busAdmin string
}

// Value implements render.Credentials.
func (tc *testCredentials) Value(secret, key string) string {
	switch {
	case secret == catalog.DatabaseRootSecret:
		return tc.dbRoot
	case strings.HasPrefix(secret, "rabbitmq-") && strings.HasSuffix(secret, "-credentials") && key == catalog.KeyPassword:
		return tc.busAdmin
	}
	return tc.store.Value(secret, key)
}

// secretData returns what a Secret holds: a rendered Secret's data, or
// the keys osk generated for it.
func (c *cloud) secretData(name string) map[string][]byte {
	if o, ok := c.byName["Secret/"+name]; ok {
		s := o.(*corev1.Secret)
		data := maps.Clone(s.Data)
		if data == nil {
			data = map[string][]byte{}
		}
		for k, v := range s.StringData {
			data[k] = []byte(v)
		}
		return data
	}
	for _, ch := range c.creds.store.Changes() {
		if ch.Secret == name {
			return ch.Data
		}
	}
	return nil
}

// process is a rendered container made runnable here.
type process struct {
	name string
	argv []string
	env  []string
}

// prepare writes what a pod of owner would mount and returns its first
// container as a local process.
func (c *cloud) prepare(owner string, pod *corev1.PodSpec) process {
	c.t.Helper()
	ctr := pod.Containers[0]
	self := c.ip(owner)
	prefixes := map[string]string{}
	for _, m := range ctr.VolumeMounts {
		top := topDirs(m.MountPath)
		prefixes[top] = filepath.Join(c.root, owner, top)
	}
	// One pass over every mounted directory, longest first: the root
	// itself lives under /tmp, which a pod may mount too.
	tops := slices.Sorted(maps.Keys(prefixes))
	slices.SortStableFunc(tops, func(a, b string) int { return len(b) - len(a) })
	for i, top := range tops {
		tops[i] = regexp.QuoteMeta(top)
	}
	mounted := regexp.MustCompile(`(` + strings.Join(tops, "|") + `)(/|\b)`)
	rewrite := func(s string) string {
		s = clusterHost.ReplaceAllStringFunc(s, c.ip)
		s = strings.ReplaceAll(s, "0.0.0.0", self)
		s = strings.ReplaceAll(s, "/var/lib/openstack/bin/", "/usr/bin/")
		if len(tops) == 0 {
			return s
		}
		return mounted.ReplaceAllStringFunc(s, func(m string) string {
			sub := mounted.FindStringSubmatch(m)
			return prefixes[sub[1]] + sub[2]
		})
	}
	for top, dir := range prefixes {
		c.imageFiles(top, dir)
	}
	for _, m := range ctr.VolumeMounts {
		c.mount(pod, m, filepath.Join(c.root, owner, m.MountPath), rewrite)
	}
	p := process{name: owner}
	for _, a := range append(slices.Clone(ctr.Command), ctr.Args...) {
		p.argv = append(p.argv, rewrite(a))
	}
	if cmd := ctr.Command[0]; cmd == "osk" || cmd == catalog.OskDir+"/osk" {
		p.argv[0] = oskBinary
	}
	p.env = append(os.Environ(), "UWSGI_PLUGINS=python3")
	for top, dir := range prefixes {
		if project, ok := strings.CutPrefix(top, "/etc/"); ok {
			// WSGI applications find their files by this variable.
			p.env = append(p.env, fmt.Sprintf("OS_%s_CONFIG_DIR=%s", strings.ToUpper(project), dir))
		}
	}
	for _, e := range ctr.Env {
		p.env = append(p.env, e.Name+"="+c.envValue(owner, e))
	}
	return p
}

// topDirs returns the first two levels of a path: /etc/nova of
// /etc/nova/nova.conf.
func topDirs(path string) string {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	if len(parts) < 2 {
		return path
	}
	return "/" + parts[0] + "/" + parts[1]
}

// imageFiles puts the files the service's image carries in /etc/<project>
// (paste pipelines, policies, rootwrap) into dir, from Debian's copy.
func (c *cloud) imageFiles(top, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	if !strings.HasPrefix(top, "/etc/") {
		return
	}
	if _, err := os.Stat(top); err != nil {
		return
	}
	if out, err := exec.Command("cp", "-a", top+"/.", dir).CombinedOutput(); err != nil {
		c.t.Fatalf("copying %s: %v\n%s", top, err, out)
	}
}

// mount writes one volume mount at path.
func (c *cloud) mount(pod *corev1.PodSpec, m corev1.VolumeMount, path string, rewrite func(string) string) {
	var vol *corev1.Volume
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == m.Name {
			vol = &pod.Volumes[i]
		}
	}
	var data map[string][]byte
	switch {
	case vol == nil:
		c.t.Fatalf("mount %s has no volume", m.Name)
	case vol.Secret != nil:
		data = c.secretData(vol.Secret.SecretName)
		if data == nil {
			c.t.Logf("secret %s is the user's and not part of this test; %s left empty", vol.Secret.SecretName, m.MountPath)
		}
	case vol.ConfigMap != nil:
		data = map[string][]byte{}
		for k, v := range c.byName["ConfigMap/"+vol.ConfigMap.Name].(*corev1.ConfigMap).Data {
			data[k] = []byte(v)
		}
	}
	if m.SubPath != "" {
		c.write(path, rewrite(string(data[m.SubPath])))
		return
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		c.t.Fatal(err)
	}
	for k, v := range data {
		c.write(filepath.Join(path, k), string(v))
	}
}

func (c *cloud) write(path, content string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

// envValue resolves one environment variable of a pod of owner.
func (c *cloud) envValue(owner string, e corev1.EnvVar) string {
	switch {
	case e.ValueFrom == nil:
		return e.Value
	case e.ValueFrom.SecretKeyRef != nil:
		return c.creds.Value(e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key)
	case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
		return c.d.Namespace
	}
	return owner
}

// job returns a rendered Job.
func (c *cloud) job(name string) *batchv1.Job {
	c.t.Helper()
	o, ok := c.byName["Job/"+name]
	if !ok {
		c.t.Fatalf("osk renders no Job %s", name)
	}
	return o.(*batchv1.Job)
}

// runJob runs a rendered Job's command to completion, failing the test
// with its output.
func (c *cloud) runJob(name string) {
	c.t.Helper()
	start := time.Now()
	if err := c.prepareJob(c.job(name)).run(context.Background()); err != nil {
		c.t.Fatal(err)
	}
	c.t.Logf("job %s: done in %s", name, time.Since(start).Round(time.Millisecond))
}

// startJobs runs rendered Jobs one after the other in the background, as
// a chain of after-annotations would, logging each as runJob does; wait
// returns the first failure (as runJob reports it) once they are done.
// Their files are written here, on the test's goroutine: only their
// processes run in the background. What still runs when the current step
// ends is killed.
func (c *cloud) startJobs(names ...string) (wait func() error) {
	c.t.Helper()
	t := c.t
	var jobs []jobProcess
	for _, n := range names {
		jobs = append(jobs, c.prepareJob(c.job(n)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		for _, j := range jobs {
			start := time.Now()
			if err := j.run(ctx); err != nil {
				done <- err
				return
			}
			t.Logf("job %s: done in %s", j.job.Name, time.Since(start).Round(time.Millisecond))
		}
		done <- nil
	}()
	wait = sync.OnceValue(func() error { return <-done })
	t.Cleanup(func() { cancel(); _ = wait() })
	return wait
}

// jobProcess is a rendered Job's command made runnable here.
type jobProcess struct {
	process
	job *batchv1.Job
	dir string
}

// prepareJob writes what a Job's pod would mount and returns its command.
func (c *cloud) prepareJob(j *batchv1.Job) jobProcess {
	c.t.Helper()
	return jobProcess{process: c.prepare(j.Name, &j.Spec.Template.Spec), job: j, dir: c.root}
}

// run runs the Job's command to completion, in a process group of its own
// that a cancelled ctx kills. Its error names the Job (and its upgrade
// step), the command and the end of its output.
func (p jobProcess) run(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, p.argv[0], p.argv[1:]...)
	cmd.Env, cmd.Dir = p.env, p.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	what := "job " + p.job.Name
	if step := p.job.Annotations[render.AnnotationUpgradeStep]; step != "" {
		what += " (upgrade step " + step + ")"
	}
	return fmt.Errorf("%s failed: %w\ncommand: %s\n%s", what, err, strings.Join(p.argv, " "), proctest.Tail(string(out), 40))
}

// serviceJobs returns a service's Jobs, those of an upgrade left out, in
// the order their after-annotations give, split into those before and
// after its workloads.
func (c *cloud) serviceJobs(service string) (before, after []string) {
	return c.orderedJobs(service, false)
}

// upgradeJobs returns the Jobs of a service's release upgrade in the order
// their after-annotations give, split into those before its workloads
// roll and those after.
func (c *cloud) upgradeJobs(service string) (before, after []string) {
	return c.orderedJobs(service, true)
}

// orderedJobs returns a service's Jobs of an upgrade, or its other Jobs,
// in the order their after-annotations give, split into those before and
// after its workloads.
func (c *cloud) orderedJobs(service string, upgrade bool) (before, after []string) {
	deps := map[string][]string{}
	for _, o := range c.result.Objects {
		j, ok := o.(*batchv1.Job)
		if !ok || j.Labels[render.LabelService] != service || (j.Annotations[render.AnnotationUpgradeStep] != "") != upgrade {
			continue
		}
		deps[j.Name] = nil
		if a := j.Annotations[render.AnnotationAfter]; a != "" {
			deps[j.Name] = strings.Split(a, ",")
		}
	}
	done := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if done[n] {
			return
		}
		done[n] = true
		for _, d := range deps[n] {
			visit(d)
		}
		if c.job(n).Annotations[render.AnnotationAfterWorkloads] == "true" {
			after = append(after, n)
		} else {
			before = append(before, n)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(deps)) {
		visit(n)
	}
	return before, after
}

// startDeployment runs a rendered Deployment's container and waits until
// its port answers.
func (c *cloud) startDeployment(name string, port int, ready func() error) {
	c.t.Helper()
	o, ok := c.byName["Deployment/"+name]
	if !ok {
		c.t.Fatalf("osk renders no Deployment %s", name)
	}
	p := c.prepare(name, &o.(*appsv1.Deployment).Spec.Template.Spec)
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Env, cmd.Dir = p.env, c.root
	proc := proctest.Start(c.top, c.root, name, cmd)
	c.logs[name] = proc
	start := time.Now()
	proc.WaitUntil(c.t, 3*time.Minute, ready)
	c.t.Logf("%s: answering on %s:%d after %s", name, c.ip(name), port, time.Since(start).Round(time.Millisecond))
}
