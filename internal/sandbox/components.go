package sandbox

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Client rate limits of the sandbox's controllers and of its own client:
// high, so that a topology of thousands of nodes is created and scheduled
// without client-side throttling.
const (
	clientQPS   = 1000
	clientBurst = 2000
)

// kwokNodeAnnotation marks the nodes kwok plays the kubelet of.
const kwokNodeAnnotation = "kwok.x-k8s.io/node"

// component is one process of the sandbox.
type component struct {
	name   string   // the binary's name, also naming its log
	args   []string // its command line
	health string   // an HTTPS URL answering 200 once it is up
}

// plan is everything needed to run a sandbox in a directory: certificates
// and configuration written there, free ports, and the components'
// command lines in start order.
type plan struct {
	dir        string
	bins       *Binaries
	ports      ports
	server     string       // the API server's URL
	kubeconfig string       // the administrator's kubeconfig
	config     *rest.Config // the administrator's client configuration
	creds      credentials
	stages     [][]byte // kwok stages played besides the default ones
	// phases are started in order; the components of a phase are started
	// together and must all be healthy before the next phase starts.
	phases [][]component
}

// ports are the loopback ports of the sandbox's listeners.
type ports struct {
	etcdClient, etcdPeer, apiServer, controllerManager, scheduler, kwok int
}

// credentials are the sandbox's certificates and keys, and the
// kubeconfigs of its clients.
type credentials struct {
	ca, admin, serving, etcdClient, frontProxy keyPair
	// serviceAccountKey signs service account tokens; serviceAccountPub
	// verifies them.
	serviceAccountKey, serviceAccountPub string
	// kubeconfigs of the API server's clients, by component name.
	kubeconfigs map[string]string
}

// clientIdentities are the users of the API server's clients. The
// controllers run as the users their default RBAC roles are bound to.
var clientIdentities = []struct{ name, user, group string }{
	{"admin", "osk-sandbox-admin", "system:masters"},
	{binKubeControllerManager, "system:kube-controller-manager", ""},
	{binKubeScheduler, "system:kube-scheduler", ""},
	{binKwok, "kwok-controller", "system:masters"},
}

// newPlan writes the certificates and configuration of a sandbox running
// bins, whose kwok plays stages besides the default ones, into dir.
func newPlan(dir string, bins *Binaries, stages [][]byte) (*plan, error) {
	p := &plan{dir: dir, bins: bins, stages: stages}
	for _, sub := range []string{"pki", "config", "logs"} {
		if err := os.MkdirAll(p.path(sub), 0o700); err != nil {
			return nil, fmt.Errorf("creating the sandbox directory: %w", err)
		}
	}
	var err error
	if p.ports, err = freePorts(); err != nil {
		return nil, err
	}
	p.server = loopbackURL("https", p.ports.apiServer)
	if err := p.writeCredentials(); err != nil {
		return nil, err
	}
	p.kubeconfig = p.creds.kubeconfigs["admin"]
	p.config = &rest.Config{
		Host:            p.server,
		TLSClientConfig: rest.TLSClientConfig{CAData: p.creds.ca.Cert, CertData: p.creds.admin.Cert, KeyData: p.creds.admin.Key},
		QPS:             clientQPS,
		Burst:           clientBurst,
	}
	scheduler, err := p.scheduler()
	if err != nil {
		return nil, err
	}
	kwok, err := p.kwok()
	if err != nil {
		return nil, err
	}
	p.phases = [][]component{{p.etcd(), p.apiServer()}, {p.controllerManager(), scheduler, kwok}}
	return p, nil
}

// writeCredentials issues the sandbox's certificates and keys, and writes
// its clients' kubeconfigs; the administrator's is <dir>/kubeconfig.
func (p *plan) writeCredentials() error {
	pki := p.path("pki")
	ca, err := newAuthority(pki)
	if err != nil {
		return err
	}
	c := credentials{ca: ca.pair, kubeconfigs: map[string]string{}}
	if c.serving, err = ca.issueServing("serving"); err != nil {
		return err
	}
	if c.etcdClient, err = ca.issueClient("kube-apiserver-etcd-client", "kube-apiserver-etcd-client"); err != nil {
		return err
	}
	// The API server authenticates as front-proxy-client to aggregated API
	// servers, which, like kube-controller-manager and kube-scheduler,
	// trust it through the extension-apiserver-authentication ConfigMap.
	if c.frontProxy, err = ca.issueClient("front-proxy-client", "front-proxy-client"); err != nil {
		return err
	}
	if c.serviceAccountKey, c.serviceAccountPub, err = newSigningKey(pki, "service-account"); err != nil {
		return err
	}
	for _, id := range clientIdentities {
		var groups []string
		if id.group != "" {
			groups = []string{id.group}
		}
		pair, err := ca.issueClient(id.name, id.user, groups...)
		if err != nil {
			return err
		}
		path := p.path("config", id.name+".kubeconfig")
		if id.name == "admin" {
			c.admin, path = pair, p.path("kubeconfig")
		}
		if err := writeKubeconfig(path, p.server, c.ca.Cert, pair); err != nil {
			return err
		}
		c.kubeconfigs[id.name] = path
	}
	p.creds = c
	return nil
}

