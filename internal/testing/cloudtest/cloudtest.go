// Package cloudtest runs a deployment osk renders as local processes: the
// real-software bed of test/openstack, test/compute and the others. The
// infrastructure and the OpenStack services come from Debian's archive;
// every component runs the command its rendered container has, with the
// files its pod would mount.
package cloudtest

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
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

// Cloud is a deployment rendered by osk and run as local processes: the
// infrastructure and the OpenStack services from Debian's archive, each
// component on a loopback address of its own (so every port stays the
// one osk renders), its files written under Root as the pod would mount
// them.
//
// What differs from a pod, and only that: cluster DNS names become those
// loopback addresses, "0.0.0.0" becomes the component's own address, the
// mounted directories live under Root, and the image's
// /var/lib/openstack/bin is Debian's /usr/bin. The image's own files (the
// paste pipelines, policies, rootwrap filters) come from Debian's
// /etc/<project>: copied into a mounted /etc/<project>, and in place of
// the image's /var/lib/openstack/etc/<project>.
//
// Each Cloud takes a /24 of 127.0.0.0/8 of its own, chosen at random, so
// several beds run side by side.
type Cloud struct {
	// T is the current step, which failures are reported to; Top is the
	// whole test, which the servers live as long as.
	T, Top *testing.T
	// Root holds every component's files.
	Root string
	// D is the deployment, as read from its file.
	D *v1.OpenStackDeployment
	// Result is the last rendering of D.
	Result *render.Result
	// Creds are the deployment's credentials.
	Creds *Credentials
	// ByName holds the rendered objects by "Kind/name".
	ByName map[string]client.Object
	// DB and MQ are the deployment's MariaDB and RabbitMQ.
	DB *mariadbtest.Server
	MQ *rabbitmqtest.Server
	// Logs names each started component's process, for failures.
	Logs map[string]*proctest.Process
	// Osk is the osk binary that stands for the image's osk.
	Osk string
	// Ceph is the data of the Ceph Secret the deployment renders with;
	// nil renders placeholders.
	Ceph map[string][]byte
	// Wrap, when set, may change the process Start runs for a workload,
	// named "Kind/name" (to run it in namespaces of its own).
	Wrap func(object string, p Process) Process

	net string // the first three octets of this cloud's addresses
	ips map[string]string
	// hosts is the bed's hosts file and hostNames the names it holds,
	// once ResolveNames was called.
	hosts     string
	hostNames map[string]bool
}

// clusterHost is a cluster DNS name the renderer writes.
var clusterHost = regexp.MustCompile(`[a-z0-9][a-z0-9.-]*\.openstack\.svc\.cluster\.local`)

// New reads the deployment in file, renders it and starts its
// infrastructure: MariaDB, RabbitMQ and Memcached. osk is the osk binary
// the rendered commands run (see BuildOsk).
func New(t *testing.T, file, osk string) *Cloud {
	t.Helper()
	proctest.Need(t, "memcached", "memcached")
	c := &Cloud{T: t, Top: t, Root: t.TempDir(), Osk: osk, ips: map[string]string{}, Logs: map[string]*proctest.Process{},
		net: fmt.Sprintf("127.%d.%d.", 20+rand.IntN(230), rand.IntN(256))}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	c.D = &v1.OpenStackDeployment{}
	if err := yaml.UnmarshalStrict(b, c.D); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	c.DB = mariadbtest.StartOn(t, c.IP("mariadb-server"), int(catalog.DatabasePort))
	c.MQ = rabbitmqtest.StartOn(t, c.IP("rabbitmq"), int(catalog.MessagingPort), 15672)
	mc := proctest.Start(t, c.Root, "memcached", exec.Command("memcached", "-u", "memcache", "-l", c.IP("memcached-server"),
		"-p", fmt.Sprint(catalog.MemcachedPort), "-U", "0"))
	c.Logs["memcached"] = mc
	c.Creds = &Credentials{Store: credentials.NewStore(nil), dbRoot: c.DB.AdminPassword, busAdmin: c.MQ.AdminPassword}
	c.Render()
	return c
}

