package cephkeys

import (
	"strings"
	"testing"
)

// key is a real cephx key, as ceph-authtool --gen-print-key prints one.
const key = "AQDI6BFrTzOfFxAA8jovXopMLcNCLkeL8ofZRQ=="

func complete() map[string][]byte {
	return map[string][]byte{
		FSID:                          []byte("4b5c8c0a-ff60-454b-a1b4-9747aa737d19"),
		MonHost:                       []byte("[v2:10.0.0.1:3300,v1:10.0.0.1:6789],10.0.0.2:6789"),
		RGWInternalURL:                []byte("http://rook-ceph-rgw-openstack-store.rook-ceph.svc:8080"),
		Pool(RoleImages):              []byte("images"),
		ClientKey(ClientGlance):       []byte(key),
		ClientKey(ClientCinder):       []byte(key + "\n"), // kubectl create --from-file keeps the newline
		ClientKey(ClientGnocchi):      []byte("AQAAAAAA"),
		Pool(RoleVolumes):             []byte("volumes ssd"),
		Pool(RoleVMs):                 []byte("vms"),
		ClientKey("notbase64"):        []byte("@@@"),
		"mon-host-bad-port":           []byte("x"),
		ClientKey(ClientCinderBackup): []byte(""),
	}
}

func TestCheck(t *testing.T) {
	data := complete()
	for _, tc := range []struct {
		name string
		data map[string][]byte
		keys []string
		want string
	}{
		{"complete", data, []string{FSID, MonHost, Pool(RoleImages), ClientKey(ClientGlance), ClientKey(ClientCinder), Pool(RoleVMs), RGWInternalURL}, ""},
		{"no secret", nil, []string{FSID, ClientKey(ClientGlance)}, "Secret s lacks client.glance.key, fsid"},
		{"empty value", data, []string{ClientKey(ClientCinderBackup)}, "Secret s lacks client.cinder-backup.key"},
		{"short key", data, []string{ClientKey(ClientGnocchi)}, "Secret s client.gnocchi.key is not a cephx key (as ceph auth get-key prints it)"},
		{"not base64", data, []string{ClientKey("notbase64")}, "Secret s client.notbase64.key is not base64"},
		{"pool with space", data, []string{Pool(RoleVolumes)}, "Secret s pool.volumes is not a pool name (no spaces, commas, '=', '/' or '@')"},
		{"missing and bad", data, []string{Pool(RoleBackup), Pool(RoleVolumes)}, "Secret s lacks pool.backup; pool.volumes is not a pool name (no spaces, commas, '=', '/' or '@')"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Check(tc.data, tc.keys)
			got := ""
			if len(p) > 0 {
				got = Summary("s", p)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if strings.Contains(got, key[:10]) {
				t.Errorf("the message shows a key: %q", got)
			}
		})
	}
}

func TestCheckValues(t *testing.T) {
	for _, tc := range []struct {
		key, value string
		ok         bool
	}{
		{FSID, "4b5c8c0a-ff60-454b-a1b4-9747aa737d19", true},
		{FSID, "4b5c8c0a", false},
		{MonHost, "10.0.0.1:6789", true},
		{MonHost, "v2:10.0.0.1:3300,v1:10.0.0.1:6789", true},
		{MonHost, "[v2:[fd00::1]:3300,v1:[fd00::1]:6789]", true},
		{MonHost, "mon-a.rook-ceph.svc:6789", false},
		{MonHost, "10.0.0.1", false},
		{MonHost, "10.0.0.1:0", false},
		{MonHost, ",", false},
		{RGWInternalURL, "https://rgw:8443", true},
		{RGWInternalURL, "rgw:8080", false},
		{Pool(RoleImages), "images", true},
		{Pool(RoleImages), "a,b", false},
		{ClientKey(ClientGlance), key, true},
		{ClientKey(ClientGlance), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", false},
	} {
		if got := checkValue(tc.key, tc.value) == ""; got != tc.ok {
			t.Errorf("%s = %q: ok %v, want %v (%s)", tc.key, tc.value, got, tc.ok, checkValue(tc.key, tc.value))
		}
	}
}

func TestFiles(t *testing.T) {
	conf := string(Conf("f", "10.0.0.1:6789"))
	for _, want := range []string{"[global]\n", "fsid = f\n", "mon host = 10.0.0.1:6789\n", "auth client required = cephx\n"} {
		if !strings.Contains(conf, want) {
			t.Errorf("ceph.conf lacks %q:\n%s", want, conf)
		}
	}
	if got, want := string(Keyring("glance", key)), "[client.glance]\n\tkey = "+key+"\n"; got != want {
		t.Errorf("keyring %q, want %q", got, want)
	}
	if KeyringFile("glance") != "ceph.client.glance.keyring" {
		t.Errorf("keyring file %q", KeyringFile("glance"))
	}
}
