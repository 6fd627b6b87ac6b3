package cephkeys

import (
	"encoding/base64"
	"encoding/binary"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func checkUUID(v string) string {
	if !uuidPattern.MatchString(v) {
		return "is not a UUID"
	}
	return ""
}

// checkMonHost checks every monitor address of a "mon host" value.
func checkMonHost(v string) string {
	fields := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	if len(fields) == 0 {
		return "names no monitor"
	}
	for _, f := range fields {
		// A monitor's addresses may be grouped: [v2:IP:port,v1:IP:port].
		if strings.HasPrefix(f, "[v") {
			f = f[1:]
		}
		if strings.Count(f, "]") > strings.Count(f, "[") {
			f = strings.TrimSuffix(f, "]")
		}
		if d := checkMonAddr(f); d != "" {
			return d
		}
	}
	return ""
}

// checkMonAddr checks one address: [v1:|v2:]IP:port.
func checkMonAddr(a string) string {
	a = strings.TrimPrefix(strings.TrimPrefix(a, "v1:"), "v2:")
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return "has an address that is not IP:port (" + strconv.Quote(a) + ")"
	}
	if net.ParseIP(host) == nil {
		return "has a monitor host that is not an IP address (" + strconv.Quote(host) + "): Ceph's clients take addresses"
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return "has a monitor port out of range (" + strconv.Quote(port) + ")"
	}
	return ""
}

func checkURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "is not an http or https URL with a host"
	}
	return ""
}

// checkPoolName refuses what ceph.conf and the services' files cannot
// carry.
func checkPoolName(v string) string {
	if strings.ContainsAny(v, " \t\n,=/@") {
		return "is not a pool name (no spaces, commas, '=', '/' or '@')"
	}
	return ""
}

// checkCephxKey checks a cephx secret: base64 of a 12-byte header (type
// 1, AES, creation time, length 16) and the 16-byte key. The value is
// never repeated in the message.
func checkCephxKey(v string) string {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return "is not base64"
	}
	if len(b) != 28 || binary.LittleEndian.Uint16(b[0:2]) != 1 || binary.LittleEndian.Uint16(b[10:12]) != 16 {
		return "is not a cephx key (as ceph auth get-key prints it)"
	}
	return ""
}
