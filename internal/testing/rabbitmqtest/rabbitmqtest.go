// Package rabbitmqtest runs a real RabbitMQ server with its management
// plugin for tests: Debian's rabbitmq-server on loopback, with free ports,
// its own node name, epmd, data and log directories, stopped when the
// test ends.
package rabbitmqtest

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rabbithole "github.com/michaelklishin/rabbit-hole/v2"

	"github.com/oskproject/osk/internal/testing/proctest"
)

// Server is a running RabbitMQ.
type Server struct {
	// Host and Port reach AMQP; ManagementURL the management API.
	Host          string
	Port          int
	ManagementURL string
	// AdminUser and AdminPassword are the administrator's.
	AdminUser, AdminPassword string
	// Node is the Erlang node name, for rabbitmqctl -n.
	Node string
	// MetricsPort serves the Prometheus plugin's metrics on Host (0: the
	// plugin is off).
	MetricsPort int
	// Process runs the broker.
	Process *proctest.Process
}

// server is Debian's broker start script without the wrapper that
// switches to the rabbitmq user.
const server = "/usr/lib/rabbitmq/bin/rabbitmq-server"

// Start starts a RabbitMQ server for t on free ports of 127.0.0.1, or
// fails t saying what to install.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartOn(t, "127.0.0.1", proctest.FreePort(t), proctest.FreePort(t))
}

// StartOn starts a RabbitMQ server for t with AMQP on host:port and the
// management API on host:management. Erlang's own ports (epmd,
// distribution) are free ports of 127.0.0.1.
func StartOn(t testing.TB, host string, port, management int) *Server {
	t.Helper()
	return start(t, host, port, management, 0)
}

// StartWithMetrics starts a RabbitMQ server on free ports of 127.0.0.1
// with its Prometheus plugin on, as RabbitMQ's image runs it.
func StartWithMetrics(t testing.TB) *Server {
	t.Helper()
	return start(t, "127.0.0.1", proctest.FreePort(t), proctest.FreePort(t), proctest.FreePort(t))
}

func start(t testing.TB, host string, port, management, metrics int) *Server {
	t.Helper()
	proctest.Need(t, "rabbitmq-server", server, "epmd")
	dir := t.TempDir()
	s := &Server{Host: host, Port: port, AdminUser: "admin", AdminPassword: rand.Text(),
		Node: "osk-" + strings.ToLower(rand.Text()[:8]) + "@localhost", MetricsPort: metrics}
	epmd, dist := proctest.FreePort(t), proctest.FreePort(t)
	s.ManagementURL = fmt.Sprintf("http://%s:%d", host, management)
	conf := fmt.Sprintf(`listeners.tcp.default = %[1]s:%[2]d
management.tcp.ip = %[1]s
management.tcp.port = %[3]d
default_user = %[4]s
default_pass = %[5]s
log.console = true
log.file = false
`, host, port, management, s.AdminUser, s.AdminPassword)
	plugins := "rabbitmq_management"
	if metrics != 0 {
		conf += fmt.Sprintf("prometheus.tcp.ip = %s\nprometheus.tcp.port = %d\n", host, metrics)
		plugins += ",rabbitmq_prometheus"
	}
	write(t, filepath.Join(dir, "rabbitmq.conf"), conf)
	write(t, filepath.Join(dir, "enabled_plugins"), "["+plugins+"].\n")
	env := append(os.Environ(),
		"HOME="+dir, // the Erlang cookie
		"RABBITMQ_NODENAME="+s.Node,
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_DIST_PORT="+fmt.Sprint(dist),
		"ERL_EPMD_ADDRESS=127.0.0.1",
		"ERL_EPMD_PORT="+fmt.Sprint(epmd),
		"RABBITMQ_CONFIG_FILE="+filepath.Join(dir, "rabbitmq.conf"),
		"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(dir, "enabled_plugins"),
		"RABBITMQ_MNESIA_BASE="+filepath.Join(dir, "mnesia"),
		"RABBITMQ_LOG_BASE="+filepath.Join(dir, "log"),
		"RABBITMQ_PID_FILE="+filepath.Join(dir, "rabbitmq.pid"),
		"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}",
	)
	cmd := exec.Command(server)
	cmd.Env, cmd.Dir = env, dir
	// epmd, started by the broker on this test's own port, outlives it;
	// cleanups run last first, so this one runs after the broker stops.
	t.Cleanup(func() { _ = exec.Command("epmd", "-port", fmt.Sprint(epmd), "-kill").Run() })
	p := proctest.Start(t, dir, "rabbitmq", cmd)
	s.Process = p
	p.WaitUntil(t, 90*time.Second, func() error {
		c, err := s.Client(s.AdminUser, s.AdminPassword)
		if err != nil {
			return err
		}
		_, err = c.Overview()
		return err
	})
	return s
}

// Client returns a management API client logged in as user.
func (s *Server) Client(user, password string) (*rabbithole.Client, error) {
	c, err := rabbithole.NewClient(s.ManagementURL, user, password)
	if err != nil {
		return nil, err
	}
	c.SetTimeout(5 * time.Second)
	return c, nil
}

// URL is the AMQP URL of user in vhost.
func (s *Server) URL(user, password, vhost string) string {
	u := url.URL{Scheme: "amqp", User: url.UserPassword(user, password), Host: fmt.Sprintf("%s:%d", s.Host, s.Port), Path: "/" + url.PathEscape(vhost)}
	return u.String()
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
