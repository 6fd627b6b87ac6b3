package render

import (
	"fmt"

	"sigs.k8s.io/yaml"

	"github.com/oskproject/osk/internal/catalog"
)

// cloudsFile is a clouds.yaml: named clouds, as the OpenStack client and
// gophercloud read them.
type cloudsFile struct {
	Clouds map[string]cloud `json:"clouds"`
}

// cloud is one entry of a clouds.yaml.
type cloud struct {
	Auth               cloudAuth `json:"auth"`
	RegionName         string    `json:"region_name"`
	Interface          string    `json:"interface"`
	IdentityAPIVersion string    `json:"identity_api_version"`
	// CACert is the internal CA's certificate, in a pod, for the
	// internal entries when TLS inside the cloud is on.
	CACert string `json:"cacert,omitempty"`
}

// cloudAuth is how an entry authenticates: a password, and a project or
// the system as its scope.
type cloudAuth struct {
	AuthURL           string `json:"auth_url"`
	Username          string `json:"username"`
	Password          string `json:"password"`
	UserDomainName    string `json:"user_domain_name"`
	ProjectName       string `json:"project_name,omitempty"`
	ProjectDomainName string `json:"project_domain_name,omitempty"`
	SystemScope       string `json:"system_scope,omitempty"`
}

// renderClouds writes the cloud admin's clouds.yaml (see
// catalog.CloudsSecret) into a Secret of identity's, when identity runs:
// project- and system-scoped, through the public and the internal
// endpoints.
func (m *model) renderClouds() error {
	if !m.on["identity"] {
		return nil
	}
	public, internal := m.ctx.PublicURL("keystone", "/v3"), m.ctx.KeystoneURL()+"/v3"
	b, err := yaml.Marshal(cloudsFile{Clouds: map[string]cloud{
		catalog.CloudAdmin:               m.adminCloud(public, "public", false),
		catalog.CloudAdminSystem:         m.adminCloud(public, "public", true),
		catalog.CloudAdminInternal:       m.adminCloud(internal, "internal", false),
		catalog.CloudAdminSystemInternal: m.adminCloud(internal, "internal", true),
	}})
	if err != nil {
		return fmt.Errorf("writing %s: %w", catalog.CloudsFile, err)
	}
	s := m.service("identity")
	m.add(m.configSecret(catalog.CloudsSecret, m.labels(s, ""), map[string][]byte{catalog.CloudsFile: b}))
	return nil
}

// adminCloud is the cloud admin's entry for one Keystone URL and
// interface, scoped to the system or to the admin project.
func (m *model) adminCloud(authURL, iface string, system bool) cloud {
	auth := cloudAuth{
		AuthURL:        authURL,
		Username:       catalog.AdminUser,
		Password:       m.creds.Value(catalog.AdminSecret, catalog.KeyPassword),
		UserDomainName: catalog.AdminDomain,
	}
	if system {
		auth.SystemScope = "all"
	} else {
		auth.ProjectName, auth.ProjectDomainName = catalog.AdminProject, catalog.AdminDomain
	}
	c := cloud{Auth: auth, RegionName: m.d.Spec.Region, Interface: iface, IdentityAPIVersion: "3"}
	if iface == "internal" && m.internalTLS() {
		c.CACert = catalog.InternalCAFile
	}
	return c
}
