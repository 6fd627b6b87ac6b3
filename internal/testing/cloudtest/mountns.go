package cloudtest

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// InMountNamespace returns p run in a mount namespace of its own where the
// pod's mounts of the workload object ("Kind/name") are at their paths, as
// in its container, for programs that know the paths of their own files
// and sockets and take no option to move them (libvirtd, Open vSwitch).
// own are directories of the image the process writes: each is the
// container's own, a directory of the test's. The mounts go with the
// namespace's processes.
func (c *Cloud) InMountNamespace(object string, p Process, own ...string) Process {
	c.T.Helper()
	_, owner, _ := strings.Cut(object, "/")
	mounts := c.Mounts(object)
	for _, dir := range own {
		mounts[dir] = filepath.Join(c.Root, owner, dir)
	}
	var script []string
	for _, path := range slices.Sorted(maps.Keys(mounts)) {
		if strings.HasPrefix(c.Root, path+"/") {
			// The pod's /tmp would hide the test's directory, where
			// the mounts come from: the host's stays.
			continue
		}
		script = append(script, c.bindMount(mounts[path], path))
	}
	script = append(script, `exec "$@"`)
	p.Argv = append([]string{"unshare", "--mount", "--propagation", "private", "/bin/sh", "-ec",
		strings.Join(script, "; "), "sh"}, p.Argv...)
	return p
}

// bindMount returns the shell command that mounts local at path: a file
// (a subPath mount) or a directory.
func (c *Cloud) bindMount(local, path string) string {
	fi, err := os.Stat(local)
	if err == nil && fi.Mode().IsRegular() {
		return fmt.Sprintf("[ -e %[2]q ] || { mkdir -p %[3]q; : >%[2]q; }; mount --bind %[1]q %[2]q", local, path, filepath.Dir(path))
	}
	if err := os.MkdirAll(local, 0o755); err != nil {
		c.T.Fatal(err)
	}
	return fmt.Sprintf("mkdir -p %[2]q; mount --bind %[1]q %[2]q", local, path)
}
