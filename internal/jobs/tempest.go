package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/common/extensions"
	"github.com/gophercloud/gophercloud/v2/openstack/utils"
	"github.com/gophercloud/gophercloud/v2/pagination"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/oslo"
)

// Tempest runs OpenStack's acceptance suite against the cloud as its
// admin: it creates what the suite needs and a fresh cloud lacks (two
// flavors, a small image, a public network), completes the rendered
// tempest.conf with their IDs and with the microversions the APIs serve,
// runs the tests, keeps the results (subunit and JUnit XML) in the
// workspace, sums them up, and removes what it created.
type Tempest struct {
	// Config is the rendered tempest.conf.
	Config string
	// Workspace is Tempest's workspace, on the Job's volume.
	Workspace string
	// AdminPassword is the password of the admin in [auth].
	AdminPassword string
	// ImageFile holds the test image's bytes; empty uploads a small
	// generated one (enough for the API tests, not for a guest).
	ImageFile string
	// PublicNetwork is the cloud's floating network, when it has one.
	PublicNetwork *PublicNetwork
	// Command is Tempest's command ("tempest").
	Command string
	// RunArgs are passed to "tempest run" (the test selection).
	RunArgs []string
	// Wait is how long to wait for Keystone to answer.
	Wait time.Duration
	// Out receives Tempest's output.
	Out io.Writer
}

// PublicNetwork is the floating network Tempest's tests use: an external
// network on Physnet; if the cloud has none there, the Job creates one
// with this subnet for the run.
type PublicNetwork struct {
	Physnet, CIDR, Gateway, PoolStart, PoolEnd string
}

// ParsePublicNetwork reads "physnet,cidr,gateway,pool-start,pool-end".
func ParsePublicNetwork(spec string) (*PublicNetwork, error) {
	p := strings.Split(spec, ",")
	if len(p) != 5 {
		return nil, fmt.Errorf("public network %q: want physnet,cidr,gateway,pool-start,pool-end", spec)
	}
	return &PublicNetwork{Physnet: p[0], CIDR: p[1], Gateway: p[2], PoolStart: p[3], PoolEnd: p[4]}, nil
}

// Results names the files a run leaves in the workspace.
const (
	ResultsSubunit = "results.subunit"
	ResultsJUnit   = "results.xml"
	ResultsSummary = "summary.json"
	// RunConfig is the completed tempest.conf, under etc/.
	RunConfig = "tempest.conf"
)

// Run runs the suite once and returns its summary. A run whose tests
// fail still returns its summary and no error: the error is for a run
// that could not happen or left no results.
func (t *Tempest) Run(ctx context.Context) (*v1.TempestResult, error) {
	conf, err := t.readConfig()
	if err != nil {
		return nil, err
	}
	cloud, err := t.connect(ctx, conf)
	if err != nil {
		return nil, err
	}
	defer cloud.cleanup(t.Out)
	if err := cloud.prepare(ctx, conf, t); err != nil {
		return nil, fmt.Errorf("preparing the cloud for Tempest: %w", err)
	}
	if err := t.initWorkspace(ctx); err != nil {
		return nil, err
	}
	if _, set := conf.Get("oslo_concurrency", "lock_path"); !set {
		conf.Set("oslo_concurrency", "lock_path", filepath.Join(t.Workspace, "tempest_lock"))
	}
	runConf := filepath.Join(t.Workspace, "etc", RunConfig)
	if err := writeFile(runConf, conf.Render()); err != nil {
		return nil, err
	}
	if err := t.run(ctx, runConf); err != nil {
		return nil, err
	}
	return t.collect()
}

func (t *Tempest) readConfig() (*oslo.File, error) {
	b, err := os.ReadFile(t.Config)
	if err != nil {
		return nil, fmt.Errorf("reading tempest.conf: %w", err)
	}
	conf, err := oslo.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("reading tempest.conf: %w", err)
	}
	return conf, nil
}

// connect logs in as the admin tempest.conf names, waiting for Keystone.
func (t *Tempest) connect(ctx context.Context, conf *oslo.File) (*tempestCloud, error) {
	get := func(section, key string) string { v, _ := conf.Get(section, key); return v }
	opts := gophercloud.AuthOptions{
		IdentityEndpoint: get("identity", "uri_v3"),
		Username:         get("auth", "admin_username"),
		Password:         t.AdminPassword,
		DomainName:       or(get("auth", "admin_domain_name"), "Default"),
		TenantName:       get("auth", "admin_project_name"),
		AllowReauth:      true,
	}
	var p *gophercloud.ProviderClient
	err := waitFor(ctx, t.Wait, "waiting for Keystone at "+opts.IdentityEndpoint, func(ctx context.Context) error {
		var err error
		p, err = openstack.AuthenticatedClient(ctx, opts)
		return err
	})
	if err != nil {
		return nil, err
	}
	eo := gophercloud.EndpointOpts{Region: get("identity", "region"), Availability: gophercloud.AvailabilityInternal}
	return &tempestCloud{provider: p, endpoints: eo}, nil
}

// initWorkspace makes the workspace, unless a run already made it (its
// earlier results stay).
func (t *Tempest) initWorkspace(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(t.Workspace, ".stestr.conf")); err == nil {
		return nil
	}
	// What a failed init left would make tempest init refuse.
	index := filepath.Join(filepath.Dir(t.Workspace), "workspace.yaml")
	for _, p := range []string{t.Workspace, index} {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	if err := t.tempest(ctx, filepath.Dir(t.Workspace), "init", "--workspace-path", index, t.Workspace); err != nil {
		return fmt.Errorf("tempest init: %w", err)
	}
	return nil
}

