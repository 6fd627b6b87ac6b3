package exporter

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	volumeservices "github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/services"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/hypervisors"
	computeservices "github.com/gophercloud/gophercloud/v2/openstack/compute/v2/services"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/agents"
	"github.com/gophercloud/gophercloud/v2/openstack/placement/v1/resourceproviders"
)

// apiCollector reads one API's view of the cloud.
type apiCollector struct {
	name        string
	serviceType string // the catalog type whose internal endpoint it asks
	run         func(ctx context.Context, c *gophercloud.ServiceClient, s *scrape) error
}

// apiCollectors run when their service is in the catalog.
var apiCollectors = []apiCollector{
	{"compute services", "compute", computeServices},
	{"hypervisors", "compute", hypervisorStates},
	{"network agents", "network", networkAgents},
	{"volume services", "volumev3", volumeServices},
	{"placement", "placement", placementCapacity},
}

// Help texts of the agent series.
const (
	agentUpHelp      = "1 when the service or agent reports in (nova and cinder: state up; neutron: alive)"
	agentEnabledHelp = "1 when the service or agent is enabled (neutron: admin state up)"
)

// agent sends the two series of one service or agent; service is the
// catalog type the alerts select ("compute", "network", "volume").
func (s *scrape) agent(service, binary, host, zone string, up, enabled bool) {
	l := []string{"service", service, "binary", binary, "host", host, "zone", zone}
	s.gauge(MetricAgentUp, agentUpHelp, bool01(up), l...)
	s.gauge(MetricAgentEnabled, agentEnabledHelp, bool01(enabled), l...)
}

func computeServices(ctx context.Context, c *gophercloud.ServiceClient, s *scrape) error {
	page, err := computeservices.List(c, nil).AllPages(ctx)
	if err != nil {
		return err
	}
	all, err := computeservices.ExtractServices(page)
	if err != nil {
		return err
	}
	for _, v := range all {
		s.agent("compute", v.Binary, v.Host, v.Zone, v.State == "up", v.Status == "enabled")
	}
	return nil
}

func volumeServices(ctx context.Context, c *gophercloud.ServiceClient, s *scrape) error {
	page, err := volumeservices.List(c, nil).AllPages(ctx)
	if err != nil {
		return err
	}
	all, err := volumeservices.ExtractServices(page)
	if err != nil {
		return err
	}
	for _, v := range all {
		s.agent("volume", v.Binary, v.Host, v.Zone, v.State == "up", v.Status == "enabled")
	}
	return nil
}

func networkAgents(ctx context.Context, c *gophercloud.ServiceClient, s *scrape) error {
	c.ResourceBase = c.Endpoint + "v2.0/"
	page, err := agents.List(c, nil).AllPages(ctx)
	if err != nil {
		return err
	}
	all, err := agents.ExtractAgents(page)
	if err != nil {
		return err
	}
	for _, a := range all {
		s.agent("network", a.Binary, a.Host, a.AvailabilityZone, a.Alive, a.AdminStateUp)
	}
	return nil
}

func hypervisorStates(ctx context.Context, c *gophercloud.ServiceClient, s *scrape) error {
	page, err := hypervisors.List(c, nil).AllPages(ctx)
	if err != nil {
		return err
	}
	all, err := hypervisors.ExtractHypervisors(page)
	if err != nil {
		return err
	}
	for _, h := range all {
		l := []string{"host", h.HypervisorHostname, "hypervisor_type", h.HypervisorType}
		s.gauge(MetricHypervisorUp, "1 when the hypervisor is up and enabled", bool01(h.State == "up" && h.Status == "enabled"), l...)
		s.gauge(MetricHypervisorVMs, "Instances running on the hypervisor", float64(h.RunningVMs), l...)
	}
	return nil
}

// placementCapacity sends, per resource provider and class, what can be
// allocated ((total - reserved) * allocation ratio) and what is.
func placementCapacity(ctx context.Context, c *gophercloud.ServiceClient, s *scrape) error {
	page, err := resourceproviders.List(c, nil).AllPages(ctx)
	if err != nil {
		return err
	}
	all, err := resourceproviders.ExtractResourceProviders(page)
	if err != nil {
		return err
	}
	for _, rp := range all {
		inv, err := resourceproviders.GetInventories(ctx, c, rp.UUID).Extract()
		if err != nil {
			return fmt.Errorf("inventories of %s: %w", rp.Name, err)
		}
		use, err := resourceproviders.GetUsages(ctx, c, rp.UUID).Extract()
		if err != nil {
			return fmt.Errorf("usages of %s: %w", rp.Name, err)
		}
		for class, i := range inv.Inventories {
			l := []string{"provider", rp.Name, "resource_class", class}
			s.gauge(MetricPlacementTotal, "What the provider can allocate of the class: (total - reserved) * allocation ratio",
				Capacity(i), l...)
			s.gauge(MetricPlacementUsed, "What is allocated of the class on the provider", float64(use.Usages[class]), l...)
		}
	}
	return nil
}

// Capacity is what placement lets be allocated of an inventory.
func Capacity(i resourceproviders.Inventory) float64 {
	return float64(i.Total-i.Reserved) * float64(i.AllocationRatio)
}
