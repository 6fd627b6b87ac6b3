package jobs

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"hash/crc32"
	"strings"
	"testing"
	"time"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// event is one packet a test writes, as subunit's StreamResultToBytes
// lays it out.
type event struct {
	id     string
	status TestStatus
	at     time.Time
	file   string
	// name is the attachment's name; "traceback" when empty.
	name string
}

// encodeVarint is subunit's variable-length number.
func encodeVarint(n int) []byte {
	switch {
	case n < 1<<6:
		return []byte{byte(n)}
	case n < 1<<14:
		return []byte{0x40 | byte(n>>8), byte(n)}
	case n < 1<<22:
		return []byte{0x80 | byte(n>>16), byte(n >> 8), byte(n)}
	}
	return []byte{0xc0 | byte(n>>24), byte(n >> 16), byte(n >> 8), byte(n)}
}

func encodeString(s string) []byte { return append(encodeVarint(len(s)), s...) }

// encode writes e as a subunit v2 packet, with a tag and a route code so
// that the fields the parser skips are exercised too.
func encode(e event) []byte {
	flags := uint16(subunitVersion) | uint16(e.status) | flagTestID | flagTags | flagRouteCode
	var body []byte
	if !e.at.IsZero() {
		flags |= flagTimestamp
		body = binary.BigEndian.AppendUint32(body, uint32(e.at.Unix()))
		body = append(body, encodeVarint(e.at.Nanosecond())...)
	}
	body = append(body, encodeString(e.id)...)
	body = append(append(body, encodeVarint(1)...), encodeString("worker-0")...)
	if e.file != "" {
		flags |= flagFileContent | flagMIMEType
		body = append(body, encodeString("text/plain;charset=utf8")...)
		name := e.name
		if name == "" {
			name = "traceback"
		}
		body = append(append(body, encodeString(name)...), encodeVarint(len(e.file))...)
		body = append(body, e.file...)
	}
	body = append(body, encodeString("0")...)
	// The length counts the whole packet: signature, flags, the length
	// itself and the CRC. Choose its width by the total it gives.
	for width := 1; width <= 3; width++ {
		total := 1 + 2 + width + len(body) + 4
		l := encodeVarint(total)
		if len(l) != width {
			continue
		}
		p := append([]byte{subunitSignature}, byte(flags>>8), byte(flags))
		p = append(append(p, l...), body...)
		return binary.BigEndian.AppendUint32(p, crc32.ChecksumIEEE(p))
	}
	panic("packet too long")
}

func stream(events ...event) []byte {
	var b []byte
	for _, e := range events {
		b = append(b, encode(e)...)
	}
	return b
}

var t0 = time.Date(2026, 12, 3, 19, 0, 0, 0, time.UTC)

func TestReadSubunit(t *testing.T) {
	long := strings.Repeat("Traceback line\n", 1200) // a packet over 16 KiB: a 3-byte length
	in := stream(
		event{id: "tempest.api.a.Test.test_ok[id-1,smoke]", status: StatusInProgress, at: t0},
		event{id: "tempest.api.a.Test.test_ok[id-1,smoke]", status: StatusSuccess, at: t0.Add(2 * time.Second)},
		event{id: "tempest.api.b.Test.test_bad", status: StatusInProgress, at: t0.Add(time.Second)},
		event{id: "tempest.api.b.Test.test_bad", file: long},
		event{id: "tempest.api.b.Test.test_bad", file: "DEBUG a captured log line", name: "pythonlogging:''"},
		event{id: "tempest.api.b.Test.test_bad", status: StatusFail, at: t0.Add(3 * time.Second)},
		event{id: "tempest.api.c.Test.test_skip", status: StatusSkip, at: t0.Add(time.Second), file: "Cinder is not available", name: "reason"},
		event{id: "tempest.api.d.Test.test_listed", status: StatusExists},
	)
	// Plain output between packets is skipped, as subunit's tools do.
	in = append([]byte("some process output\n"), in...)
	runs, err := ReadSubunit(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 {
		t.Fatalf("got %d tests, want 3 (a listed test that never ran is not one): %+v", len(runs), runs)
	}
	if r := runs[0]; !r.Passed() || r.End.Sub(r.Start) != 2*time.Second {
		t.Errorf("first test: %+v, want passed in 2s", r)
	}
	if r := runs[1]; !r.Failed() || r.Details != long {
		t.Errorf("second test: failed %v, details of %d bytes, want failed with the whole traceback and not its logs", r.Failed(), len(r.Details))
	}
	if r := runs[2]; r.Status != StatusSkip || r.Details != "Cinder is not available" {
		t.Errorf("third test: %+v, want skipped with its reason", r)
	}
	res := Summarize(runs)
	want := v1.TempestResult{Result: v1.TempestFailed, Passed: 1, Failed: 1, Skipped: 1, FailedTests: []string{"tempest.api.b.Test.test_bad"}}
	if res.Result != want.Result || res.Passed != 1 || res.Failed != 1 || res.Skipped != 1 ||
		len(res.FailedTests) != 1 || res.FailedTests[0] != want.FailedTests[0] || !res.Finished.Time.Equal(t0.Add(3*time.Second)) {
		t.Errorf("summary %+v, want %+v finished at %s", res, want, t0.Add(3*time.Second))
	}
}

func TestReadSubunitRefusesADamagedPacket(t *testing.T) {
	in := stream(event{id: "tempest.api.a.Test.test_ok", status: StatusSuccess, at: t0})
	in[len(in)-6] ^= 0xff // a byte of the test's ID
	if _, err := ReadSubunit(bytes.NewReader(in)); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("got %v, want a checksum error", err)
	}
	if _, err := ReadSubunit(bytes.NewReader(in[:len(in)-3])); err == nil {
		t.Fatal("a cut packet was read")
	}
}

