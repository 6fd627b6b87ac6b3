// Package hardening_test proves on real OpenStack Zed services from
// Debian's archive, each started from its rendered workload
// (internal/testing/cloudtest), what osk's pod security, token caching
// and TLS inside the cloud promise: the APIs work as their image's
// unprivileged user with their files read-only, the tokens
// keystonemiddleware caches in memcached are encrypted, and with
// features.ssl.internal on the APIs serve HTTPS with osk's certificates.
package hardening_test

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/testing/cloudtest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// oskBinary is the osk command the Jobs run, built once by TestMain.
var oskBinary string

func TestMain(m *testing.M) { cloudtest.Main(m, &oskBinary) }

// unprivileged are the APIs this test runs as their pods' user.
var unprivileged = []cloudtest.API{cloudtest.CoreAPIs[0], cloudtest.CoreAPIs[2]}

// TestAPIsUnprivileged starts Keystone's and Glance's APIs as their pods
// run them: as the pod's user and group, with its fsGroup, the
// configuration files root's and read-only (the Secret volume's mode),
// the writable volumes the fsGroup's. It checks that each process runs as
// that user and cannot write its files, that a token is issued and images
// are listed, and that the token Glance cached in memcached is not there
// in clear.
func TestAPIsUnprivileged(t *testing.T) {
	proctest.Need(t, "keystone", "keystone-manage")
	proctest.Need(t, "glance-api", "glance-manage")
	proctest.Need(t, "uwsgi-plugin-python3", "uwsgi")
	proctest.Need(t, "util-linux", "setpriv")
	c := cloudtest.New(t, filepath.Join("testdata", "core.yaml"), oskBinary)
	openPath(t, c.Root)
	c.Wrap = func(object string, p cloudtest.Process) cloudtest.Process { return asPodUser(c, object, p) }
	for _, a := range unprivileged {
		if !t.Run(a.Service, func(t *testing.T) { c.T = t; c.StartAPI(a) }) {
			t.Fatalf("%s did not come up", a.Service)
		}
	}
	c.T = t
	for _, a := range unprivileged {
		t.Run(a.Deployment+" as its pod's user, files read-only", func(t *testing.T) {
			checkUser(t, c, a.Deployment)
		})
	}
	before := memcachedItems(t, c)
	admin := c.Admin()
	token := admin.Token()
	t.Run("token issued, images listed", func(t *testing.T) {
		ic, err := openstack.NewImageV2(admin, gophercloud.EndpointOpts{Availability: gophercloud.AvailabilityInternal})
		if err != nil {
			t.Fatal(err)
		}
		page, err := images.List(ic, nil).AllPages(t.Context())
		if err != nil {
			t.Fatalf("listing images as admin: %v", err)
		}
		all, err := images.ExtractImages(page)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("token of %d characters issued; glance lists %d images", len(token), len(all))
	})
	t.Run("no token in clear in memcached", func(t *testing.T) {
		after := memcachedItems(t, c)
		var added []string
		for k, v := range after {
			if _, ok := before[k]; !ok {
				added = append(added, k)
			}
			if strings.Contains(v, token) || strings.Contains(k, token) {
				t.Errorf("memcached item %s holds the token in clear", k)
			}
		}
		if len(added) == 0 {
			t.Fatal("using the token added nothing to memcached: glance cached no token, the check proves nothing")
		}
		if !t.Failed() {
			t.Logf("%d items in memcached (%d added by the token's use), none holding the token", len(after), len(added))
		}
	})
}

// podOf returns the pod template of a rendered Deployment.
func podOf(c *cloudtest.Cloud, object string) *corev1.PodSpec {
	d, ok := c.ByName[object].(*appsv1.Deployment)
	if !ok {
		c.T.Fatalf("osk renders no %s", object)
	}
	return &d.Spec.Template.Spec
}

