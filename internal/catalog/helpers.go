package catalog

import (
	"fmt"
	"strconv"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/cephkeys"
)

// openstackBin is where the OpenStack-Helm images keep the services'
// commands and WSGI scripts.
const openstackBin = "/var/lib/openstack/bin"

// wsgiAPI returns an API component served by uWSGI and the uWSGI file it
// reads. The service's main file, conf, is read too.
func wsgiAPI(project, name string, port int32, script, conf string, probe Probe) (Component, ConfigFile) {
	uwsgi := uwsgiFile(project, name)
	c := Component{
		Name:    name,
		Kind:    Deployment,
		Role:    RoleControlPlane,
		Scale:   ScaleAPI,
		Profile: ProfileAPI,
		Command: []string{"uwsgi", "--ini", "/etc/" + project + "/" + uwsgi},
		Ports:   []Port{{Name: "api", Port: port, Public: true}},
		Probe:   probe,
		Reads:   []string{conf, uwsgi},
		Workers: &Option{File: uwsgi, Section: "uwsgi", Key: "processes"},
		TLS:     &Option{File: uwsgi, Section: "uwsgi", Key: "http11-socket"},
	}
	f := ConfigFile{
		Name: uwsgi,
		Dir:  "/etc/" + project,
		Defaults: v1.OsloFile{"uwsgi": {
			"http11-socket":   "0.0.0.0:" + strconv.Itoa(int(port)),
			"wsgi-file":       openstackBin + "/" + script,
			"processes":       "2",
			"threads":         "1",
			"master":          "true",
			"die-on-term":     "true",
			"lazy-apps":       "true",
			"enable-threads":  "true",
			"thunder-lock":    "true",
			"buffer-size":     "65535",
			"exit-on-reload":  "false",
			"add-header":      "Connection: close",
			"procname-prefix": project + "-" + name + " ",
			// SIGTERM stops uWSGI gracefully: the workers finish the
			// requests they hold (at most 25 s) before they exit.
			"hook-master-start":   "unix_signal:15 gracefully_kill_them_all",
			"worker-reload-mercy": "25",
			"reload-mercy":        "25",
		}},
	}
	c.DrainSeconds = drainSeconds
	return c, f
}

// worker returns a control-plane component that processes a queue.
func worker(name string, command []string, reads ...string) Component {
	return Component{
		Name:    name,
		Kind:    Deployment,
		Role:    RoleControlPlane,
		Scale:   ScaleWorker,
		Profile: ProfileWorker,
		Command: command,
		Reads:   reads,
	}
}

// daemon returns a control-plane worker that runs <project>-<name> with the
// project's main file.
func daemon(project, name string) Component {
	conf := project + ".conf"
	return worker(name, oslo(project+"-"+name, "/etc/"+project, conf), conf)
}

// agent returns a component that runs on every node of a role with the
// privileges p, which say why it needs them.
func agent(name, role string, p *Privileges, command []string, reads ...string) Component {
	return Component{
		Name:       name,
		Kind:       DaemonSet,
		Role:       role,
		Scale:      ScaleNode,
		Profile:    ProfileAgent,
		Command:    command,
		Reads:      reads,
		Privileges: p,
	}
}

// oslo returns the command line of an oslo service reading files in dir.
func oslo(binary, dir string, files ...string) []string {
	cmd := []string{binary}
	for _, f := range files {
		cmd = append(cmd, "--config-file", dir+"/"+f)
	}
	return cmd
}

// dbSync returns a project's db-sync job: it reads the main file and runs
// once db-init has created the database.
func dbSync(project string, command ...string) Job {
	return Job{Name: "db-sync", Command: command, Reads: []string{project + ".conf"}, After: []string{"db-init"}}
}

// upgradeStep is one job of a service's release upgrade, reading the
// files it names.
func upgradeStep(name string, reads []string, command ...string) Job {
	return Job{Name: name, Command: command, Reads: reads}
}

// shell runs a script with sh -ec, so the first failing step fails the job.
func shell(script string) []string { return []string{"/bin/sh", "-ec", script} }

// httpProbe checks an HTTP path on the component's main port.
func httpProbe(path string) Probe { return Probe{Kind: ProbeHTTP, Path: path} }

// tcpProbe checks that the component's main port accepts connections.
func tcpProbe() Probe { return Probe{Kind: ProbeTCP} }

// drainSeconds is how long a stopping API pod keeps serving while the
// endpoints and the ingress forget it.
const drainSeconds = 10

