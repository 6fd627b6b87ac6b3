package compute_test

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// guestModules are the kernel modules the guest loads, in order, to reach
// its virtio network card (Debian's cloud kernel builds them as modules),
// each after those it depends on (modinfo -F depends).
var guestModules = []string{"virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev",
	"virtio_pci", "failover", "net_failover", "virtio_net"}

// GuestMarker starts the line the guest's init prints once it has read
// its metadata: "OSK-GUEST address=A uuid=U".
const guestMarker = "OSK-GUEST"

// guestInit is the guest's /init: it loads the network card's modules,
// asks DHCP for an address, reads the instance's metadata from
// 169.254.169.254 and prints its address and UUID to the serial console,
// saying what it waits for on the way. It never exits (the kernel would
// panic).
const guestInit = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "osk-guest: init after $(cut -d' ' -f1 /proc/uptime) s"
for m in %s; do insmod /lib/modules/$m.ko || echo "osk-guest: insmod $m failed"; done
ip link set lo up
n=0
until ip link set eth0 up 2>/dev/null; do
	n=$((n+1)); [ $n -gt 60 ] && { echo "osk-guest: no eth0"; ip link; break; }; sleep 1
done
until udhcpc -i eth0 -s /bin/dhcp-event -q -n -t 10 -T 3; do echo "osk-guest: no DHCP offer yet"; done
echo "osk-guest: address $(cat /tmp/address) after $(cut -d' ' -f1 /proc/uptime) s"
# timeout, not wget -T: busybox 1.35's static wget crashes with -T.
until timeout 20 wget -q -O /tmp/meta_data.json http://169.254.169.254/openstack/latest/meta_data.json; do
	echo "osk-guest: no metadata yet"; sleep 3
done
uuid=$(sed -n 's/.*"uuid": *"\([^"]*\)".*/\1/p' /tmp/meta_data.json)
echo "` + guestMarker + ` address=$(cat /tmp/address) uuid=$uuid after $(cut -d' ' -f1 /proc/uptime) s"
while :; do sleep 3600; done
`

// guestDHCPEvent is udhcpc's event script: it configures the leased
// address and routes (the classless static routes when the server sends
// them, as Neutron's dnsmasq does, else the router).
const guestDHCPEvent = `#!/bin/busybox sh
case "$1" in
deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
bound|renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/$mask" dev "$interface"
	if [ -n "$staticroutes" ]; then
		set -- $staticroutes
		while [ $# -ge 2 ]; do
			if [ "$1" = 0.0.0.0/0 ]; then ip route replace default via "$2"
			else ip route replace "$1" via "$2" dev "$interface"; fi
			shift 2
		done
	elif [ -n "$router" ]; then
		ip route replace default via "${router%% *}"
	fi
	echo "$ip" >/tmp/address ;;
esac
`

// guestKernel returns Debian's cloud kernel and the directory of its
// modules (package linux-image-cloud-amd64).
func guestKernel(t *testing.T) (kernel, modules string) {
	t.Helper()
	kernels, err := filepath.Glob("/boot/vmlinuz-*-cloud-amd64")
	if err != nil || len(kernels) == 0 {
		t.Fatalf("no /boot/vmlinuz-*-cloud-amd64: install Debian's linux-image-cloud-amd64 (sudo apt-get install -y linux-image-cloud-amd64)")
	}
	kernel = slices.Max(kernels)
	version := filepath.Base(kernel)[len("vmlinuz-"):]
	return kernel, filepath.Join("/usr/lib/modules", version, "kernel")
}

// guestInitramfs builds the guest's initramfs: busybox (busybox-static),
// the init above, its DHCP script and the network card's modules, as a
// gzipped newc cpio archive.
func guestInitramfs(t *testing.T, modules string) []byte {
	t.Helper()
	busybox := staticBusybox(t)
	var a cpioArchive
	for _, dir := range []string{"bin", "dev", "lib", "lib/modules", "proc", "sys", "tmp"} {
		a.add(dir, 0o040755, nil)
	}
	// The kernel opens /dev/console for init before anything mounts
	// devtmpfs.
	a.addDevice("dev/console", 0o020600, 5, 1)
	a.add("bin/busybox", 0o100755, busybox)
	a.add("init", 0o100755, fmt.Appendf(nil, guestInit, strings.Join(guestModules, " ")))
	a.add("bin/dhcp-event", 0o100755, []byte(guestDHCPEvent))
	for _, m := range guestModules {
		found, err := filepath.Glob(filepath.Join(modules, "*", "*", m+".ko"))
		if err == nil && len(found) == 0 {
			found, err = filepath.Glob(filepath.Join(modules, "*", m+".ko"))
		}
		if err != nil || len(found) != 1 {
			t.Fatalf("module %s under %s: found %v, %v", m, modules, found, err)
		}
		b, err := os.ReadFile(found[0])
		if err != nil {
			t.Fatal(err)
		}
		a.add("lib/modules/"+m+".ko", 0o100644, b)
	}
	var out bytes.Buffer
	z := gzip.NewWriter(&out)
	if _, err := z.Write(a.bytes()); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// staticBusybox reads /bin/busybox, which must be Debian's
// busybox-static: the initramfs has no C library for another.
func staticBusybox(t *testing.T) []byte {
	t.Helper()
	const path = "/bin/busybox"
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v (install Debian's busybox-static)", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatalf("%s is linked dynamically: install Debian's busybox-static", path)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cpioArchive writes the "newc" cpio format the kernel unpacks into its
// initramfs, every entry owned by root.
type cpioArchive struct {
	buf bytes.Buffer
	ino int
}

func (a *cpioArchive) add(name string, mode uint32, data []byte) { a.entry(name, mode, 0, 0, data) }

func (a *cpioArchive) addDevice(name string, mode uint32, major, minor int) {
	a.entry(name, mode, major, minor, nil)
}

func (a *cpioArchive) entry(name string, mode uint32, major, minor int, data []byte) {
	a.ino++
	// magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
	// devminor, rdevmajor, rdevminor, namesize, check
	fmt.Fprintf(&a.buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		a.ino, mode, 0, 0, 1, 0, len(data), 0, 0, major, minor, len(name)+1, 0)
	a.buf.WriteString(name + "\x00")
	a.pad()
	a.buf.Write(data)
	a.pad()
}

// pad aligns the archive to 4 bytes.
func (a *cpioArchive) pad() {
	for a.buf.Len()%4 != 0 {
		a.buf.WriteByte(0)
	}
}

func (a *cpioArchive) bytes() []byte {
	a.entry("TRAILER!!!", 0, 0, 0, nil)
	return a.buf.Bytes()
}