func TestSummarizeNamesAtMostTenFailures(t *testing.T) {
	var runs []TestRun
	for i := range 12 {
		runs = append(runs, TestRun{ID: "t" + string(rune('a'+i)), Status: StatusFail})
	}
	runs = append(runs, TestRun{ID: "ok", Status: StatusExpectedFail}, TestRun{ID: "surprise", Status: StatusUnexpectedSuccess})
	res := Summarize(runs)
	if res.Failed != 13 || res.Passed != 1 || len(res.FailedTests) != 10 || res.Result != v1.TempestFailed {
		t.Fatalf("summary %+v, want 13 failed (an unexpected success fails), 1 passed (an expected failure passes), 10 named", res)
	}
}

func TestWriteJUnit(t *testing.T) {
	runs := []TestRun{
		{ID: "tempest.api.a.Test.test_ok[id-1,smoke]", Status: StatusSuccess, Start: t0, End: t0.Add(time.Second)},
		{ID: "tempest.api.b.Test.test_bad", Status: StatusFail, Start: t0, End: t0.Add(2 * time.Second), Details: "boom"},
		{ID: "setUpClass (tempest.api.c.Test)", Status: StatusSkip, Start: t0, End: t0, Details: "Cinder is not available\nmore"},
	}
	var b bytes.Buffer
	if err := WriteJUnit(&b, "tempest", runs); err != nil {
		t.Fatal(err)
	}
	var got junitSuite
	if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if got.Tests != 3 || got.Failures != 1 || got.Skipped != 1 || got.Time != 2 {
		t.Errorf("suite %+v, want 3 tests, 1 failure, 1 skipped over 2s", got)
	}
	c := got.Cases[0]
	if c.Class != "tempest.api.a.Test" || c.Name != "test_ok[id-1,smoke]" || c.Time != 1 {
		t.Errorf("first case %+v", c)
	}
	if f := got.Cases[1].Failure; f == nil || f.Text != "boom" {
		t.Errorf("second case's failure %+v, want the traceback", f)
	}
	if s := got.Cases[2].Skipped; s == nil || s.Message != "Cinder is not available" {
		t.Errorf("third case's skip %+v, want its reason's first line", s)
	}
}

func TestParsePublicNetwork(t *testing.T) {
	n, err := ParsePublicNetwork("physnet1,203.0.113.0/24,203.0.113.1,203.0.113.10,203.0.113.200")
	if err != nil || *n != (PublicNetwork{"physnet1", "203.0.113.0/24", "203.0.113.1", "203.0.113.10", "203.0.113.200"}) {
		t.Fatalf("got %+v, %v", n, err)
	}
	if _, err := ParsePublicNetwork("physnet1,203.0.113.0/24"); err == nil {
		t.Fatal("a network without its pool was accepted")
	}
}