// rpcServer is a component that serves oslo.messaging RPC on topic at its
// host name: ready while its process runs, alive while it answers an RPC
// ping. The ping (oslo.messaging's oslo_rpc_server_ping, answered when
// [DEFAULT] rpc_ping_enabled is on) goes through the bus to the server's
// own queue and back, so it fails when the process hangs (its event loop
// blocked, its bus connection lost) and not merely when it exits; it
// does not prove that the service's own work (a database, a hypervisor)
// goes on.
func rpcServer(c Component, process, conf, topic string) Component {
	c.Probe = processProbe(process)
	c.Probe.LiveCommand = []string{"python3", "-c", rpcPingScript, conf, topic}
	c.Probe.LiveTimeoutSeconds = 30
	return c
}

// rpcPingScript calls oslo_rpc_server_ping on the server of a topic at
// this host (oslo.config's default host is the host name), with the
// transport of a service's file: python3 -c script <file> <topic>.
const rpcPingScript = `import socket, sys
from oslo_config import cfg
import oslo_messaging as messaging
conf = cfg.ConfigOpts()
conf(["--config-file", sys.argv[1]], default_config_files=[])
transport = messaging.get_rpc_transport(conf)
target = messaging.Target(topic=sys.argv[2], server=socket.gethostname())
if hasattr(messaging, "get_rpc_client"):
    client = messaging.get_rpc_client(transport, target, timeout=20)
else:
    client = messaging.RPCClient(transport, target, timeout=20)
client.call({}, "oslo_rpc_server_ping")
`

// processProbe checks that a process of the given name runs in the pod.
func processProbe(name string) Probe {
	return Probe{Kind: ProbeExec, Command: []string{"pgrep", "-f", name}}
}

// mainFile returns a project's oslo.config file, /etc/<project>/<project>.conf.
func mainFile(project string, defaults v1.OsloFile, wiring []Wire) ConfigFile {
	return ConfigFile{Name: project + ".conf", Dir: "/etc/" + project, Defaults: defaults, Wiring: wiring}
}

// standardWiring is what every OpenStack service's main file gets: its
// bus, notifications, token checks and logging. Services that use
// oslo.cache add WireCache: in the others [cache] is not an option.
func standardWiring(extra ...Wire) []Wire {
	w := []Wire{
		{Kind: WireMessaging},
		{Kind: WireNotifications},
		{Kind: WireAuthToken},
		{Kind: WireLogging},
	}
	return append(w, extra...)
}

// backend returns a When function true for one networking backend.
func backend(b v1.NeutronBackend) func(c *Context) bool {
	return func(c *Context) bool { return c.Features.Neutron.Backend == b }
}

// cephFiles are the Ceph files of a service whose consumers are
// clients: ceph.conf and one keyring per client, in /etc/ceph, from the
// Ceph Secret; present when uses says so. Each component reads ceph.conf
// and only the keyrings it names, so a rotated key rolls only its readers.
func cephFiles(uses func(c *Context) bool, clients ...string) []ConfigFile {
	out := []ConfigFile{{Name: cephkeys.ConfFile, Dir: cephDir, Format: FormatRaw, When: uses,
		Generate: func(c *Context) []byte { return cephkeys.Conf(c.Ceph(cephkeys.FSID), c.Ceph(cephkeys.MonHost)) }}}
	for _, client := range clients {
		out = append(out, ConfigFile{Name: cephkeys.KeyringFile(client), Dir: cephDir, Format: FormatRaw, When: uses,
			Generate: func(c *Context) []byte { return cephkeys.Keyring(client, c.Ceph(cephkeys.ClientKey(client))) }})
	}
	return out
}

// cephReads are the Ceph files a component of clients reads.
func cephReads(clients ...string) []string {
	out := []string{cephkeys.ConfFile}
	for _, c := range clients {
		out = append(out, cephkeys.KeyringFile(c))
	}
	return out
}

// cephDir is where Ceph's libraries look for ceph.conf and keyrings.
const cephDir = "/etc/ceph"

// always is a When that is always true.
func always(*Context) bool { return true }

// uwsgiFile is the name of the uWSGI file of a project's API component.
func uwsgiFile(project, component string) string {
	return fmt.Sprintf("%s-%s-uwsgi.ini", project, component)
}

// withWhen returns a copy of a volume mounted only when when says so.
func withWhen(v Volume, when func(c *Context) bool) Volume {
	v.When = when
	return v
}
