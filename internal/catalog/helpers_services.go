package catalog

import (
	"fmt"
	"strings"

	"github.com/oskproject/osk/internal/release"
)

// Helpers shared by the catalog's optional OpenStack services (block
// storage, DNS, load balancing, key management, orchestration, instance
// HA, telemetry, dashboard, tempest).

// openstackEtc is where the OpenStack-Helm images keep the files a project
// ships beside its code (api-paste.ini, rootwrap.conf, rootwrap.d): pip
// installs a project's data files under the virtualenv, and the images copy
// none of them to /etc.
const openstackEtc = "/var/lib/openstack/etc"

// sized sets the option that holds a component's number of worker
// processes, which the size table fills.
func sized(c Component, file, section, key string) Component {
	c.Workers = &Option{File: file, Section: section, Key: key}
	return c
}

// setAll sets several options of one section of a file.
func setAll(f Files, file, section string, options map[string]string) {
	for k, v := range options {
		f.Set(file, section, k, v)
	}
}

// wsgiModuleSince makes an API's uWSGI file load the project's WSGI module
// instead of its pbr-generated WSGI script from release since on. The
// projects added <project>.wsgi modules in 2025.1-2025.2 and then dropped
// the scripts (pbr's wsgi_scripts no longer work with current setuptools);
// since is the first release whose .0 has the module.
func wsgiModuleSince(c *Context, f Files, uwsgi, since, module string) {
	if release.AtLeast(c.Release, since) {
		f.Delete(uwsgi, "uwsgi", "wsgi-file")
		f.Set(uwsgi, "uwsgi", "module", module)
	}
}

// wsgiModule makes a uWSGI file, as wsgiAPI returns it, load a WSGI module
// in every release, for projects that never had a WSGI script.
func wsgiModule(f *ConfigFile, module string) {
	delete(f.Defaults["uwsgi"], "wsgi-file")
	f.Defaults["uwsgi"]["module"] = module
}

// prepared runs shell setup steps, then replaces the shell with cmd.
func prepared(setup string, cmd []string) []string {
	return shell(setup + "\nexec " + strings.Join(cmd, " "))
}

// linkShipped is a shell step that links a file the project ships into
// /etc/<project>, for code that looks for it only there. The component
// needs etcVolume(project) to write there.
func linkShipped(project, file string) string {
	return fmt.Sprintf("ln -sf %s/%s/%s /etc/%s/%s", openstackEtc, project, file, project, file)
}

// etcVolume makes /etc/<project> writable (an emptyDir under the
// configuration files mounted into it), for components that add files
// there when they start.
func etcVolume(project string) Volume {
	return Volume{Name: "etc-" + project, Kind: VolumeEmpty, MountPath: "/etc/" + project}
}

// shellArgs runs a script with sh -ec; the arguments a job computes (Args)
// reach the script as $1, $2, ...
func shellArgs(script string) []string { return append(shell(script), "sh") }

// databaseURLEnv sets an option that holds a database URL under a key
// other than "connection", which the database wiring cannot write (gnocchi's
// [indexer] url, barbican's [DEFAULT] sql_connection before 2024.1): osk
// passes it through oslo.config's environment source, OS_<GROUP>__<OPTION>,
// and Kubernetes expands the password, a variable defined just before, into
// it. The URL is the one the renderer writes for WireDatabase; MariaDB's
// Service is in the same namespace, so its short name resolves.
func databaseURLEnv(project, db, group, option string) []Env {
	pw := strings.ToUpper(project) + "_DATABASE_PASSWORD"
	return []Env{
		{Name: pw, Secret: CredentialSecret(project), Key: KeyDatabasePassword},
		{Name: "OS_" + strings.ToUpper(group) + "__" + strings.ToUpper(option),
			Value: fmt.Sprintf("mysql+pymysql://%s:$(%s)@mariadb-server:%d/%s?charset=utf8", project, pw, DatabasePort, db)},
	}
}

// memcachedServers lists every member of osk's memcached, for clients the
// renderer does not wire (Horizon's Django cache). Like the renderer's own
// list, it names each member so that every client hashes keys the same way.
func memcachedServers(c *Context) []string {
	mc := memcached()
	server := mc.Components[0]
	n := server.ReplicasFor(c.Spec.Size)
	if r := c.Spec.Services[mc.Name].Components[server.Name].Replicas; r != nil {
		n = *r
	}
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("%[1]s-%[2]s-%[3]d.%[1]s-%[2]s-peers.%[4]s.svc.%[5]s:%[6]d",
			mc.Project, server.Name, i, c.Namespace, c.Spec.InternalDomainName, MemcachedPort)
	}
	return hosts
}

// libvirtRunVolume is the host's libvirt socket directory, for agents on
// compute nodes that talk to libvirtd.
var libvirtRunVolume = Volume{Name: "libvirt-run", Kind: VolumeHostPath, Source: "/run/libvirt", MountPath: "/run/libvirt"}
