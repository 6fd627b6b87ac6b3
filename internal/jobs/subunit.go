package jobs

import (
	"bufio"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"time"
	"unicode/utf8"
)

// Subunit v2 is the stream stestr (and so Tempest) records a run in: a
// sequence of packets, each a signature byte, 16 bits of flags, a length,
// optional fields the flags announce, and a CRC32 of the whole packet.
const (
	subunitSignature = 0xb3
	subunitVersion   = 0x2000
	flagTestID       = 0x0800
	flagRouteCode    = 0x0400
	flagTimestamp    = 0x0200
	flagTags         = 0x0080
	flagMIMEType     = 0x0020
	flagFileContent  = 0x0040
	statusMask       = 0x0007
)

// TestStatus is the status a subunit packet reports for a test.
type TestStatus int

// Subunit test statuses, as the flags' last three bits encode them.
const (
	StatusUndefined TestStatus = iota
	StatusExists
	StatusInProgress
	StatusSuccess
	StatusUnexpectedSuccess
	StatusSkip
	StatusFail
	StatusExpectedFail
)

// TestRun is one test of a subunit stream: its last status, when it
// started and ended, and its traceback or the reason it was skipped (its
// captured logs are left out).
type TestRun struct {
	ID         string
	Status     TestStatus
	Start, End time.Time
	Details    string
}

// Passed is true for a test that succeeded or failed as expected.
func (r TestRun) Passed() bool {
	return r.Status == StatusSuccess || r.Status == StatusExpectedFail
}

// Failed is true for a test that failed or succeeded unexpectedly.
func (r TestRun) Failed() bool {
	return r.Status == StatusFail || r.Status == StatusUnexpectedSuccess
}

// ReadSubunit reads a subunit v2 stream and returns every test that
// reached a final status, in the order they first appeared. Bytes between
// packets (a process's plain output) are skipped, as subunit's own tools
// do; a damaged packet is an error.
func ReadSubunit(r io.Reader) ([]TestRun, error) {
	br := bufio.NewReader(r)
	runs := map[string]*TestRun{}
	var order []string
	for {
		p, err := readPacket(br)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if p.testID == "" {
			continue
		}
		run, ok := runs[p.testID]
		if !ok {
			run = &TestRun{ID: p.testID}
			runs[p.testID] = run
			order = append(order, p.testID)
		}
		run.apply(p)
	}
	var out []TestRun
	for _, id := range order {
		if r := runs[id]; r.Status >= StatusSuccess {
			out = append(out, *r)
		}
	}
	return out, nil
}

// packet is what a subunit packet says about a test.
type packet struct {
	testID    string
	status    TestStatus
	timestamp time.Time
	// fileName and file are an attachment: the test's traceback, the
	// reason it was skipped, or its captured logs.
	fileName string
	file     []byte
}

func (r *TestRun) apply(p packet) {
	if p.status > StatusExists {
		r.Status = p.status
		if p.status == StatusInProgress || r.Start.IsZero() {
			r.Start = p.timestamp
		}
		r.End = p.timestamp
	}
	if (p.fileName == "traceback" || p.fileName == "reason") && utf8.Valid(p.file) {
		r.Details += string(p.file)
	}
}

// readPacket reads the next packet, skipping anything before its
// signature.
func readPacket(br *bufio.Reader) (packet, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return packet{}, err
		}
		if b == subunitSignature {
			break
		}
	}
	head := make([]byte, 3)
	if _, err := io.ReadFull(br, head); err != nil {
		return packet{}, fmt.Errorf("subunit: packet header: %w", err)
	}
	flags := binary.BigEndian.Uint16(head)
	if flags&0xf000 != subunitVersion {
		return packet{}, fmt.Errorf("subunit: packet version %#x, want 2", flags>>12)
	}
	lengthBytes := 1 + int(head[2]>>6)
	raw := append([]byte{subunitSignature}, head...)
	if lengthBytes > 1 {
		more := make([]byte, lengthBytes-1)
		if _, err := io.ReadFull(br, more); err != nil {
			return packet{}, fmt.Errorf("subunit: packet length: %w", err)
		}
		raw = append(raw, more...)
	}
	length, _, err := varint(raw[3:])
	if err != nil || length < len(raw)+4 {
		return packet{}, fmt.Errorf("subunit: packet length %d is too short", length)
	}
	rest := make([]byte, length-len(raw))
	if _, err := io.ReadFull(br, rest); err != nil {
		return packet{}, fmt.Errorf("subunit: packet body: %w", err)
	}
	raw = append(raw, rest...)
	body, sum := raw[:len(raw)-4], binary.BigEndian.Uint32(raw[len(raw)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return packet{}, errors.New("subunit: packet checksum does not match")
	}
	return parseFields(flags, body[3+lengthBytes:])
}