// asPodUser runs a Deployment's process as its container's user and
// group with the pod's fsGroup as a supplementary group, as the kubelet
// does, with its volumes owned as the kubelet leaves them: a Secret
// volume's files root's with the volume's mode and the fsGroup's group,
// emptyDirs and claims writable by the fsGroup. Other workloads (the
// Jobs) run as they are.
func asPodUser(c *cloudtest.Cloud, object string, p cloudtest.Process) cloudtest.Process {
	if !strings.HasPrefix(object, "Deployment/") {
		return p
	}
	pod := podOf(c, object)
	ctr := pod.Containers[0]
	sc := ctr.SecurityContext
	if sc == nil || sc.RunAsUser == nil || pod.SecurityContext == nil || pod.SecurityContext.FSGroup == nil {
		c.T.Fatalf("%s: no user or fsGroup to run as", object)
	}
	uid, gid, fsGroup := *sc.RunAsUser, *sc.RunAsUser, *pod.SecurityContext.FSGroup
	if sc.RunAsGroup != nil {
		gid = *sc.RunAsGroup
	}
	_, owner, _ := strings.Cut(object, "/")
	local := c.Mounts(object)
	for _, m := range ctr.VolumeMounts {
		imageDir(c, filepath.Join(c.Root, owner), m.MountPath, fsGroup)
	}
	for _, m := range ctr.VolumeMounts {
		own(c.T, pod, m, local[m.MountPath], fsGroup)
	}
	p.Env = append(p.Env, "HOME=/nonexistent")
	p.Argv = append([]string{"setpriv", fmt.Sprintf("--reuid=%d", uid), fmt.Sprintf("--regid=%d", gid),
		fmt.Sprintf("--groups=%d", fsGroup), "--inh-caps=-all", "--no-new-privs"}, p.Argv...)
	return p
}

// imageDir makes the image's directory a mount lies in (/etc/keystone,
// copied here from Debian's, which only Debian's keystone group reads)
// readable and not writable by the service user, as the image's is, and
// the directories above it passable.
func imageDir(c *cloudtest.Cloud, root, mountPath string, fsGroup int64) {
	parts := strings.SplitN(strings.TrimPrefix(mountPath, "/"), "/", 3)
	if len(parts) < 2 || parts[0] != "etc" {
		return
	}
	top := filepath.Join(root, parts[0], parts[1])
	walk(c.T, top, func(p string, dir bool) error {
		if err := os.Chown(p, 0, int(fsGroup)); err != nil {
			return err
		}
		if dir {
			return os.Chmod(p, 0o750)
		}
		return os.Chmod(p, 0o640)
	})
	for dir := filepath.Dir(top); strings.HasPrefix(dir, root); dir = filepath.Dir(dir) {
		if err := os.Chmod(dir, 0o755); err != nil {
			c.T.Fatal(err)
		}
	}
}

// own sets the owner and mode of one mount's files as the kubelet would.
func own(t *testing.T, pod *corev1.PodSpec, m corev1.VolumeMount, path string, fsGroup int64) {
	t.Helper()
	var vol *corev1.Volume
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == m.Name {
			vol = &pod.Volumes[i]
		}
	}
	switch {
	case vol == nil || path == "":
		return
	case vol.Secret != nil:
		mode := os.FileMode(0o644)
		if vol.Secret.DefaultMode != nil {
			mode = os.FileMode(*vol.Secret.DefaultMode)
		}
		walk(t, path, func(p string, dir bool) error {
			if dir {
				return os.Chown(p, 0, int(fsGroup))
			}
			if err := os.Chown(p, 0, int(fsGroup)); err != nil {
				return err
			}
			return os.Chmod(p, mode)
		})
	default:
		walk(t, path, func(p string, dir bool) error {
			if err := os.Chown(p, 0, int(fsGroup)); err != nil {
				return err
			}
			if dir {
				return os.Chmod(p, 0o2775)
			}
			return os.Chmod(p, 0o664)
		})
	}
}

