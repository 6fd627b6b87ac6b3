package oslo

import "testing"

func TestLayersAndDeterministicRender(t *testing.T) {
	f := New()
	f.Merge(map[string]map[string]string{
		"database":     {"max_retries": "-1", "connection": "sqlite://"},
		DefaultSection: {"debug": "false"},
	})
	f.Merge(map[string]map[string]string{DefaultSection: {"debug": "true", "log_dir": "/var/log"}})
	want := "[DEFAULT]\ndebug = true\nlog_dir = /var/log\n\n[database]\nconnection = sqlite://\nmax_retries = -1\n"
	for i := 0; i < 5; i++ {
		if got := string(f.Render()); got != want {
			t.Fatalf("Render() =\n%s\nwant\n%s", got, want)
		}
	}
	parsed, err := Parse(f.Render())
	if err != nil {
		t.Fatal(err)
	}
	if string(parsed.Render()) != want {
		t.Fatalf("Parse(Render()) does not round-trip:\n%s", parsed.Render())
	}
}

func TestCloneIsDeep(t *testing.T) {
	f := New()
	f.Set("a", "k", "1")
	c := f.Clone()
	c.Set("a", "k", "2")
	if v, _ := f.Get("a", "k"); v != "1" {
		t.Fatalf("Clone shares state: original now %q", v)
	}
	c.Delete("a", "k")
	if len(c.Sections()) != 0 {
		t.Fatalf("empty section kept after Delete: %v", c.Sections())
	}
}

func TestParseRejectsOptionOutsideSection(t *testing.T) {
	if _, err := Parse([]byte("debug = true\n")); err == nil {
		t.Fatal("Parse accepted an option before any section")
	}
}
