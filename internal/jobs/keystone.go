package jobs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/domains"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/endpoints"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/regions"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/services"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// ServiceProject is the project that holds every service user.
const ServiceProject = "service"

// serviceUserRoles are the roles a service user holds in ServiceProject.
var serviceUserRoles = []string{"admin", "service"}

// defaultDomain is the ID of Keystone's built-in domain.
const defaultDomain = "default"

// KeystoneEndpoint is one API to put in the Keystone catalog.
type KeystoneEndpoint struct {
	// Type and Name are the catalog service's (for example "compute" and
	// "nova").
	Type, Name string
	// Internal and Public are the URLs of its internal and public
	// endpoints.
	Internal, Public string
}

// ParseKeystoneEndpoint reads "type|name|internal-url|public-url".
func ParseKeystoneEndpoint(spec string) (KeystoneEndpoint, error) {
	p := strings.Split(spec, "|")
	if len(p) != 4 || slices.Contains(p, "") {
		return KeystoneEndpoint{}, fmt.Errorf("endpoint %q: want type|name|internal-url|public-url, none empty", spec)
	}
	return KeystoneEndpoint{Type: p[0], Name: p[1], Internal: p[2], Public: p[3]}, nil
}

// KeystoneDomain is a domain a service owns, with the user that
// administers it (heat's stack domain).
type KeystoneDomain struct {
	Name, AdminUser, AdminPassword string
}

// KeystoneRegister puts a service into Keystone: the service project, the
// service user with its roles there, the extra roles the service needs,
// its own domain, and its catalog entries with an internal and a public
// endpoint each. Passwords are set to the given ones each run and
// endpoints corrected to the given URLs: the Secrets and the spec are the
// truth.
type KeystoneRegister struct {
	// AuthURL is Keystone's v3 URL; Region the region of the endpoints.
	AuthURL, Region string
	// AdminUser, AdminPassword and AdminProject authenticate, in the
	// default domain.
	AdminUser, AdminPassword, AdminProject string
	// ServiceUser and ServicePassword are the service's user; empty for
	// none.
	ServiceUser, ServicePassword string
	// ServiceUserRoles, when set, are the service user's roles instead
	// of admin and service (a read-only user: reader).
	ServiceUserRoles []string
	// Roles are extra roles that must exist.
	Roles []string
	// Domain is the service's own domain, if any.
	Domain *KeystoneDomain
	// Endpoints are the service's APIs.
	Endpoints []KeystoneEndpoint
	// Wait is how long to wait for Keystone to answer.
	Wait time.Duration
	// CAFile, when set, holds the only CAs Keystone's certificate may
	// be signed by (osk's internal CA).
	CAFile string
}

// Run creates what is missing and fixes what differs.
func (j KeystoneRegister) Run(ctx context.Context) error {
	if err := j.check(); err != nil {
		return fmt.Errorf("keystone-register: %w", err)
	}
	c, err := j.connect(ctx)
	if err != nil {
		return fmt.Errorf("keystone-register: %w", err)
	}
	r := &registrar{ctx: ctx, c: c}
	steps := []struct {
		name string
		run  func() error
	}{
		{"region " + j.Region, func() error { return r.region(j.Region) }},
		{"roles", func() error { return r.ensureRoles(slices.Concat(j.userRoles(), j.Roles)) }},
		{"service user", j.serviceUser(r)},
		{"domain", j.domain(r)},
		{"endpoints", func() error { return r.endpoints(j.Region, j.Endpoints) }},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			return fmt.Errorf("keystone-register: %s: %w", s.name, err)
		}
	}
	return nil
}

// check refuses input that cannot be registered, before any request.
func (j KeystoneRegister) check() error {
	switch {
	case j.AuthURL == "" || j.Region == "":
		return fmt.Errorf("the auth URL and the region are required")
	case j.AdminPassword == "":
		return fmt.Errorf("the admin password is empty")
	case j.ServiceUser != "" && j.ServicePassword == "":
		return fmt.Errorf("the password of service user %s is empty", j.ServiceUser)
	case j.Domain != nil && (j.Domain.Name == "" || j.Domain.AdminUser == "" || j.Domain.AdminPassword == ""):
		return fmt.Errorf("domain %q needs a name, an admin user and its password", j.Domain.Name)
	}
	return nil
}

