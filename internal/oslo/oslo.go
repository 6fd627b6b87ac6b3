// Package oslo builds the INI files OpenStack services read with
// oslo.config (and the few other INI files osk writes, such as uWSGI's and
// MariaDB's) from layers, and writes them deterministically.
package oslo

import (
	"bufio"
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// DefaultSection is the section of oslo.config's global options.
const DefaultSection = "DEFAULT"

// File is an INI file: sections of options. The zero value is not usable;
// call New.
type File struct {
	sections map[string]map[string]string
}

// New returns an empty file.
func New() *File { return &File{sections: map[string]map[string]string{}} }

// Set sets one option, creating the section when needed.
func (f *File) Set(section, key, value string) {
	s, ok := f.sections[section]
	if !ok {
		s = map[string]string{}
		f.sections[section] = s
	}
	s[key] = value
}

// Get returns one option and whether it is set.
func (f *File) Get(section, key string) (string, bool) {
	v, ok := f.sections[section][key]
	return v, ok
}

// Delete removes one option.
func (f *File) Delete(section, key string) {
	delete(f.sections[section], key)
	if len(f.sections[section]) == 0 {
		delete(f.sections, section)
	}
}

// Sections returns the names of the sections in the order Render writes
// them.
func (f *File) Sections() []string {
	names := make([]string, 0, len(f.sections))
	for name := range f.sections {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		// DEFAULT first, as oslo.config's own sample files do.
		if (names[i] == DefaultSection) != (names[j] == DefaultSection) {
			return names[i] == DefaultSection
		}
		return names[i] < names[j]
	})
	return names
}

// Keys returns the option names of a section, sorted.
func (f *File) Keys(section string) []string {
	keys := make([]string, 0, len(f.sections[section]))
	for k := range f.sections[section] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Merge lays a layer of section → option → value over the file; later
// layers win option by option.
func (f *File) Merge(layer map[string]map[string]string) { Merge(f, layer) }

// Merge lays a layer of any section → option → value map type over a file.
func Merge[L ~map[string]S, S ~map[string]string](f *File, layer L) {
	for section, options := range layer {
		for key, value := range options {
			f.Set(section, key, value)
		}
	}
}

// Clone returns a deep copy.
func (f *File) Clone() *File {
	c := New()
	c.Merge(f.sections)
	return c
}

// Render writes the file: DEFAULT first, then the other sections sorted,
// options sorted within each, so the same content always gives the same
// bytes.
func (f *File) Render() []byte {
	var b bytes.Buffer
	for i, section := range f.Sections() {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "[%s]\n", section)
		for _, key := range f.Keys(section) {
			fmt.Fprintf(&b, "%s = %s\n", key, f.sections[section][key])
		}
	}
	return b.Bytes()
}

// Parse reads an INI file as Render writes it: sections, "key = value"
// lines, and comments starting with # or ;.
func Parse(data []byte) (*File, error) {
	f := New()
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.TrimSpace(line[1 : len(line)-1])
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				return nil, fmt.Errorf("line %d: %q is neither a section nor an option in a section", n, line)
			}
			f.Set(section, strings.TrimSpace(key), strings.TrimSpace(value))
		}
	}
	return f, sc.Err()
}