// run runs Tempest in the workspace. Its exit status only says whether a
// test failed; the results say which.
func (t *Tempest) run(ctx context.Context, conf string) error {
	args := append([]string{"run", "--config-file", conf}, t.RunArgs...)
	if err := t.tempest(ctx, t.Workspace, args...); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return fmt.Errorf("tempest run: %w", err)
		}
		fmt.Fprintf(t.Out, "tempest run exited with %d; the results say why\n", exit.ExitCode())
	}
	return nil
}

func (t *Tempest) tempest(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, t.Command, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, t.Out, t.Out
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return cmd.Run()
}

// collect keeps the last run's subunit stream, writes it as JUnit XML
// and sums it up.
func (t *Tempest) collect() (*v1.TempestResult, error) {
	cmd := exec.Command("stestr", "last", "--subunit")
	cmd.Dir = t.Workspace
	var stream, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stream, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("reading the run's results (stestr last): %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	if err := writeFile(filepath.Join(t.Workspace, ResultsSubunit), stream.Bytes()); err != nil {
		return nil, err
	}
	runs, err := ReadSubunit(&stream)
	if err != nil {
		return nil, fmt.Errorf("reading the run's results: %w", err)
	}
	if len(runs) == 0 {
		return nil, errors.New("tempest ran no test: check the test selection")
	}
	var junit bytes.Buffer
	if err := WriteJUnit(&junit, "tempest", runs); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(t.Workspace, ResultsJUnit), junit.Bytes()); err != nil {
		return nil, err
	}
	res := Summarize(runs)
	res.Results = t.Workspace
	return res, nil
}

// Summarize counts a run's tests and names its first failures.
func Summarize(runs []TestRun) *v1.TempestResult {
	res := &v1.TempestResult{Result: v1.TempestPassed}
	var end time.Time
	for _, r := range runs {
		switch {
		case r.Failed():
			res.Failed++
			if len(res.FailedTests) < v1.TempestMaxFailedTests {
				res.FailedTests = append(res.FailedTests, r.ID)
			}
		case r.Status == StatusSkip:
			res.Skipped++
		case r.Passed():
			res.Passed++
		}
		end = maxTime(end, r.End)
	}
	if res.Failed > 0 {
		res.Result = v1.TempestFailed
	}
	res.Finished = metav1.NewTime(end)
	return res
}

// setNetworkExtensions lists in tempest.conf the extensions Neutron
// serves, unless the configuration already does: Tempest otherwise
// assumes every extension it knows of (metering, for one) is there.
func (c *tempestCloud) setNetworkExtensions(ctx context.Context, conf *oslo.File, out io.Writer) {
	if !available(conf, "neutron") {
		return
	}
	if _, set := conf.Get("network-feature-enabled", "api_extensions"); set {
		return
	}
	client, err := openstack.NewNetworkV2(c.provider, c.endpoints)
	if err == nil {
		var pages pagination.Page
		if pages, err = extensions.List(client).AllPages(ctx); err == nil {
			var exts []extensions.Extension
			if exts, err = extensions.ExtractExtensions(pages); err == nil {
				aliases := make([]string, 0, len(exts))
				for _, e := range exts {
					aliases = append(aliases, e.Alias)
				}
				slices.Sort(aliases)
				conf.Set("network-feature-enabled", "api_extensions", strings.Join(aliases, ","))
				return
			}
		}
	}
	fmt.Fprintf(out, "network: listing the extensions: %v; Tempest assumes all of them\n", err)
}

// microversioned are the APIs Tempest tests by microversion: the
// tempest.conf section, and how to reach the API.
var microversioned = []struct {
	section, available string
	client             func(*gophercloud.ProviderClient, gophercloud.EndpointOpts) (*gophercloud.ServiceClient, error)
}{
	{"compute", "nova", openstack.NewComputeV2},
	{"placement", "nova", openstack.NewPlacementV1},
	{"volume", "cinder", openstack.NewBlockStorageV3},
}

// setMicroversions sets each enabled API's microversion range to what it
// serves, unless the configuration already has one: the running code, not
// a table, says what a release serves, and a user's setting wins.
func (c *tempestCloud) setMicroversions(ctx context.Context, conf *oslo.File, out io.Writer) {
	for _, m := range microversioned {
		if !available(conf, m.available) {
			continue
		}
		if _, set := conf.Get(m.section, "max_microversion"); set {
			continue
		}
		// Either failure leaves the range unset: Tempest then skips the
		// API's microversioned tests, and its other tests show what is
		// wrong with the API.
		sc, err := m.client(c.provider, c.endpoints)
		if err != nil {
			fmt.Fprintf(out, "%s: %v; Tempest skips its microversioned tests\n", m.section, err)
			continue
		}
		mv, err := utils.GetSupportedMicroversions(ctx, sc)
		if err != nil {
			fmt.Fprintf(out, "%s: no microversions found at %s (%v); Tempest skips its microversioned tests\n", m.section, sc.Endpoint, err)
			continue
		}
		conf.Set(m.section, "min_microversion", fmt.Sprintf("%d.%d", mv.MinMajor, mv.MinMinor))
		conf.Set(m.section, "max_microversion", fmt.Sprintf("%d.%d", mv.MaxMajor, mv.MaxMinor))
	}
}

// available reports whether tempest.conf marks a service available.
func available(conf *oslo.File, service string) bool {
	v, _ := conf.Get("service_available", service)
	return v == "true"
}

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