// Main builds osk, sets *osk to its path, runs the tests and exits with
// their status, removing the binary: a bed's TestMain.
func Main(m *testing.M, osk *string) {
	path, cleanup, err := BuildOsk()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*osk = path
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// BuildOsk builds osk into a new temporary directory, for a TestMain;
// cleanup removes it.
func BuildOsk() (path string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "osk-cloudtest")
	if err != nil {
		return "", nil, err
	}
	path = filepath.Join(dir, "osk")
	build := exec.Command("go", "build", "-o", path, "github.com/oskproject/osk/cmd/osk")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("building osk: %w", err)
	}
	return path, func() { os.RemoveAll(dir) }, nil
}

// Render renders the deployment with the test's credentials, and with
// the Jobs of an upgrade to its own release (zed to zed): serviceJobs
// leaves those out, upgradeJobs returns them.
func (c *Cloud) Render() {
	res, err := render.Render(c.D, render.Options{Credentials: c.Creds, UpgradeSteps: true, Ceph: c.Ceph})
	if err != nil {
		c.T.Fatal(err)
	}
	if err := c.Creds.Store.Require(res.Objects); err != nil {
		c.T.Fatal(err)
	}
	c.Result, c.ByName = res, map[string]client.Object{}
	for _, o := range res.Objects {
		c.ByName[o.GetObjectKind().GroupVersionKind().Kind+"/"+o.GetName()] = o
	}
}

// Local rewrites the cluster DNS names in s to this bed's loopback
// addresses (kept as they are after ResolveNames).
func (c *Cloud) Local(s string) string {
	return clusterHost.ReplaceAllStringFunc(s, c.host)
}

// IP returns the loopback address of a host, by its first DNS label: the
// RabbitMQ buses share one broker and the Memcached members one server.
func (c *Cloud) IP(host string) string {
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
	ip := fmt.Sprintf("%s%d", c.net, len(c.ips)+1)
	c.ips[name] = ip
	return ip
}

// Credentials are the deployment's credentials, except the admins of
// MariaDB and RabbitMQ, which the test's servers already have.
type Credentials struct {
	// Store generates and holds every other credential.
	Store    *credentials.Store
	dbRoot   string
	busAdmin string
}

// Value implements render.Credentials.
func (tc *Credentials) Value(secret, key string) string {
	switch {
	case secret == catalog.DatabaseRootSecret:
		return tc.dbRoot
	case strings.HasPrefix(secret, "rabbitmq-") && strings.HasSuffix(secret, "-credentials") && key == catalog.KeyPassword:
		return tc.busAdmin
	}
	return tc.Store.Value(secret, key)
}

