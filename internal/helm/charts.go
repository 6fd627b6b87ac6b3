package helm

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// fetchTimeout bounds one download from a repository.
const fetchTimeout = 2 * time.Minute

// Auth is what a repository needs to be reached: credentials and CA
// certificates, read from the Secrets the repository names.
type Auth struct {
	// Username and Password authenticate to the repository.
	Username, Password string
	// CA holds PEM certificates that sign the repository's certificate.
	CA []byte
}

// Charts resolves chart versions and downloads charts, keeping each
// downloaded chart version in memory (a version is immutable once
// published) and each repository index until the repository says it
// changed.
type Charts struct {
	mu      sync.Mutex
	charts  map[string]*chart.Chart
	indexes map[string]cachedIndex
	// clients are HTTP clients by CA bundle, reused so that connections
	// are.
	clients map[string]*http.Client
}

// cachedIndex is a parsed index.yaml and the validators to ask whether
// it changed.
type cachedIndex struct {
	index              *repo.IndexFile
	etag, lastModified string
}

// NewCharts returns an empty chart cache.
func NewCharts() *Charts {
	return &Charts{charts: map[string]*chart.Chart{}, indexes: map[string]cachedIndex{}, clients: map[string]*http.Client{}}
}

// Get returns the highest version of chart name in repository r that
// matches version (an exact version or a semantic version range).
func (c *Charts) Get(ctx context.Context, r v1.HelmRepository, auth Auth, name, version string) (*chart.Chart, error) {
	hc, err := c.httpClient(auth.CA)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", r.Name, err)
	}
	if registry.IsOCI(r.URL) {
		return c.getOCI(r, auth, hc, name, version)
	}
	return c.getHTTP(ctx, r, auth, hc, name, version)
}

func (c *Charts) getHTTP(ctx context.Context, r v1.HelmRepository, auth Auth, hc *http.Client, name, version string) (*chart.Chart, error) {
	base := strings.TrimSuffix(r.URL, "/") + "/"
	idx, err := c.index(ctx, hc, auth, base+"index.yaml")
	if err != nil {
		return nil, fmt.Errorf("reading the index of repository %s: %w", r.Name, err)
	}
	cv, err := idx.Get(name, version)
	if err != nil {
		return nil, fmt.Errorf("chart %s version %q in repository %s: %w", name, version, r.Name, err)
	}
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("chart %s %s in repository %s: no download URL", name, cv.Version, r.Name)
	}
	return c.cached(r.URL+"/"+name+"@"+cv.Version, func() (*chart.Chart, error) {
		u, err := resolveURL(base, cv.URLs[0])
		if err != nil {
			return nil, err
		}
		return loadArchive(download(ctx, hc, auth, u))
	})
}

func (c *Charts) getOCI(r v1.HelmRepository, auth Auth, hc *http.Client, name, version string) (*chart.Chart, error) {
	opts := []registry.ClientOption{registry.ClientOptHTTPClient(hc), registry.ClientOptWriter(io.Discard)}
	if r.PlainHTTP {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	if auth.Username != "" {
		opts = append(opts, registry.ClientOptBasicAuth(auth.Username, auth.Password))
	}
	rc, err := registry.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the registry client of %s: %w", r.Name, err)
	}
	ref := strings.TrimSuffix(strings.TrimPrefix(r.URL, "oci://"), "/") + "/" + name
	tags, err := rc.Tags(ref)
	if err != nil {
		return nil, fmt.Errorf("listing the versions of chart %s in repository %s: %w", name, r.Name, err)
	}
	tag, err := registry.GetTagMatchingVersionOrConstraint(tags, version)
	if err != nil {
		return nil, fmt.Errorf("chart %s version %q in repository %s: %w", name, version, r.Name, err)
	}
	return c.cached(r.URL+"/"+name+"@"+tag, func() (*chart.Chart, error) {
		res, err := rc.Pull(ref + ":" + tag)
		if err != nil {
			return nil, fmt.Errorf("pulling %s:%s: %w", ref, tag, err)
		}
		return loadArchive(res.Chart.Data, nil)
	})
}

// index returns a repository's index, downloaded again only when the
// repository says it changed (ETag or Last-Modified).
func (c *Charts) index(ctx context.Context, hc *http.Client, auth Auth, u string) (*repo.IndexFile, error) {
	c.mu.Lock()
	old := c.indexes[u]
	c.mu.Unlock()
	resp, err := get(ctx, hc, auth, u, func(h http.Header) {
		if old.etag != "" {
			h.Set("If-None-Match", old.etag)
		}
		if old.lastModified != "" {
			h.Set("If-Modified-Since", old.lastModified)
		}
	})
	if err != nil {
		return nil, err
	}
	if resp.notModified && old.index != nil {
		return old.index, nil
	}
	idx := &repo.IndexFile{}
	if err := yaml.Unmarshal(resp.body, idx); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", u, err)
	}
	idx.SortEntries()
	c.mu.Lock()
	c.indexes[u] = cachedIndex{index: idx, etag: resp.etag, lastModified: resp.lastModified}
	c.mu.Unlock()
	return idx, nil
}

// cached returns the chart stored under key, or loads and stores it.
func (c *Charts) cached(key string, load func() (*chart.Chart, error)) (*chart.Chart, error) {
	c.mu.Lock()
	ch, ok := c.charts[key]
	c.mu.Unlock()
	if ok {
		return ch, nil
	}
	ch, err := load()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.charts[key] = ch
	c.mu.Unlock()
	return ch, nil
}

func loadArchive(data []byte, err error) (*chart.Chart, error) {
	if err != nil {
		return nil, err
	}
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("loading the chart archive: %w", err)
	}
	return ch, nil
}

func resolveURL(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parsing %s: %w", base, err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("parsing %s: %w", ref, err)
	}
	return b.ResolveReference(r).String(), nil
}

func download(ctx context.Context, hc *http.Client, auth Auth, u string) ([]byte, error) {
	resp, err := get(ctx, hc, auth, u, func(http.Header) {})
	if err != nil {
		return nil, err
	}
	return resp.body, nil
}

// response is what get read of a response.
type response struct {
	body               []byte
	notModified        bool
	etag, lastModified string
}

// get sends a GET, its headers set by header, and reads the response; a
// status other than 200 and 304 is an error.
func get(ctx context.Context, hc *http.Client, auth Auth, u string, header func(http.Header)) (response, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return response{}, err
	}
	header(req.Header)
	if auth.Username != "" {
		req.SetBasicAuth(auth.Username, auth.Password)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	out := response{notModified: resp.StatusCode == http.StatusNotModified, etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified")}
	if resp.StatusCode != http.StatusOK && !out.notModified {
		return response{}, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	out.body, err = io.ReadAll(resp.Body)
	return out, err
}

// httpClient returns the HTTP client trusting ca (the system's roots when
// empty).
func (c *Charts) httpClient(ca []byte) (*http.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if hc, ok := c.clients[string(ca)]; ok {
		return hc, nil
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	if len(ca) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, errors.New("the CA Secret holds no PEM certificate")
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	hc := &http.Client{Transport: t}
	c.clients[string(ca)] = hc
	return hc, nil
}
