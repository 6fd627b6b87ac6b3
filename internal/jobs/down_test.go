package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/oskproject/osk/internal/jobs"
)

// TestJobsFailClearlyWhenDown points each job at a port nothing listens
// on: each must give up within its wait and say what it waited for and
// why.
func TestJobsFailClearlyWhenDown(t *testing.T) {
	const wait = 3 * time.Second
	for name, c := range map[string]struct {
		run  func(context.Context) error
		want []string
	}{
		"db-init": {
			run: jobs.DBInit{Host: "127.0.0.1", Port: 1, AdminUser: "root", AdminPassword: "p", User: "nova", Password: "p",
				Databases: []string{"nova"}, Wait: wait}.Run,
			want: []string{"db-init", "connecting to 127.0.0.1:1 as root"},
		},
		"rabbit-init": {
			run: jobs.RabbitInit{Buses: []jobs.RabbitBus{{URL: "http://127.0.0.1:1", AdminUser: "admin", AdminPassword: "p"}},
				User: "nova", Password: "p", VHost: "nova", Wait: wait}.Run,
			want: []string{"rabbit-init", "http://127.0.0.1:1", "management API"},
		},
		"keystone-register": {
			run: jobs.KeystoneRegister{AuthURL: "http://127.0.0.1:1/v3", Region: "RegionOne", AdminUser: "admin", AdminPassword: "p",
				AdminProject: "admin", Wait: wait}.Run,
			want: []string{"keystone-register", "authenticating to http://127.0.0.1:1/v3 as admin"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			err := c.run(t.Context())
			if err == nil {
				t.Fatal("no error")
			}
			if took := time.Since(start); took > 3*wait {
				t.Errorf("took %s to fail with a %s wait", took, wait)
			}
			for _, want := range append(c.want, "gave up after 3s", "connection refused") {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}