// SecretData returns what a Secret holds: a rendered Secret's data, or
// the keys osk generated for it.
func (c *Cloud) SecretData(name string) map[string][]byte {
	if o, ok := c.ByName["Secret/"+name]; ok {
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
	for _, ch := range c.Creds.Store.Changes() {
		if ch.Secret == name {
			return ch.Data
		}
	}
	return nil
}

// Process is a rendered container made runnable here.
type Process struct {
	// Name is the component's.
	Name string
	// Argv is the command and its arguments, rewritten for here.
	Argv []string
	// Env is the process's whole environment.
	Env []string
}

// Prepare writes what a pod of owner would mount and returns its first
// container as a local Process.
func (c *Cloud) Prepare(owner string, pod *corev1.PodSpec) Process {
	c.T.Helper()
	return c.PrepareContainer(owner, pod, pod.Containers[0])
}

// HostDir is where the host directories the pods mount (hostPath
// volumes) live, under Root: one node, shared by every pod, as a node's
// directories are. The host's kernel interfaces (KernelPaths) are the
// host's own.
const HostDir = "host"

// KernelPaths are the hostPath mounts that stay the host's: devices,
// sysfs and cgroups, kernel modules and the network namespaces' mount
// points (ip netns and pyroute2 know no other place).
var KernelPaths = []string{"/dev", "/sys", "/lib/modules", "/run/netns"}

// mountRoot returns the local directory of the two top levels of a mount
// of owner's pod, and false for a kernel path, which is not moved.
func (c *Cloud) mountRoot(owner string, pod *corev1.PodSpec, m corev1.VolumeMount) (string, bool) {
	top := topDirs(m.MountPath)
	vol := volume(pod, m.Name)
	if vol == nil || vol.HostPath == nil {
		return filepath.Join(c.Root, owner, top), true
	}
	for _, k := range KernelPaths {
		if m.MountPath == k || strings.HasPrefix(m.MountPath, k+"/") {
			return "", false
		}
	}
	return filepath.Join(c.Root, HostDir, top), true
}

// Mounts returns where the mounts of a rendered workload's containers
// live here, by mount path (once Prepare wrote them); the kernel paths
// are left out.
func (c *Cloud) Mounts(object string) map[string]string {
	c.T.Helper()
	_, owner, _ := strings.Cut(object, "/")
	pod := c.podSpec(object)
	out := map[string]string{}
	for _, ctr := range pod.Containers {
		for _, m := range ctr.VolumeMounts {
			if dir, ok := c.mountRoot(owner, pod, m); ok {
				out[m.MountPath] = localPath(dir, m)
			}
		}
	}
	return out
}

// localPath is where a mount whose top levels live in dir lives here.
func localPath(dir string, m corev1.VolumeMount) string {
	return dir + strings.TrimPrefix(m.MountPath, topDirs(m.MountPath))
}

// PrepareContainer writes what one container of a pod of owner mounts
// and returns it as a local Process.
func (c *Cloud) PrepareContainer(owner string, pod *corev1.PodSpec, ctr corev1.Container) Process {
	c.T.Helper()
	self := c.IP(owner)
	prefixes := map[string]string{}
	local := map[string]string{}
	var mounts []corev1.VolumeMount
	for _, m := range ctr.VolumeMounts {
		if dir, ok := c.mountRoot(owner, pod, m); ok {
			prefixes[topDirs(m.MountPath)] = dir
			local[m.MountPath] = localPath(dir, m)
			mounts = append(mounts, m)
		}
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
		s = clusterHost.ReplaceAllStringFunc(s, c.host)
		s = strings.ReplaceAll(s, "0.0.0.0", self)
		s = strings.ReplaceAll(s, "/var/lib/openstack/bin/", "/usr/bin/")
		// The image's shipped files are Debian's, in the host's /etc,
		// which no mount moves: hidden from the mounts' rewrite.
		s = strings.ReplaceAll(s, "/var/lib/openstack/etc/", shippedMark)
		if len(tops) > 0 {
			s = mounted.ReplaceAllStringFunc(s, func(m string) string {
				sub := mounted.FindStringSubmatch(m)
				return prefixes[sub[1]] + sub[2]
			})
		}
		return strings.ReplaceAll(s, shippedMark, "/etc/")
	}
	for top, dir := range prefixes {
		c.imageFiles(top, dir)
	}
	for _, m := range mounts {
		c.mount(pod, m, local[m.MountPath], rewrite)
	}
	p := Process{Name: owner}
	for _, a := range append(slices.Clone(ctr.Command), ctr.Args...) {
		p.Argv = append(p.Argv, rewrite(a))
	}
	if cmd := ctr.Command[0]; cmd == "osk" || cmd == catalog.OskDir+"/osk" {
		p.Argv[0] = c.Osk
	}
	p.Env = append(os.Environ(), "UWSGI_PLUGINS=python3")
	for top, dir := range prefixes {
		if project, ok := strings.CutPrefix(top, "/etc/"); ok {
			// WSGI applications find their files by this variable.
			p.Env = append(p.Env, fmt.Sprintf("OS_%s_CONFIG_DIR=%s", strings.ToUpper(project), dir))
		}
	}
	for _, e := range ctr.Env {
		p.Env = append(p.Env, e.Name+"="+c.envValue(owner, e))
	}
	return c.withHosts(p)
}

// shippedMark stands for the image's /var/lib/openstack/etc/ while a
// rewrite moves the mounted directories.
const shippedMark = "\x00shipped\x00/"

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
func (c *Cloud) imageFiles(top, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.T.Fatal(err)
	}
	if !strings.HasPrefix(top, "/etc/") {
		return
	}
	if _, err := os.Stat(top); err != nil {
		return
	}
	if out, err := exec.Command("cp", "-a", top+"/.", dir).CombinedOutput(); err != nil {
		c.T.Fatalf("copying %s: %v\n%s", top, err, out)
	}
}