// connect authenticates as the admin, waiting for Keystone to answer, and
// talks to Keystone at AuthURL itself rather than at the catalog's
// endpoint, which may not be reachable from where the job runs.
func (j KeystoneRegister) connect(ctx context.Context) (*gophercloud.ServiceClient, error) {
	opts := gophercloud.AuthOptions{
		IdentityEndpoint: j.AuthURL, Username: j.AdminUser, Password: j.AdminPassword,
		DomainID: defaultDomain, TenantName: j.AdminProject,
	}
	var provider *gophercloud.ProviderClient
	err := waitFor(ctx, j.Wait, "Keystone, authenticating to "+j.AuthURL+" as "+j.AdminUser, func(ctx context.Context) error {
		p, err := authenticate(ctx, opts, j.CAFile)
		provider = p
		return err
	})
	if err != nil {
		return nil, err
	}
	return openstack.NewIdentityV3(provider, gophercloud.EndpointOpts{})
}

func (j KeystoneRegister) serviceUser(r *registrar) func() error {
	return func() error {
		if j.ServiceUser == "" {
			return nil
		}
		project, err := r.project(ServiceProject)
		if err != nil {
			return err
		}
		user, err := r.user(defaultDomain, j.ServiceUser, j.ServicePassword, project)
		if err != nil {
			return err
		}
		for _, role := range j.userRoles() {
			if err := r.assign(role, user, roles.AssignOpts{ProjectID: project}); err != nil {
				return err
			}
		}
		return nil
	}
}

// userRoles are the service user's roles.
func (j KeystoneRegister) userRoles() []string {
	if len(j.ServiceUserRoles) > 0 {
		return j.ServiceUserRoles
	}
	return serviceUserRoles
}

func (j KeystoneRegister) domain(r *registrar) func() error {
	return func() error {
		if j.Domain == nil {
			return nil
		}
		id, err := r.domain(j.Domain.Name)
		if err != nil {
			return err
		}
		user, err := r.user(id, j.Domain.AdminUser, j.Domain.AdminPassword, "")
		if err != nil {
			return err
		}
		return r.assign("admin", user, roles.AssignOpts{DomainID: id})
	}
}

// registrar finds or creates Keystone resources by name.
type registrar struct {
	ctx     context.Context
	c       *gophercloud.ServiceClient
	roleIDs map[string]string
}

// lookup is how to find one kind of resource by name.
type lookup[T any] struct {
	list    pagination.Pager
	extract func(pagination.Page) ([]T, error)
	match   func(T) bool
	id      func(T) string
}

// find returns the ID of the first listed resource that matches, or "".
func (l lookup[T]) find(ctx context.Context) (string, error) {
	page, err := l.list.AllPages(ctx)
	if err != nil {
		return "", err
	}
	items, err := l.extract(page)
	if err != nil {
		return "", err
	}
	for _, item := range items {
		if l.match(item) {
			return l.id(item), nil
		}
	}
	return "", nil
}

// ensure returns the ID of the matching resource, creating it if none.
func ensure[T any](ctx context.Context, what string, l lookup[T], create func() (string, error)) (string, error) {
	id, err := l.find(ctx)
	if err != nil || id != "" {
		return id, err
	}
	if id, err = create(); err != nil {
		return "", fmt.Errorf("creating %s: %w", what, err)
	}
	return id, nil
}

func (r *registrar) region(id string) error {
	_, err := regions.Get(r.ctx, r.c, id).Extract()
	if gophercloud.ResponseCodeIs(err, 404) {
		_, err = regions.Create(r.ctx, r.c, regions.CreateOpts{ID: id}).Extract()
	}
	return err
}

func (r *registrar) project(name string) (string, error) {
	return ensure(r.ctx, "project "+name, lookup[projects.Project]{
		list:    projects.List(r.c, projects.ListOpts{Name: name, DomainID: defaultDomain}),
		extract: projects.ExtractProjects,
		match:   func(p projects.Project) bool { return p.Name == name },
		id:      func(p projects.Project) string { return p.ID },
	}, func() (string, error) {
		p, err := projects.Create(r.ctx, r.c, projects.CreateOpts{Name: name, DomainID: defaultDomain,
			Description: "Service users of the OpenStack services"}).Extract()
		return idOrNone(p, err, func(p *projects.Project) string { return p.ID })
	})
}

func (r *registrar) domain(name string) (string, error) {
	return ensure(r.ctx, "domain "+name, lookup[domains.Domain]{
		list:    domains.List(r.c, domains.ListOpts{Name: name}),
		extract: domains.ExtractDomains,
		match:   func(d domains.Domain) bool { return d.Name == name },
		id:      func(d domains.Domain) string { return d.ID },
	}, func() (string, error) {
		d, err := domains.Create(r.ctx, r.c, domains.CreateOpts{Name: name}).Extract()
		return idOrNone(d, err, func(d *domains.Domain) string { return d.ID })
	})
}

