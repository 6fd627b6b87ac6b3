package openstack_test

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/placement/v1/resourceproviders"

	"github.com/oskproject/osk/internal/render"
	"github.com/oskproject/osk/internal/testing/cloudtest"
)

// The Jobs of a release upgrade (render.Options.UpgradeSteps) run on the
// cloud of TestZedServices as an upgrade from zed to zed: each service's
// steps before its workloads roll, then those after, exactly as rendered
// and in the order their annotations give. The schemas are current, so
// every step must succeed and change nothing.

// upgradeInPlace upgrades the running cloud to its own release, then
// checks that nothing the Jobs are responsible for changed and that what
// the earlier subtests created is still there. The workloads keep running
// where the operator would roll them: the release, hence the code, stays
// the same.
//
// Each service's steps run in their order, but the services' chains run
// side by side rather than one service after the other as the operator
// does: each touches its own database only, so this changes nothing the
// test proves, and it keeps the test short. Block storage's chain started
// with the test (upgradeCinder); cinderUpgraded checks it.
func upgradeInPlace(t *testing.T, c *cloud, cinderUpgraded func()) {
	c.T = t
	was := c.snapshot()
	chains := map[string]func() error{}
	for _, a := range cloudtest.CoreAPIs {
		before, after := c.UpgradeJobs(a.Service)
		if len(before) == 0 {
			t.Fatalf("osk renders no upgrade step of %s to run before its workloads roll", a.Service)
		}
		chains[a.Service] = c.StartJobs(slices.Concat(before, after)...)
	}
	for _, a := range cloudtest.CoreAPIs {
		t.Run(a.Service, func(t *testing.T) {
			if err := chains[a.Service](); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("block-storage", func(t *testing.T) { c.T = t; cinderUpgraded() })
	c.T = t
	if now := c.snapshot(); now != was {
		t.Errorf("the upgrade from zed to zed changed the state:\nbefore:\n%s\nafter:\n%s", was, now)
	}
	t.Run("what was created before is still there", func(t *testing.T) { c.T = t; c.stillThere() })
}

// Cinder's service records, as cinder-manage service list reads them: a
// service is up while its record was updated less than service_down_time
// ago. testdata/zed.yaml sets service_down_time to cinderDownTime.
const (
	cinderDownTime = 5 * time.Second
	// cinderLive is a pod that runs the new release and reports every
	// second, as a cinder service does every report_interval.
	cinderLive = "cinder-scheduler-7c9d4-new"
	// cinderReplaced is a pod the roll replaced: it reported until the
	// upgrade began, then never again.
	cinderReplaced = "cinder-scheduler-5f8b2-old"
	// cinderGone is a pod that went away long ago.
	cinderGone = "cinder-backup-5f8b2-gone"
)

// upgradeCinder upgrades block storage from zed to zed on its database
// alone (the test runs none of its daemons): it creates the database with
// the Jobs that install it (db-init, db-sync), records three services
// (cinderLive, cinderReplaced, cinderGone), and starts the upgrade's Jobs
// in the background, since removing old service records waits
// service_down_time + 15 s by design. check waits for them and checks that
// the schema version did not change and that the two services that
// stopped reporting were removed, and only they.
func (c *cloud) upgradeCinder() (check func()) {
	c.T.Helper()
	conf := string(c.SecretData("cinder-etc")["cinder.conf"])
	if want := fmt.Sprintf("service_down_time = %d", int(cinderDownTime.Seconds())); !regexp.MustCompile(`(?m)^` + want + `$`).MatchString(conf) {
		c.T.Fatalf("the rendered cinder.conf lacks %q (testdata/zed.yaml sets it):\n%s", want, conf)
	}
	before, after := c.UpgradeJobs("block-storage")
	if len(before) == 0 || !slices.Contains(after, "cinder-upgrade-remove-old-services") {
		c.T.Fatalf("block storage's upgrade steps are %v before its workloads roll and %v after; want some before, and cinder-upgrade-remove-old-services after", before, after)
	}
	c.RunJob("cinder-db-init")
	c.RunJob("cinder-db-sync")
	db := c.DB.Open(c.T, c.DB.AdminUser, c.DB.AdminPassword, "cinder")
	version := func() []string { return c.rows(db, "version", "SELECT * FROM alembic_version") }
	was := version()
	add := func(binary, host, updated string) {
		_, err := db.ExecContext(c.T.Context(), `INSERT INTO services
			(created_at, updated_at, deleted, uuid, host, `+"`binary`"+`, topic, report_count, disabled,
			 availability_zone, rpc_current_version, object_current_version, replication_status, frozen)
			VALUES (UTC_TIMESTAMP() - INTERVAL 2 DAY, `+updated+`, 0, UUID(), ?, ?, ?, 1, 0, 'nova', '3.16', '1.39', 'not-capable', 0)`,
			host, binary, strings.TrimPrefix(binary, "cinder-"))
		if err != nil {
			c.T.Fatalf("recording %s on %s: %v", binary, host, err)
		}
	}
	add("cinder-backup", cinderGone, "UTC_TIMESTAMP() - INTERVAL 1 DAY")
	add("cinder-scheduler", cinderLive, "UTC_TIMESTAMP()")
	stopBeating := heartbeat(c.T, db, cinderLive)
	add("cinder-scheduler", cinderReplaced, "UTC_TIMESTAMP()")
	wait := c.StartJobs(slices.Concat(before, after)...)
	return func() {
		c.T.Helper()
		err := wait()
		if beatErr := stopBeating(); beatErr != nil {
			c.T.Fatalf("the heartbeat of %s: %v", cinderLive, beatErr)
		}
		if err != nil {
			c.T.Fatal(err)
		}
		if now := version(); !slices.Equal(now, was) {
			c.T.Errorf("cinder's upgrade from zed to zed changed its schema version from %q to %q", was, now)
		}
		if left, want := cinderServices(c.T, db), []string{"cinder-scheduler " + cinderLive}; !slices.Equal(left, want) {
			c.T.Errorf("service records after cinder-upgrade-remove-old-services: %q, want %q", left, want)
		}
	}
}

// cinderServices lists the service records cinder has not deleted, as
// "binary host".
func cinderServices(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "SELECT `binary`, host FROM services WHERE NOT deleted ORDER BY host")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var binary, host string
		if err := rows.Scan(&binary, &host); err != nil {
			t.Fatal(err)
		}
		out = append(out, binary+" "+host)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// heartbeat updates a cinder service record every second, as the service
// does, until stop; stop returns the first failed update.
func heartbeat(t *testing.T, db *sql.DB, host string) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	failed := make(chan error, 1)
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				failed <- nil
				return
			case <-tick.C:
				if _, err := db.ExecContext(ctx, "UPDATE services SET updated_at = UTC_TIMESTAMP(), report_count = report_count + 1 WHERE host = ?", host); err != nil && ctx.Err() == nil {
					failed <- err
					return
				}
			}
		}
	}()
	stop = sync.OnceValue(func() error { cancel(); return <-failed })
	t.Cleanup(func() { _ = stop() })
	return stop
}

