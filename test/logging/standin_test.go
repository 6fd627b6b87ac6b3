package logging_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// OpenSearchStandIn is a test stand-in for OpenSearch: it speaks the part
// of OpenSearch 2's _bulk API a log shipper uses (NDJSON action and
// document lines; index and create actions; a per-item result) and keeps
// what it received, across its own stops and starts. OpenSearch itself is
// neither in Debian's archive nor buildable from the Go module proxy, so
// the bed cannot run it. Like OpenSearch 2, it refuses an action that
// names a mapping type (_type).
type OpenSearchStandIn struct {
	Addr string

	mu       sync.Mutex
	docs     []Doc
	requests int
	srv      *http.Server
}

// Doc is one document received, with the index it was sent to.
type Doc struct {
	Index  string
	Fields map[string]any
}

// String returns a field as a string ("" when absent).
func (d Doc) String(key string) string {
	s, _ := d.Fields[key].(string)
	return s
}

// StartStandIn listens on addr (host:port) until Stop or the test's end.
func StartStandIn(t *testing.T, addr string) *OpenSearchStandIn {
	t.Helper()
	s := &OpenSearchStandIn{Addr: addr}
	s.Start(t)
	t.Cleanup(s.Stop)
	return s
}

// Start serves again on the same address.
func (s *OpenSearchStandIn) Start(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp", s.Addr)
	if err != nil {
		t.Fatalf("OpenSearch stand-in: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_bulk", s.bulk)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"version": map[string]any{"distribution": "opensearch", "number": "2.19.0"}})
	})
	s.mu.Lock()
	s.srv = &http.Server{Handler: mux}
	srv := s.srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

// Stop closes the listener and every connection: OpenSearch is down.
func (s *OpenSearchStandIn) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Docs returns every document received so far.
func (s *OpenSearchStandIn) Docs() []Doc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Doc(nil), s.docs...)
}

// Requests counts the bulk requests served.
func (s *OpenSearchStandIn) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// bulk answers a _bulk request as OpenSearch does: 200 with one item per
// action, errors true when one failed; a malformed body is a 400.
func (s *OpenSearchStandIn) bulk(w http.ResponseWriter, r *http.Request) {
	docs, items, err := parseBulk(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"type": "illegal_argument_exception", "reason": err.Error()}, "status": 400})
		return
	}
	s.mu.Lock()
	s.docs = append(s.docs, docs...)
	s.requests++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"took": 1, "errors": false, "items": items})
}

// parseBulk reads the NDJSON pairs of action and document.
func parseBulk(r *http.Request) ([]Doc, []map[string]any, error) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/x-ndjson") {
		return nil, nil, fmt.Errorf("Content-Type %q is not supported", ct)
	}
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var docs []Doc
	var items []map[string]any
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		op, index, err := parseAction(line)
		if err != nil {
			return nil, nil, err
		}
		if !sc.Scan() {
			return nil, nil, errors.New("the bulk request must be terminated by a newline: an action without its document")
		}
		var fields map[string]any
		if err := json.Unmarshal(sc.Bytes(), &fields); err != nil {
			return nil, nil, fmt.Errorf("document of action %d: %w", len(docs)+1, err)
		}
		docs = append(docs, Doc{Index: index, Fields: fields})
		items = append(items, map[string]any{op: map[string]any{"_index": index, "result": "created", "status": 201}})
	}
	return docs, items, sc.Err()
}

// parseAction reads an action line: {"index"|"create": {"_index": ...}}.
func parseAction(line []byte) (op, index string, err error) {
	var action map[string]map[string]any
	if err := json.Unmarshal(line, &action); err != nil || len(action) != 1 {
		return "", "", fmt.Errorf("Malformed action/metadata line: %s", line)
	}
	for op, meta := range action {
		if op != "index" && op != "create" {
			return "", "", fmt.Errorf("action %q is not index or create", op)
		}
		if _, ok := meta["_type"]; ok {
			return "", "", fmt.Errorf("Action/metadata line [1] contains an unknown parameter [_type]")
		}
		index, _ = meta["_index"].(string)
		if index == "" || strings.ToLower(index) != index {
			return "", "", fmt.Errorf("invalid index name [%s]", index)
		}
		return op, index, nil
	}
	return "", "", nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
