package cloudtest

import (
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/services"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/agents"
)

// Internal selects the internal endpoints of Keystone's catalog.
var Internal = gophercloud.EndpointOpts{Availability: gophercloud.AvailabilityInternal}

// ComputeServiceUp is a readiness check for Start: nova lists a service
// of the binary up.
func (c *Cloud) ComputeServiceUp(binary string) func() error {
	c.T.Helper()
	cc, err := openstack.NewComputeV2(c.Admin(), Internal)
	if err != nil {
		c.T.Fatal(err)
	}
	return func() error {
		page, err := services.List(cc, services.ListOpts{Binary: binary}).AllPages(c.T.Context())
		if err != nil {
			return err
		}
		all, err := services.ExtractServices(page)
		if err != nil {
			return err
		}
		for _, s := range all {
			if s.State == "up" {
				c.T.Logf("%s on %s up", s.Binary, s.Host)
				return nil
			}
		}
		return fmt.Errorf("no %s up among %d", binary, len(all))
	}
}

// AgentAlive is a readiness check for Start: Neutron lists an agent that
// opts select (by binary or type) alive.
func (c *Cloud) AgentAlive(opts agents.ListOpts) func() error {
	c.T.Helper()
	nc, err := openstack.NewNetworkV2(c.Admin(), Internal)
	if err != nil {
		c.T.Fatal(err)
	}
	return func() error {
		page, err := agents.List(nc, opts).AllPages(c.T.Context())
		if err != nil {
			return err
		}
		all, err := agents.ExtractAgents(page)
		if err != nil {
			return err
		}
		for _, a := range all {
			if a.Alive {
				c.T.Logf("%s on %s alive", a.AgentType, a.Host)
				return nil
			}
		}
		return fmt.Errorf("no agent %s%s alive among %d", opts.Binary, opts.AgentType, len(all))
	}
}