// walk calls fn on path and everything under it.
func walk(t *testing.T, path string, fn func(p string, dir bool) error) {
	t.Helper()
	err := filepath.Walk(path, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return fn(p, fi.IsDir())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// openPath lets every user through the directories down to dir, as a
// container's paths are.
func openPath(t *testing.T, dir string) {
	t.Helper()
	for ; dir != "/"; dir = filepath.Dir(dir) {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// checkUser checks that a Deployment's processes run as its container's
// user, none as root, and that this user cannot write the configuration
// files it reads.
func checkUser(t *testing.T, c *cloudtest.Cloud, deployment string) {
	object := "Deployment/" + deployment
	pod := podOf(c, object)
	uid := *pod.Containers[0].SecurityContext.RunAsUser
	pids := processesUnder(t, c.Logs[deployment].Pid())
	for _, pid := range pids {
		if got := processUID(t, pid); got != uid {
			t.Errorf("process %d of %s runs as uid %d, want %d", pid, deployment, got, uid)
		}
	}
	var files []string
	for path, local := range c.Mounts(object) {
		if strings.HasPrefix(path, "/etc/") && !strings.HasSuffix(path, "-keys") {
			files = append(files, local)
		}
	}
	if len(files) == 0 {
		t.Fatalf("%s mounts no configuration file", deployment)
	}
	for _, f := range files {
		write := exec.Command("setpriv", fmt.Sprintf("--reuid=%d", uid), fmt.Sprintf("--regid=%d", uid),
			fmt.Sprintf("--groups=%d", *pod.SecurityContext.FSGroup), "sh", "-c", `: >>"$1"`, "sh", f)
		if out, err := write.CombinedOutput(); err == nil {
			t.Errorf("uid %d can write %s", uid, f)
		} else {
			t.Logf("uid %d cannot write %s: %s", uid, filepath.Base(f), strings.TrimSpace(string(out)))
		}
	}
	t.Logf("%s: %d processes, all uid %d", deployment, len(pids), uid)
}

// processesUnder returns a process and its descendants, except the
// setpriv that started them, which exec'd into the first.
func processesUnder(t *testing.T, root int) []int {
	t.Helper()
	children := map[int][]int{}
	dirs, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		rest := s[strings.LastIndex(s, ")")+2:]
		var state string
		var pid, ppid int
		fmt.Sscan(s, &pid)
		fmt.Sscan(rest, &state, &ppid)
		children[ppid] = append(children[ppid], pid)
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// processUID is a process's real user id.
func processUID(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Uid:"); ok {
			var uid int64
			fmt.Sscan(v, &uid)
			return uid
		}
	}
	t.Fatalf("process %d has no Uid", pid)
	return -1
}

// memcachedItems reads every item memcached holds, raw: the keys from
// lru_crawler metadump, then each value.
func memcachedItems(t *testing.T, c *cloudtest.Cloud) map[string]string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(c.IP("memcached-server"), fmt.Sprint(catalog.MemcachedPort)), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute))
	r := bufio.NewReader(conn)
	fmt.Fprint(conn, "lru_crawler metadump all\r\n")
	var keys []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("memcached metadump: %v", err)
		}
		line = strings.TrimSpace(line)
		if line == "END" {
			break
		}
		if strings.HasPrefix(line, "ERROR") || strings.HasPrefix(line, "BUSY") {
			t.Fatalf("memcached metadump: %s", line)
		}
		k, ok := strings.CutPrefix(strings.Fields(line)[0], "key=")
		if !ok {
			continue
		}
		key, err := url.QueryUnescape(k)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	items := map[string]string{}
	for _, k := range keys {
		fmt.Fprintf(conn, "get %s\r\n", k)
		var value strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("memcached get %s: %v", k, err)
			}
			if line == "END\r\n" {
				break
			}
			if strings.HasPrefix(line, "VALUE ") {
				continue
			}
			value.WriteString(line)
		}
		items[k] = value.String()
	}
	return items
}
