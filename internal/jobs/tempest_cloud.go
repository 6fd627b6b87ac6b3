package jobs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/provider"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/oskproject/osk/internal/oslo"
)

// Names of what the tempest Job creates; a run finds them by name, so a
// run that died before removing them does not leave a second set.
const (
	TempestFlavor        = "osk-tempest"
	TempestFlavorAlt     = "osk-tempest-alt"
	TempestImage         = "osk-tempest"
	TempestPublicNetwork = "osk-tempest-public"
)

// tempestFlavors are the two flavors Tempest needs (flavor_ref and
// flavor_ref_alt, different for resize tests): small enough for any
// compute node.
var tempestFlavors = []struct {
	name, option string
	ram          int
}{{TempestFlavor, "flavor_ref", 128}, {TempestFlavorAlt, "flavor_ref_alt", 192}}

// generatedImageSize is the size of the generated test image.
const generatedImageSize = 1 << 20

// tempestCloud is the cloud as the tempest Job's admin sees it, and what
// the Job created in it.
type tempestCloud struct {
	provider  *gophercloud.ProviderClient
	endpoints gophercloud.EndpointOpts
	// undo removes what the Job created, last first.
	undo []func(context.Context) error
}

// prepare creates what Tempest needs and sets its IDs in conf, unless
// conf already names one.
func (c *tempestCloud) prepare(ctx context.Context, conf *oslo.File, t *Tempest) error {
	steps := []struct {
		service string
		run     func() error
	}{
		{"nova", func() error { return c.ensureFlavors(ctx, conf) }},
		{"glance", func() error { return c.ensureImage(ctx, conf, t.ImageFile) }},
		{"neutron", func() error { return c.ensurePublicNetwork(ctx, conf, t.PublicNetwork) }},
	}
	for _, s := range steps {
		if !available(conf, s.service) {
			continue
		}
		if err := s.run(); err != nil {
			return err
		}
	}
	c.setMicroversions(ctx, conf, t.Out)
	c.setNetworkExtensions(ctx, conf, t.Out)
	return nil
}

// cleanup removes what the Job created; a failure is reported, not fatal:
// the next run finds what is left by name.
func (c *tempestCloud) cleanup(out io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := len(c.undo) - 1; i >= 0; i-- {
		if err := c.undo[i](ctx); err != nil {
			fmt.Fprintf(out, "cleaning up after Tempest: %v\n", err)
		}
	}
}

func (c *tempestCloud) ensureFlavors(ctx context.Context, conf *oslo.File) error {
	compute, err := openstack.NewComputeV2(c.provider, c.endpoints)
	if err != nil {
		return fmt.Errorf("compute: %w", err)
	}
	pages, err := flavors.ListDetail(compute, flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("listing flavors: %w", err)
	}
	existing, err := flavors.ExtractFlavors(pages)
	if err != nil {
		return fmt.Errorf("listing flavors: %w", err)
	}
	for _, want := range tempestFlavors {
		if _, set := conf.Get("compute", want.option); set {
			continue
		}
		id := ""
		for _, f := range existing {
			if f.Name == want.name {
				id = f.ID
			}
		}
		if id == "" {
			f, err := flavors.Create(ctx, compute, flavors.CreateOpts{Name: want.name, RAM: want.ram, VCPUs: 1, Disk: gophercloud.IntToPointer(1)}).Extract()
			if err != nil {
				return fmt.Errorf("creating flavor %s: %w", want.name, err)
			}
			id = f.ID
		}
		c.undo = append(c.undo, func(ctx context.Context) error {
			return ignoreNotFound(flavors.Delete(ctx, compute, id).ExtractErr())
		})
		conf.Set("compute", want.option, id)
	}
	return nil
}

func (c *tempestCloud) ensureImage(ctx context.Context, conf *oslo.File, file string) error {
	if _, set := conf.Get("compute", "image_ref"); set {
		return nil
	}
	client, err := openstack.NewImageV2(c.provider, c.endpoints)
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	pages, err := images.List(client, images.ListOpts{Name: TempestImage}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("listing images: %w", err)
	}
	found, err := images.ExtractImages(pages)
	if err != nil {
		return fmt.Errorf("listing images: %w", err)
	}
	var id string
	for _, im := range found {
		if im.Status == images.ImageStatusActive {
			id = im.ID
		} else if err := images.Delete(ctx, client, im.ID).ExtractErr(); ignoreNotFound(err) != nil {
			return fmt.Errorf("removing the unfinished image %s: %w", im.ID, err)
		}
	}
	if id == "" {
		if id, err = uploadImage(ctx, client, file); err != nil {
			return err
		}
	}
	c.undo = append(c.undo, func(ctx context.Context) error {
		return ignoreNotFound(images.Delete(ctx, client, id).ExtractErr())
	})
	conf.Set("compute", "image_ref", id)
	if _, set := conf.Get("compute", "image_ref_alt"); !set {
		conf.Set("compute", "image_ref_alt", id)
	}
	return nil
}