// mount writes one volume mount at path.
func (c *Cloud) mount(pod *corev1.PodSpec, m corev1.VolumeMount, path string, rewrite func(string) string) {
	vol := volume(pod, m.Name)
	var data map[string][]byte
	switch {
	case vol == nil:
		c.T.Fatalf("mount %s has no volume", m.Name)
	case vol.Secret != nil:
		data = c.SecretData(vol.Secret.SecretName)
		if data == nil {
			c.T.Logf("secret %s is the user's and not part of this test; %s left empty", vol.Secret.SecretName, m.MountPath)
		}
	case vol.ConfigMap != nil:
		data = map[string][]byte{}
		for k, v := range c.ByName["ConfigMap/"+vol.ConfigMap.Name].(*corev1.ConfigMap).Data {
			data[k] = []byte(v)
		}
	}
	data = projected(vol, data)
	if m.SubPath != "" {
		c.write(path, rewrite(string(data[m.SubPath])))
		return
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		c.T.Fatal(err)
	}
	for k, v := range data {
		c.write(filepath.Join(path, k), string(v))
	}
}

// volume returns the pod's volume of a name, or nil.
func volume(pod *corev1.PodSpec, name string) *corev1.Volume {
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == name {
			return &pod.Volumes[i]
		}
	}
	return nil
}

func (c *Cloud) write(path, content string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		c.T.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		c.T.Fatal(err)
	}
}

// envValue resolves one environment variable of a pod of owner.
func (c *Cloud) envValue(owner string, e corev1.EnvVar) string {
	switch {
	case e.ValueFrom == nil:
		return e.Value
	case e.ValueFrom.SecretKeyRef != nil:
		return c.Creds.Value(e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key)
	case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
		return c.D.Namespace
	}
	return owner
}

// Job returns a rendered Job.
func (c *Cloud) Job(name string) *batchv1.Job {
	c.T.Helper()
	o, ok := c.ByName["Job/"+name]
	if !ok {
		c.T.Fatalf("osk renders no Job %s", name)
	}
	return o.(*batchv1.Job)
}

// RunJob runs a rendered Job's command to completion, failing the test
// with its output.
func (c *Cloud) RunJob(name string) {
	c.T.Helper()
	start := time.Now()
	if err := c.PrepareJob(c.Job(name)).Run(context.Background()); err != nil {
		c.T.Fatal(err)
	}
	c.T.Logf("job %s: done in %s", name, time.Since(start).Round(time.Millisecond))
}