// parseFields reads a packet's optional fields, in the order the format
// lays them out.
func parseFields(flags uint16, b []byte) (packet, error) {
	p := packet{status: TestStatus(flags & statusMask)}
	f := fields{b: b}
	if flags&flagTimestamp != 0 {
		secs := f.uint32()
		nanos := f.varint()
		p.timestamp = time.Unix(int64(secs), int64(nanos)).UTC()
	}
	if flags&flagTestID != 0 {
		p.testID = f.string()
	}
	if flags&flagTags != 0 {
		for range f.varint() {
			f.string()
		}
	}
	if flags&flagMIMEType != 0 {
		f.string()
	}
	if flags&flagFileContent != 0 {
		p.fileName = f.string()
		p.file = f.bytes(f.varint())
	}
	if flags&flagRouteCode != 0 {
		f.string()
	}
	return p, f.err
}

// fields reads a packet's fields; the first error sticks.
type fields struct {
	b   []byte
	err error
}

func (f *fields) bytes(n int) []byte {
	if f.err != nil || n > len(f.b) {
		f.fail()
		return nil
	}
	out := f.b[:n]
	f.b = f.b[n:]
	return out
}

func (f *fields) uint32() uint32 {
	if b := f.bytes(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (f *fields) varint() int {
	if f.err != nil {
		return 0
	}
	n, used, err := varint(f.b)
	if err != nil {
		f.fail()
		return 0
	}
	f.b = f.b[used:]
	return n
}

func (f *fields) string() string { return string(f.bytes(f.varint())) }

func (f *fields) fail() {
	if f.err == nil {
		f.err = errors.New("subunit: a field runs past the end of its packet")
	}
}

// varint reads subunit's variable-length number: the first byte's top two
// bits say how many bytes follow.
func varint(b []byte) (value, used int, err error) {
	if len(b) == 0 {
		return 0, 0, io.ErrUnexpectedEOF
	}
	used = 1 + int(b[0]>>6)
	if len(b) < used {
		return 0, 0, io.ErrUnexpectedEOF
	}
	value = int(b[0] & 0x3f)
	for _, x := range b[1:used] {
		value = value<<8 | int(x)
	}
	return value, used, nil
}

// junitSuite is the JUnit XML most CI systems read.
type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     float64     `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Class   string        `xml:"classname,attr"`
	Name    string        `xml:"name,attr"`
	Time    float64       `xml:"time,attr"`
	Failure *junitMessage `xml:"failure,omitempty"`
	Skipped *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes runs as one JUnit test suite.
func WriteJUnit(w io.Writer, name string, runs []TestRun) error {
	s := junitSuite{Name: name, Tests: len(runs)}
	var first, last time.Time
	for _, r := range runs {
		c := junitCase{Name: r.ID, Time: r.End.Sub(r.Start).Seconds()}
		if i := lastDot(r.ID); i > 0 {
			c.Class, c.Name = r.ID[:i], r.ID[i+1:]
		}
		switch {
		case r.Failed():
			s.Failures++
			c.Failure = &junitMessage{Message: "failed", Text: r.Details}
		case r.Status == StatusSkip:
			s.Skipped++
			c.Skipped = &junitMessage{Message: firstLine(r.Details)}
		}
		if first.IsZero() || r.Start.Before(first) {
			first = r.Start
		}
		last = maxTime(last, r.End)
		s.Cases = append(s.Cases, c)
	}
	s.Time = last.Sub(first).Seconds()
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	return enc.Encode(s)
}

// lastDot is where a test's class ends and its method begins: the last
// dot before any bracketed attributes ("test_x[id-...,smoke]").
func lastDot(id string) int {
	end := len(id)
	if i := slices.Index([]byte(id), '['); i >= 0 {
		end = i
	}
	for i := end - 1; i >= 0; i-- {
		if id[i] == '.' {
			return i
		}
	}
	return -1
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
