package render

import (
	"sort"
	"strconv"
	"strings"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/oslo"
)

// fileSet is a service's configuration files being built, by name.
type fileSet map[string]*oslo.File

// Set implements catalog.Files.
func (fs fileSet) Set(file, section, key, value string) {
	if f, ok := fs[file]; ok {
		f.Set(section, key, value)
	}
}

// Delete implements catalog.Files.
func (fs fileSet) Delete(file, section, key string) {
	if f, ok := fs[file]; ok {
		f.Delete(section, key)
	}
}

// dropDatabase removes the sections the service's database wiring
// writes.
func (fs fileSet) dropDatabase(s *catalog.Service) {
	for _, cf := range s.Config {
		for _, w := range cf.Wiring {
			if f, ok := fs[cf.Name]; ok && w.Kind == catalog.WireDatabase {
				section := or(w.Section, "database")
				for _, k := range f.Keys(section) {
					f.Delete(section, k)
				}
			}
		}
	}
}

func (fs fileSet) clone() fileSet {
	c := make(fileSet, len(fs))
	for n, f := range fs {
		c[n] = f.Clone()
	}
	return c
}

// merge lays overrides (file → section → option → value) over the files.
func (fs fileSet) merge(overrides map[string]v1.OsloFile) {
	for name, layer := range overrides {
		if f, ok := fs[name]; ok {
			oslo.Merge(f, layer)
		}
	}
}

// baseFiles builds a service's files from every layer but the
// component's and the node's: catalog defaults < wiring < size <
// features < the spec's service overrides.
func (m *model) baseFiles(s *catalog.Service, ctx *catalog.Context) fileSet {
	fs := fileSet{}
	for _, cf := range s.Config {
		if cf.Format == catalog.FormatRaw || (cf.When != nil && !cf.When(ctx)) {
			continue
		}
		f := oslo.New()
		oslo.Merge(f, cf.Defaults)
		for _, w := range cf.Wiring {
			m.wire(s, f, w)
		}
		fs[cf.Name] = f
	}
	workers := strconv.Itoa(catalog.Workers(m.d.Spec.Size))
	for _, c := range s.Components {
		if c.Workers != nil {
			fs.Set(c.Workers.File, c.Workers.Section, c.Workers.Key, workers)
		}
	}
	if s.Features != nil {
		s.Features(ctx, fs)
	}
	m.serveTLS(s, fs)
	fs.merge(m.d.Spec.Services[s.Name].Config)
	return fs
}

// componentFiles lays the component's own layers over the base files:
// the catalog's component layer, then the spec's component overrides.
func (m *model) componentFiles(s *catalog.Service, c *catalog.Component, base fileSet) fileSet {
	fs := base.clone()
	if c.NoDatabase {
		fs.dropDatabase(s)
	}
	fs.merge(c.Layer)
	fs.merge(m.d.Spec.Services[s.Name].Components[c.Name].Config)
	return fs
}

// content renders the files a workload reads: name → bytes. Raw files
// are generated whole.
func (m *model) content(s *catalog.Service, ctx *catalog.Context, fs fileSet, reads []string) map[string][]byte {
	out := map[string][]byte{}
	for _, name := range reads {
		cf, ok := s.File(name)
		if !ok || (cf.When != nil && !cf.When(ctx)) {
			continue
		}
		switch {
		case cf.Format == catalog.FormatRaw:
			out[name] = cf.Generate(ctx)
		case cf.Format == catalog.FormatFlat:
			out[name] = renderFlat(fs[name])
		default:
			out[name] = fs[name].Render()
		}
	}
	return out
}

// allFiles is every file name of a service.
func allFiles(s *catalog.Service) []string {
	names := make([]string, len(s.Config))
	for i, f := range s.Config {
		names[i] = f.Name
	}
	return names
}

// renderFlat writes a file without sections: "key = value" lines, sorted.
func renderFlat(f *oslo.File) []byte {
	var b strings.Builder
	for _, k := range f.Keys("") {
		v, _ := f.Get("", k)
		b.WriteString(k + " = " + v + "\n")
	}
	return []byte(b.String())
}

// secretKey turns a file name into a Secret key ("plugins/ml2/x.ini" →
// "plugins.ml2.x.ini"); Secret keys cannot hold slashes.
func secretKey(file string) string { return strings.ReplaceAll(file, "/", ".") }

// sortedKeys returns a map's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