// uploadImage uploads file, or a generated image, as the test image.
func uploadImage(ctx context.Context, client *gophercloud.ServiceClient, file string) (string, error) {
	data := io.Reader(bytes.NewReader(make([]byte, generatedImageSize)))
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("the test image: %w", err)
		}
		defer f.Close()
		data = f
	}
	visibility := images.ImageVisibilityPublic
	im, err := images.Create(ctx, client, images.CreateOpts{
		Name: TempestImage, ContainerFormat: "bare", DiskFormat: "raw", Visibility: &visibility,
	}).Extract()
	if err != nil {
		return "", fmt.Errorf("creating image %s: %w", TempestImage, err)
	}
	if err := imagedata.Upload(ctx, client, im.ID, data).ExtractErr(); err != nil {
		return "", fmt.Errorf("uploading image %s: %w", TempestImage, err)
	}
	return im.ID, nil
}

// externalNetwork is a network with its provider and external attributes.
type externalNetwork struct {
	networks.Network
	provider.NetworkProviderExt
	external.NetworkExternalExt
}

// ensurePublicNetwork finds the cloud's external network on the floating
// network's physnet, or creates one for the run.
func (c *tempestCloud) ensurePublicNetwork(ctx context.Context, conf *oslo.File, want *PublicNetwork) error {
	if _, set := conf.Get("network", "public_network_id"); set || want == nil {
		return nil
	}
	client, err := openstack.NewNetworkV2(c.provider, c.endpoints)
	if err != nil {
		return fmt.Errorf("network: %w", err)
	}
	isExternal := true
	pages, err := networks.List(client, external.ListOptsExt{ListOptsBuilder: networks.ListOpts{}, External: &isExternal}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("listing external networks: %w", err)
	}
	var found []externalNetwork
	if err := networks.ExtractNetworksInto(pages, &found); err != nil {
		return fmt.Errorf("listing external networks: %w", err)
	}
	for _, n := range found {
		if n.PhysicalNetwork == want.Physnet && n.Name != TempestPublicNetwork {
			setPublicNetwork(conf, n.ID, n.Name)
			return nil
		}
	}
	for _, n := range found {
		if n.Name == TempestPublicNetwork {
			c.undoNetwork(client, n.ID)
			setPublicNetwork(conf, n.ID, n.Name)
			return nil
		}
	}
	id, err := createPublicNetwork(ctx, client, want)
	if id != "" {
		c.undoNetwork(client, id)
	}
	if err != nil {
		return err
	}
	setPublicNetwork(conf, id, TempestPublicNetwork)
	return nil
}

func (c *tempestCloud) undoNetwork(client *gophercloud.ServiceClient, id string) {
	c.undo = append(c.undo, func(ctx context.Context) error {
		return ignoreNotFound(networks.Delete(ctx, client, id).ExtractErr())
	})
}

func setPublicNetwork(conf *oslo.File, id, name string) {
	conf.Set("network", "public_network_id", id)
	conf.Set("network", "floating_network_name", name)
}

// createPublicNetwork creates a flat external network on the physnet with
// the floating subnet; it returns the network's ID as soon as it exists.
func createPublicNetwork(ctx context.Context, client *gophercloud.ServiceClient, want *PublicNetwork) (string, error) {
	isExternal := true
	opts := external.CreateOptsExt{
		CreateOptsBuilder: provider.CreateOptsExt{
			CreateOptsBuilder: networks.CreateOpts{Name: TempestPublicNetwork},
			Segments:          []provider.Segment{{NetworkType: "flat", PhysicalNetwork: want.Physnet}},
		},
		External: &isExternal,
	}
	n, err := networks.Create(ctx, client, opts).Extract()
	if err != nil {
		return "", fmt.Errorf("creating network %s on %s: %w", TempestPublicNetwork, want.Physnet, err)
	}
	noDHCP := false
	_, err = subnets.Create(ctx, client, subnets.CreateOpts{
		NetworkID: n.ID, Name: TempestPublicNetwork, IPVersion: gophercloud.IPv4, CIDR: want.CIDR,
		GatewayIP: &want.Gateway, EnableDHCP: &noDHCP,
		AllocationPools: []subnets.AllocationPool{{Start: want.PoolStart, End: want.PoolEnd}},
	}).Extract()
	if err != nil {
		return n.ID, fmt.Errorf("creating the subnet of %s: %w", TempestPublicNetwork, err)
	}
	return n.ID, nil
}

// ignoreNotFound treats something already gone as removed.
func ignoreNotFound(err error) error {
	if gophercloud.ResponseCodeIs(err, 404) {
		return nil
	}
	return err
}
