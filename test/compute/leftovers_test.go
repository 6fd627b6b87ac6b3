package compute_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// agentNamespaces are the prefixes of the network namespaces Neutron's
// DHCP and L3 agents make: a network's, a router's, DVR's.
var agentNamespaces = []string{"qdhcp-", "qrouter-", "snat-", "fip-"}

// reapLeftovers registers the cleanup that runs once every process the
// bed started has stopped: in a pod, what the agents and libvirtd start
// (dnsmasq, haproxy, keepalived, the guests' QEMU) dies with the pod's
// container; here these daemons leave their parent's process group and
// outlive it. It kills every process that names the bed's directory and
// is not the test's descendant, then deletes the network namespaces the
// agents made since start (their mounts went with the agents' mount
// namespaces; the names stay in /run/netns). Register it before the
// node's processes start, so that it runs after they stop.
func reapLeftovers(t *testing.T, dir string) {
	before := agentNetns(t)
	t.Cleanup(func() {
		for _, pid := range orphans(dir) {
			t.Logf("killing process %d, left behind: %s", pid, cmdline(pid))
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(time.Second)
		for _, pid := range orphans(dir) {
			t.Errorf("process %d outlived SIGKILL: %s", pid, cmdline(pid))
		}
		for _, ns := range agentNetns(t) {
			if slices.Contains(before, ns) {
				continue
			}
			t.Logf("deleting network namespace %s, left behind", ns)
			if err := os.Remove(filepath.Join("/run/netns", ns)); err != nil {
				t.Errorf("deleting network namespace %s: %v", ns, err)
			}
		}
	})
}

// agentNetns lists the network namespaces named as the agents name theirs.
func agentNetns(t *testing.T) []string {
	entries, err := os.ReadDir("/run/netns")
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if slices.ContainsFunc(agentNamespaces, func(p string) bool { return strings.HasPrefix(e.Name(), p) }) {
			out = append(out, e.Name())
		}
	}
	return out
}

// orphans are the processes whose command line names dir and which do
// not descend from the test.
func orphans(dir string) []int {
	paths, _ := filepath.Glob("/proc/[0-9]*")
	var out []int
	for _, p := range paths {
		pid, err := strconv.Atoi(filepath.Base(p))
		if err != nil || !strings.Contains(cmdline(pid), dir) || descendsFrom(pid, os.Getpid()) {
			continue
		}
		out = append(out, pid)
	}
	return out
}

// cmdline is a process's command line, its arguments joined by spaces;
// empty once it has gone (or is a zombie).
func cmdline(pid int) string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

// descendsFrom says whether pid is ancestor or one of its descendants.
func descendsFrom(pid, ancestor int) bool {
	for pid > 1 {
		if pid == ancestor {
			return true
		}
		stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			return false
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) < 2 {
			return false
		}
		if pid, err = strconv.Atoi(fields[1]); err != nil {
			return false
		}
	}
	return false
}
