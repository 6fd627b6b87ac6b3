package catalog

// The cloud admin's credentials as people and clients use them: a
// clouds.yaml, as the OpenStack client and gophercloud read it, in the
// Secret CloudsSecret under the key CloudsFile. osk renders it whenever
// identity runs; its password is AdminSecret's.
const (
	// CloudsSecret is the Secret holding the admin's clouds.yaml.
	CloudsSecret = "keystone-admin-clouds"
	// CloudsFile is the key of the clouds.yaml in CloudsSecret.
	CloudsFile = "clouds.yaml"
	// CloudAdmin is the admin scoped to the admin project, through the
	// public endpoints: for everything that lives in a project (servers,
	// networks, images, volumes).
	CloudAdmin = "admin"
	// CloudAdminSystem is the admin scoped to the whole system, through
	// the public endpoints: for identity administration across projects
	// (projects, users, domains, role assignments).
	CloudAdminSystem = "admin-system"
	// CloudAdminInternal is CloudAdmin through the internal endpoints,
	// from inside the cluster.
	CloudAdminInternal = "admin-internal"
	// CloudAdminSystemInternal is CloudAdminSystem through the internal
	// endpoints, from inside the cluster.
	CloudAdminSystemInternal = "admin-system-internal"
)

// The cloud admin Keystone's bootstrap creates: the user AdminUser, with
// the admin role on the project AdminProject and on the system, both in
// the domain AdminDomain.
const (
	// AdminUser is the cloud admin's user name.
	AdminUser = "admin"
	// AdminProject is the cloud admin's project.
	AdminProject = "admin"
	// AdminDomain is the domain of the admin user and project, Keystone's
	// default domain.
	AdminDomain = "Default"
)