// user creates the user, or sets its password and enables it.
func (r *registrar) user(domainID, name, password, project string) (string, error) {
	created := false
	id, err := ensure(r.ctx, "user "+name, lookup[users.User]{
		list:    users.List(r.c, users.ListOpts{Name: name, DomainID: domainID}),
		extract: users.ExtractUsers,
		match:   func(u users.User) bool { return u.Name == name },
		id:      func(u users.User) string { return u.ID },
	}, func() (string, error) {
		created = true
		u, err := users.Create(r.ctx, r.c, users.CreateOpts{Name: name, DomainID: domainID, Password: password,
			DefaultProjectID: project, Enabled: gophercloud.Enabled}).Extract()
		return idOrNone(u, err, func(u *users.User) string { return u.ID })
	})
	if err != nil || created {
		return id, err
	}
	if _, err := users.Update(r.ctx, r.c, id, users.UpdateOpts{Password: password, Enabled: gophercloud.Enabled}).Extract(); err != nil {
		return "", fmt.Errorf("setting the password of user %s: %w", name, err)
	}
	return id, nil
}

// ensureRoles makes sure the roles exist and remembers their IDs.
func (r *registrar) ensureRoles(names []string) error {
	page, err := roles.List(r.c, roles.ListOpts{}).AllPages(r.ctx)
	if err != nil {
		return err
	}
	all, err := roles.ExtractRoles(page)
	if err != nil {
		return err
	}
	r.roleIDs = map[string]string{}
	for _, role := range all {
		r.roleIDs[role.Name] = role.ID
	}
	for _, name := range names {
		if _, ok := r.roleIDs[name]; ok {
			continue
		}
		created, err := roles.Create(r.ctx, r.c, roles.CreateOpts{Name: name}).Extract()
		if err != nil {
			return fmt.Errorf("creating role %s: %w", name, err)
		}
		r.roleIDs[name] = created.ID
	}
	return nil
}

// assign gives a user a role; assigning twice is harmless in Keystone.
func (r *registrar) assign(role, userID string, on roles.AssignOpts) error {
	on.UserID = userID
	if err := roles.Assign(r.ctx, r.c, r.roleIDs[role], on).ExtractErr(); err != nil {
		return fmt.Errorf("assigning role %s: %w", role, err)
	}
	return nil
}

// endpoints registers each API: its catalog service and one internal and
// one public endpoint in the region, corrected when their URL differs.
func (r *registrar) endpoints(region string, want []KeystoneEndpoint) error {
	for _, e := range want {
		id, err := r.service(e.Type, e.Name)
		if err != nil {
			return fmt.Errorf("%s (%s): %w", e.Name, e.Type, err)
		}
		for iface, url := range map[gophercloud.Availability]string{gophercloud.AvailabilityInternal: e.Internal, gophercloud.AvailabilityPublic: e.Public} {
			if err := r.endpoint(id, region, iface, url); err != nil {
				return fmt.Errorf("%s %s endpoint: %w", e.Name, iface, err)
			}
		}
	}
	return nil
}

func (r *registrar) service(typ, name string) (string, error) {
	return ensure(r.ctx, "service "+name, lookup[services.Service]{
		list:    services.List(r.c, services.ListOpts{ServiceType: typ, Name: name}),
		extract: services.ExtractServices,
		match:   func(s services.Service) bool { return s.Type == typ && s.Extra["name"] == name },
		id:      func(s services.Service) string { return s.ID },
	}, func() (string, error) {
		s, err := services.Create(r.ctx, r.c, services.CreateOpts{Type: typ, Name: name, Enabled: gophercloud.Enabled}).Extract()
		return idOrNone(s, err, func(s *services.Service) string { return s.ID })
	})
}

// endpoint keeps exactly one endpoint of a service, interface and region,
// at url.
func (r *registrar) endpoint(service, region string, iface gophercloud.Availability, url string) error {
	page, err := endpoints.List(r.c, endpoints.ListOpts{ServiceID: service, Availability: iface, RegionID: region}).AllPages(r.ctx)
	if err != nil {
		return err
	}
	found, err := endpoints.ExtractEndpoints(page)
	if err != nil {
		return err
	}
	if len(found) == 0 {
		_, err := endpoints.Create(r.ctx, r.c, endpoints.CreateOpts{ServiceID: service, Availability: iface, Region: region, URL: url}).Extract()
		return err
	}
	if found[0].URL != url {
		if _, err := endpoints.Update(r.ctx, r.c, found[0].ID, endpoints.UpdateOpts{URL: url}).Extract(); err != nil {
			return err
		}
	}
	for _, extra := range found[1:] {
		if err := endpoints.Delete(r.ctx, r.c, extra.ID).ExtractErr(); err != nil {
			return err
		}
	}
	return nil
}

// idOrNone is the ID of what a create call returned, or its error.
func idOrNone[T any](v *T, err error, id func(*T) string) (string, error) {
	if err != nil {
		return "", err
	}
	return id(v), nil
}