// servingFlags are the flags of a component serving HTTPS with the
// sandbox's serving certificate.
func (p *plan) servingFlags() []string {
	return []string{"--tls-cert-file=" + p.creds.serving.CertFile, "--tls-private-key-file=" + p.creds.serving.KeyFile}
}

// controller returns the component of a controller serving HTTPS on port,
// which delegates authentication and authorization to the API server,
// with args after its common flags.
func (p *plan) controller(name string, port int, args ...string) component {
	kubeconfig := p.creds.kubeconfigs[name]
	return component{
		name: name,
		args: slices.Concat([]string{
			"--authentication-kubeconfig=" + kubeconfig,
			"--authorization-kubeconfig=" + kubeconfig,
			"--client-ca-file=" + p.creds.ca.CertFile,
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(port),
		}, p.servingFlags(), args),
		health: loopbackURL("https", port) + "/healthz",
	}
}

func (p *plan) etcd() component {
	client := loopbackURL("https", p.ports.etcdClient)
	peer := loopbackURL("http", p.ports.etcdPeer)
	return component{
		name: binEtcd,
		args: []string{
			"--name=sandbox",
			"--data-dir=" + p.path("etcd"),
			"--listen-client-urls=" + client,
			"--advertise-client-urls=" + client,
			"--listen-peer-urls=" + peer,
			"--initial-advertise-peer-urls=" + peer,
			"--initial-cluster=sandbox=" + peer,
			"--cert-file=" + p.creds.serving.CertFile,
			"--key-file=" + p.creds.serving.KeyFile,
			"--trusted-ca-file=" + p.creds.ca.CertFile,
			"--client-cert-auth",
			"--unsafe-no-fsync", // the data is thrown away with the sandbox
			"--log-level=warn",
		},
		health: client + "/health",
	}
}