// StartJobs runs rendered Jobs one after the other in the background, as
// a chain of after-annotations would, logging each as runJob does; wait
// returns the first failure (as runJob reports it) once they are done.
// Their files are written here, on the test's goroutine: only their
// processes run in the background. What still runs when the current step
// ends is killed.
func (c *Cloud) StartJobs(names ...string) (wait func() error) {
	c.T.Helper()
	t := c.T
	var jobs []JobProcess
	for _, n := range names {
		jobs = append(jobs, c.PrepareJob(c.Job(n)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		for _, j := range jobs {
			start := time.Now()
			if err := j.Run(ctx); err != nil {
				done <- err
				return
			}
			t.Logf("job %s: done in %s", j.Job.Name, time.Since(start).Round(time.Millisecond))
		}
		done <- nil
	}()
	wait = sync.OnceValue(func() error { return <-done })
	t.Cleanup(func() { cancel(); _ = wait() })
	return wait
}

// JobProcess is a rendered Job's command made runnable here.
type JobProcess struct {
	Process
	// Job is the rendered Job.
	Job *batchv1.Job
	dir string
}

// PrepareJob writes what a Job's pod would mount and returns its command.
func (c *Cloud) PrepareJob(j *batchv1.Job) JobProcess {
	c.T.Helper()
	return JobProcess{Process: c.Prepare(j.Name, &j.Spec.Template.Spec), Job: j, dir: c.Root}
}

// Run runs the Job's command to completion, in a Process group of its own
// that a cancelled ctx kills. Its error names the Job (and its upgrade
// step), the command and the end of its output.
func (p JobProcess) Run(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, p.Argv[0], p.Argv[1:]...)
	cmd.Env, cmd.Dir = p.Env, p.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	what := "job " + p.Job.Name
	if step := p.Job.Annotations[render.AnnotationUpgradeStep]; step != "" {
		what += " (upgrade step " + step + ")"
	}
	return fmt.Errorf("%s failed: %w\ncommand: %s\n%s", what, err, strings.Join(p.Argv, " "), proctest.Tail(string(out), 40))
}

// ServiceJobs returns a service's Jobs, those of an upgrade left out, in
// the order their after-annotations give, split into those before and
// after its workloads.
func (c *Cloud) ServiceJobs(service string) (before, after []string) {
	return c.orderedJobs(service, false)
}

// UpgradeJobs returns the Jobs of a service's release upgrade in the order
// their after-annotations give, split into those before its workloads
// roll and those after.
func (c *Cloud) UpgradeJobs(service string) (before, after []string) {
	return c.orderedJobs(service, true)
}

// orderedJobs returns a service's Jobs of an upgrade, or its other Jobs,
// in the order their after-annotations give, split into those before and
// after its workloads.
func (c *Cloud) orderedJobs(service string, upgrade bool) (before, after []string) {
	deps := map[string][]string{}
	for _, o := range c.Result.Objects {
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
		if c.Job(n).Annotations[render.AnnotationAfterWorkloads] == "true" {
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

// ReadyTimeout bounds how long Start waits for a workload to be ready. A
// bed of many Python services on a loaded machine may raise it.
var ReadyTimeout = 3 * time.Minute

// StartDeployment runs a rendered Deployment's container and waits until
// ready (its port answering).
func (c *Cloud) StartDeployment(name string, port int, ready func() error) {
	c.T.Helper()
	start := time.Now()
	c.Start("Deployment/"+name, ready)
	c.T.Logf("%s: answering on %s:%d after %s", name, c.IP(name), port, time.Since(start).Round(time.Millisecond))
}

// Start runs the first container of a rendered Deployment, StatefulSet
// or DaemonSet, named "Kind/name", for as long as the whole test, and
// waits until ready, unless ready is nil.
func (c *Cloud) Start(object string, ready func() error) *proctest.Process {
	c.T.Helper()
	return c.StartContainer(object, "", ready)
}

// StartContainer is Start for one named container of the workload's pod
// (a sidecar); "" is the first. Its log is named "name/container".
func (c *Cloud) StartContainer(object, container string, ready func() error) *proctest.Process {
	c.T.Helper()
	kind, name, _ := strings.Cut(object, "/")
	pod := c.podSpec(object)
	ctr, log := pod.Containers[0], name
	if container != "" {
		i := slices.IndexFunc(pod.Containers, func(ct corev1.Container) bool { return ct.Name == container })
		if i < 0 {
			c.T.Fatalf("%s has no container %s", object, container)
		}
		ctr, log = pod.Containers[i], name+"/"+container
	}
	p := c.PrepareContainer(name, pod, ctr)
	if c.Wrap != nil {
		p = c.Wrap(object, p)
	}
	cmd := exec.Command(p.Argv[0], p.Argv[1:]...)
	cmd.Env, cmd.Dir = p.Env, c.Root
	proc := proctest.Start(c.Top, c.Root, strings.ReplaceAll(log, "/", "-"), cmd)
	c.Logs[log] = proc
	if ready != nil {
		proc.WaitUntil(c.T, ReadyTimeout, ready)
	}
	c.T.Logf("%s %s: started", kind, log)
	return proc
}

// RunInit runs the init containers of a rendered workload, named
// "Kind/name", one after the other to completion, as the kubelet does
// before it starts the pod's containers (osk node-config, for one).
func (c *Cloud) RunInit(object string) {
	c.T.Helper()
	_, name, _ := strings.Cut(object, "/")
	pod := c.podSpec(object)
	for _, ctr := range pod.InitContainers {
		p := c.PrepareContainer(name, pod, ctr)
		cmd := exec.Command(p.Argv[0], p.Argv[1:]...)
		cmd.Env, cmd.Dir = p.Env, c.Root
		if out, err := cmd.CombinedOutput(); err != nil {
			c.T.Fatalf("%s: init container %s failed: %v\ncommand: %s\n%s", object, ctr.Name, err,
				strings.Join(p.Argv, " "), proctest.Tail(string(out), 40))
		}
	}
}

// podSpec returns the pod template of a rendered workload.
func (c *Cloud) podSpec(object string) *corev1.PodSpec {
	c.T.Helper()
	switch o := c.ByName[object].(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template.Spec
	case *appsv1.StatefulSet:
		return &o.Spec.Template.Spec
	case *appsv1.DaemonSet:
		return &o.Spec.Template.Spec
	case nil:
		c.T.Fatalf("osk renders no %s", object)
	default:
		c.T.Fatalf("%s is not a workload", object)
	}
	return nil
}
