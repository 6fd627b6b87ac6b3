package jobs

import (
	"context"
	"fmt"
	"net/http"
	"time"

	rabbithole "github.com/michaelklishin/rabbit-hole/v2"
)

// RabbitBus is one RabbitMQ instance, reached through its management API.
type RabbitBus struct {
	// URL is the management API's base URL, as http://host:15672.
	URL string
	// AdminUser and AdminPassword may create vhosts and users.
	AdminUser, AdminPassword string
}

// RabbitInit creates a service's vhost and user on each of its buses and
// gives the user every permission in that vhost and none elsewhere. The
// password is set to Password each run: the credential Secret is the
// truth.
type RabbitInit struct {
	// Buses are the instances the service uses: its own and, when
	// notifications are on, the notifications bus.
	Buses []RabbitBus
	// User, Password and VHost are the service's.
	User, Password, VHost string
	// ReadVHosts are other users' vhosts in which User may only consume
	// from the queues ReadQueues (a regular expression) matches: no
	// declaring, binding, deleting or publishing (StackLight's
	// notifications consumer on the notifications bus).
	ReadVHosts []string
	ReadQueues string
	// Wait is how long to wait for each management API to answer.
	Wait time.Duration
}

// Run creates what is missing and fixes what differs, bus by bus.
func (j RabbitInit) Run(ctx context.Context) error {
	switch {
	case j.User == "":
		return fmt.Errorf("rabbit-init: the user is empty")
	case j.VHost == "":
		return fmt.Errorf("rabbit-init: the vhost is empty")
	case j.Password == "":
		return fmt.Errorf("rabbit-init: the password of user %s is empty", j.User)
	case len(j.Buses) == 0:
		return fmt.Errorf("rabbit-init: no bus to set up")
	case len(j.ReadVHosts) > 0 && j.ReadQueues == "":
		return fmt.Errorf("rabbit-init: read-only vhosts %v without the queues to read", j.ReadVHosts)
	}
	for _, bus := range j.Buses {
		if err := j.setUp(ctx, bus); err != nil {
			return fmt.Errorf("rabbit-init: %s: %w", bus.URL, err)
		}
	}
	return nil
}

// setUp makes the vhost, the user and the permissions on one bus.
func (j RabbitInit) setUp(ctx context.Context, bus RabbitBus) error {
	if bus.AdminPassword == "" {
		return fmt.Errorf("the admin password is empty")
	}
	c, err := rabbithole.NewClient(bus.URL, bus.AdminUser, bus.AdminPassword)
	if err != nil {
		return err
	}
	c.SetTimeout(10 * time.Second)
	err = waitFor(ctx, j.Wait, "the management API", func(context.Context) error {
		_, err := c.Whoami()
		return err
	})
	if err != nil {
		return err
	}
	type step struct {
		name string
		call func() (*http.Response, error)
	}
	steps := []step{
		{"vhost " + j.VHost, func() (*http.Response, error) { return c.PutVhost(j.VHost, rabbithole.VhostSettings{}) }},
		{"user " + j.User, func() (*http.Response, error) {
			return c.PutUser(j.User, rabbithole.UserSettings{Password: j.Password, Tags: rabbithole.UserTags{}})
		}},
		{"permissions of " + j.User + " in " + j.VHost, func() (*http.Response, error) {
			return c.UpdatePermissionsIn(j.VHost, j.User, rabbithole.Permissions{Configure: ".*", Write: ".*", Read: ".*"})
		}},
	}
	for _, v := range j.ReadVHosts {
		steps = append(steps, step{"vhost " + v, func() (*http.Response, error) { return c.PutVhost(v, rabbithole.VhostSettings{}) }},
			step{"read-only permissions of " + j.User + " in " + v, func() (*http.Response, error) {
				return c.UpdatePermissionsIn(v, j.User, rabbithole.Permissions{Configure: "^$", Write: "^$", Read: j.ReadQueues})
			}})
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		res, err := s.call()
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		res.Body.Close()
	}
	return nil
}