func (p *plan) apiServer() component {
	c := p.creds
	return component{
		name: binKubeAPIServer,
		args: append([]string{
			"--bind-address=127.0.0.1",
			"--advertise-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(p.ports.apiServer),
			"--etcd-servers=" + loopbackURL("https", p.ports.etcdClient),
			"--etcd-cafile=" + c.ca.CertFile,
			"--etcd-certfile=" + c.etcdClient.CertFile,
			"--etcd-keyfile=" + c.etcdClient.KeyFile,
			"--client-ca-file=" + c.ca.CertFile,
			"--authorization-mode=Node,RBAC",
			"--enable-admission-plugins=NodeRestriction",
			"--allow-privileged=true",
			"--service-cluster-ip-range=" + serviceCIDR,
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file=" + c.serviceAccountPub,
			"--service-account-signing-key-file=" + c.serviceAccountKey,
			// Endpoints may not hold loopback addresses, so the kubernetes
			// Service gets none.
			"--endpoint-reconciler-type=none",
			"--proxy-client-cert-file=" + c.frontProxy.CertFile,
			"--proxy-client-key-file=" + c.frontProxy.KeyFile,
			"--requestheader-client-ca-file=" + c.ca.CertFile,
			"--requestheader-allowed-names=front-proxy-client",
			"--requestheader-username-headers=X-Remote-User",
			"--requestheader-group-headers=X-Remote-Group",
			"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		}, p.servingFlags()...),
		health: p.server + "/readyz",
	}
}

func (p *plan) controllerManager() component {
	c := p.creds
	return p.controller(binKubeControllerManager, p.ports.controllerManager,
		"--kubeconfig="+c.kubeconfigs[binKubeControllerManager],
		"--leader-elect=false",
		// Each controller as its own service account, bound to its own
		// role, as kubeadm does.
		"--use-service-account-credentials=true",
		"--service-account-private-key-file="+c.serviceAccountKey,
		"--root-ca-file="+c.ca.CertFile,
		"--cluster-signing-cert-file="+c.ca.CertFile,
		"--cluster-signing-key-file="+c.ca.KeyFile,
		"--kube-api-qps="+strconv.Itoa(clientQPS),
		"--kube-api-burst="+strconv.Itoa(clientBurst),
	)
}

func (p *plan) scheduler() (component, error) {
	config, err := p.writeConfig("kube-scheduler.yaml", map[string]any{
		"apiVersion": "kubescheduler.config.k8s.io/v1",
		"kind":       "KubeSchedulerConfiguration",
		"clientConnection": map[string]any{
			"kubeconfig": p.creds.kubeconfigs[binKubeScheduler],
			"qps":        clientQPS,
			"burst":      clientBurst,
		},
		"leaderElection": map[string]any{"leaderElect": false},
	})
	return p.controller(binKubeScheduler, p.ports.scheduler, "--config="+config), err
}

// kwokParallelism is how many nodes and pods kwok updates at once; its
// default, 4, makes a thousand nodes wait for their turn to become ready.
const kwokParallelism = 16

func (p *plan) kwok() (component, error) {
	config, err := p.writeConfig("kwok.yaml", map[string]any{
		"apiVersion": "config.kwok.x-k8s.io/v1alpha1",
		"kind":       "KwokConfiguration",
		"options": map[string]any{
			"nodePlayStageParallelism": kwokParallelism,
			"nodeLeaseParallelism":     kwokParallelism,
			"podPlayStageParallelism":  kwokParallelism,
		},
	})
	if err != nil {
		return component{}, err
	}
	stages := []string{"--config=" + filepath.Join(p.bins.Dir, kwokStagesFile)}
	if len(p.stages) > 0 {
		extra, err := p.writeStages()
		if err != nil {
			return component{}, err
		}
		stages = append(stages, "--config="+extra)
	}
	return component{
		name: binKwok,
		args: slices.Concat([]string{"--kubeconfig=" + p.creds.kubeconfigs[binKwok]}, stages, []string{
			"--config=" + config,
			"--manage-all-nodes=false",
			"--manage-nodes-with-annotation-selector=" + kwokNodeAnnotation + "=fake",
			"--node-lease-duration-seconds=40",
			"--server-address=" + net.JoinHostPort("127.0.0.1", strconv.Itoa(p.ports.kwok)),
		}, p.servingFlags()),
		health: loopbackURL("https", p.ports.kwok) + "/healthz",
	}, nil
}

// path returns the path of elem inside the sandbox's directory.
func (p *plan) path(elem ...string) string {
	return filepath.Join(append([]string{p.dir}, elem...)...)
}

// writeConfig writes a component's configuration file as JSON, which is
// YAML, so that no template is needed.
func (p *plan) writeConfig(name string, config map[string]any) (string, error) {
	data, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding %s: %w", name, err)
	}
	path := p.path("config", name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", fmt.Errorf("writing %s: %w", name, err)
	}
	return path, nil
}

// writeKubeconfig writes a kubeconfig for server authenticating with the
// client certificate of pair; its context is named osk-sandbox.
func writeKubeconfig(path, server string, caCert []byte, pair keyPair) error {
	const name = "osk-sandbox"
	config := clientcmdapi.NewConfig()
	config.Clusters[name] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caCert}
	config.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificateData: pair.Cert, ClientKeyData: pair.Key}
	config.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	config.CurrentContext = name
	if err := clientcmd.WriteToFile(*config, path); err != nil {
		return fmt.Errorf("writing kubeconfig %s: %w", path, err)
	}
	return nil
}

func loopbackURL(scheme string, port int) string {
	return scheme + "://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// freePorts picks distinct free ports on the loopback interface, by
// listening on all of them at once and closing them.
func freePorts() (ports, error) {
	var p ports
	fields := []*int{&p.etcdClient, &p.etcdPeer, &p.apiServer, &p.controllerManager, &p.scheduler, &p.kwok}
	for _, f := range fields {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return ports{}, fmt.Errorf("picking a free port: %w", err)
		}
		defer l.Close()
		*f = l.Addr().(*net.TCPAddr).Port
	}
	return p, nil
}

// component returns the component whose binary is name.
func (p *plan) component(name string) (component, bool) {
	for _, phase := range p.phases {
		for _, c := range phase {
			if c.name == name {
				return c, true
			}
		}
	}
	return component{}, false
}