// stillThere reads back what the subtests of TestZedServices created
// before the upgrade, one call per API, as the admin logged in afresh.
func (c *cloud) stillThere() {
	t := c.T
	t.Helper()
	if err := checkCatalog(c.catalogLines(), c.registered()); err != nil {
		t.Error(err)
	}
	admin := c.Admin()
	client := func(name string, f func(*gophercloud.ProviderClient, gophercloud.EndpointOpts) (*gophercloud.ServiceClient, error)) *gophercloud.ServiceClient {
		sc, err := f(admin, internal)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return sc
	}
	rps, err := resourceproviders.List(client("placement", openstack.NewPlacementV1), resourceproviders.ListOpts{Name: "compute-0.test"}).AllPages(t.Context())
	if got, err := extract(rps, err, resourceproviders.ExtractResourceProviders); err != nil || len(got) != 1 {
		t.Errorf("placement: resource provider compute-0.test: %d found, %v", len(got), err)
	}
	imgs, err := images.List(client("glance", openstack.NewImageV2), images.ListOpts{Name: "cirros"}).AllPages(t.Context())
	if got, err := extract(imgs, err, images.ExtractImages); err != nil || len(got) != 1 || got[0].Status != images.ImageStatusActive {
		t.Errorf("glance: image cirros: %+v, %v; want one, active", got, err)
	}
	fls, err := flavors.ListDetail(client("nova", openstack.NewComputeV2), nil).AllPages(t.Context())
	if got, err := extract(fls, err, flavors.ExtractFlavors); err != nil || !slices.ContainsFunc(got, func(f flavors.Flavor) bool { return f.Name == "m1.tiny" }) {
		t.Errorf("nova: flavor m1.tiny not found among %+v, %v", got, err)
	}
	nets, err := networks.List(client("neutron", openstack.NewNetworkV2), networks.ListOpts{Name: "private"}).AllPages(t.Context())
	if got, err := extract(nets, err, networks.ExtractNetworks); err != nil || len(got) != 1 || len(got[0].Subnets) != 1 {
		t.Errorf("neutron: network private: %+v, %v; want one, with its subnet", got, err)
	}
}

// extract extracts a page's items, or passes on the error of reading it.
func extract[P, T any](page P, err error, f func(P) ([]T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	return f(page)
}

// failingStep runs keystone's contract step with a phase keystone-manage
// does not have, and checks that the failure names the Job, its step, its
// command and keystone-manage's own complaint, as any failing step of
// upgradeInPlace is reported.
func failingStep(t *testing.T, c *cloud) {
	c.T = t
	j := c.Job("keystone-upgrade-contract").DeepCopy()
	j.Name = "keystone-upgrade-shrink"
	j.Annotations[render.AnnotationUpgradeStep] = "shrink"
	ctr := &j.Spec.Template.Spec.Containers[0]
	i := slices.Index(ctr.Command, "--contract")
	if i < 0 {
		t.Fatalf("keystone-upgrade-contract runs %q, without --contract", ctr.Command)
	}
	ctr.Command[i] = "--shrink"
	err := c.PrepareJob(j).Run(t.Context())
	if err == nil {
		t.Fatal("keystone-manage db_sync --shrink succeeded")
	}
	for _, want := range []string{
		"job keystone-upgrade-shrink (upgrade step shrink) failed: exit status 2",
		"db_sync --shrink",
		"keystone-manage: error: unrecognized arguments: --shrink",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the failure does not say %q:\n%v", want, err)
		}
	}
	t.Logf("reported as:\n%v", err)
}
