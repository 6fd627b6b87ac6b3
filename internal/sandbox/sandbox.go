package sandbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Timing of the sandbox's life cycle.
const (
	healthInterval = 50 * time.Millisecond // between health probes while starting
	stopGrace      = 5 * time.Second       // between SIGTERM and SIGKILL when stopping
)

// Options configure a sandbox.
type Options struct {
	// Binaries are the binaries to run; see [Tools.Binaries].
	Binaries *Binaries
	// Dir holds the sandbox's certificates, configuration, etcd data and
	// logs. It is created if missing, must not hold a running sandbox, and
	// is removed when the sandbox stops or its owner dies. Empty means a
	// new temporary directory.
	Dir string
	// Topology is created once the control plane is up; the zero value
	// creates no node.
	Topology Topology
	// Stages are kwok Stage documents, YAML or JSON, one Stage each, that
	// this sandbox's kwok plays besides its default ones (nodes become
	// ready and keep their lease; pods become ready, Job pods complete,
	// deleted pods go away), e.g. [FailJobPodsStage]. A stage competing
	// with a default one for a pod wins only with a positive weight: see
	// [FailJobPodsStage].
	Stages [][]byte
	// Logger receives the sandbox's progress; nil discards it.
	Logger *slog.Logger
}

// Sandbox is a running control plane with simulated nodes. Its methods are
// safe for concurrent use.
type Sandbox struct {
	dir       string
	bins      *Binaries
	log       *slog.Logger
	plan      *plan
	clientset kubernetes.Interface

	lock     *os.File
	reaper   *reaper
	launcher *launcher
	procsMu  sync.Mutex // guards procs, which KillAndRestart changes
	procs    []*process
	cancel   context.CancelFunc // stops the sandbox's own controllers
	workers  sync.WaitGroup

	stopping atomic.Bool
	failOnce sync.Once
	failed   chan struct{}
	failErr  error
	stopOnce sync.Once
	stopErr  error
}

// Start starts a sandbox and returns once every component is healthy and
// opts.Topology's nodes are ready. ctx bounds the start only; the sandbox
// runs until Stop or until the calling process ends, whichever comes
// first. On error, whatever was started is stopped and removed.
func Start(ctx context.Context, opts Options) (_ *Sandbox, err error) {
	if opts.Binaries == nil {
		return nil, errors.New("starting the sandbox: no binaries")
	}
	if err := opts.Topology.Validate(); err != nil {
		return nil, err
	}
	if err := validateStages(opts.Stages); err != nil {
		return nil, err
	}
	s := &Sandbox{bins: opts.Binaries, log: opts.Logger, failed: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.claimDir(opts.Dir); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Stop())
		}
	}()
	start := time.Now()
	if err := s.startControlPlane(ctx, opts.Stages); err != nil {
		return nil, err
	}
	s.log.Info("control plane ready", "dir", s.dir, "server", s.plan.config.Host, "elapsed", time.Since(start).Round(time.Millisecond))

	var workers context.Context
	workers, s.cancel = context.WithCancel(context.Background())
	s.workers.Go(func() { recycleVolumes(workers, s.clientset, s.log) })
	if err := s.ApplyTopology(ctx, opts.Topology); err != nil {
		return nil, err
	}
	if err := s.writeState(start); err != nil {
		return nil, err
	}
	return s, nil
}

// startControlPlane writes the sandbox's files, kwok's extra stages
// included, and starts its components phase after phase.
func (s *Sandbox) startControlPlane(ctx context.Context, stages [][]byte) error {
	var err error
	if s.plan, err = newPlan(s.dir, s.bins, stages); err != nil {
		return err
	}
	if s.clientset, err = kubernetes.NewForConfig(s.protobufConfig()); err != nil {
		return fmt.Errorf("creating the sandbox client: %w", err)
	}
	health, err := s.healthClient()
	if err != nil {
		return err
	}
	s.launcher = newLauncher()
	for i, phase := range s.plan.phases {
		if err := s.startPhase(ctx, health, phase); err != nil {
			return fmt.Errorf("starting the sandbox (phase %d of %d): %w", i+1, len(s.plan.phases), err)
		}
	}
	return nil
}

// claimDir creates the sandbox's directory, locks it, and starts its
// reaper.
func (s *Sandbox) claimDir(dir string) (err error) {
	if dir == "" {
		if dir, err = os.MkdirTemp("", "osk-sandbox-"); err != nil {
			return fmt.Errorf("creating the sandbox directory: %w", err)
		}
		defer func() {
			if err != nil {
				os.RemoveAll(dir)
			}
		}()
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the sandbox directory: %w", err)
	}
	s.dir = dir
	if s.lock, err = acquireDir(dir); err != nil {
		return err
	}
	if s.reaper, err = startReaper(dir); err != nil {
		s.lock.Close()
		return err
	}
	return nil
}

// startPhase starts the components of a phase and waits until they are
// all healthy, probing them with client.
func (s *Sandbox) startPhase(ctx context.Context, client *http.Client, phase []component) error {
	started := make([]*process, 0, len(phase))
	for _, c := range phase {
		p, err := s.startProcess(c)
		if err != nil {
			return err
		}
		started = append(started, p)
	}
	g, ctx := errgroup.WithContext(ctx)
	for i, p := range started {
		g.Go(func() error { return p.waitHealthy(ctx, client, phase[i].health) })
	}
	return g.Wait()
}

// startProcess starts c, with its output in its log, and watches it.
func (s *Sandbox) startProcess(c component) (*process, error) {
	p, err := startComponent(s.launcher, s.dir, s.bins.Path(c.name), c)
	if err != nil {
		return nil, err
	}
	s.procsMu.Lock()
	s.procs = append(s.procs, p)
	s.procsMu.Unlock()
	s.log.Debug("started", "component", c.name, "pid", p.pid())
	go func() {
		<-p.exited
		if !s.stopping.Load() && !p.killed.Load() {
			s.fail(fmt.Errorf("%s exited unexpectedly: %w\n%s", p.name, p.err, p.logTail()))
		}
	}()
	return p, nil
}

// healthClient returns an HTTP client trusting the sandbox's CA and
// presenting the administrator's certificate.
func (s *Sandbox) healthClient() (*http.Client, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.plan.creds.ca.Cert)
	cert, err := tls.X509KeyPair(s.plan.creds.admin.Cert, s.plan.creds.admin.Key)
	if err != nil {
		return nil, fmt.Errorf("loading the administrator's key pair: %w", err)
	}
	return &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs:      pool,
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
		}},
	}, nil
}

// fail records the first unexpected exit of a component.
func (s *Sandbox) fail(err error) {
	s.failOnce.Do(func() {
		s.failErr = err
		s.log.Error("sandbox component failed", "err", err)
		close(s.failed)
	})
}

// Done is closed when a component exits on its own; Err then says why.
// The sandbox must still be stopped.
func (s *Sandbox) Done() <-chan struct{} { return s.failed }

// Err returns why Done was closed, or nil.
func (s *Sandbox) Err() error {
	select {
	case <-s.failed:
		return s.failErr
	default:
		return nil
	}
}

// Dir returns the sandbox's directory.
func (s *Sandbox) Dir() string { return s.dir }

// Kubeconfig returns the path of the administrator's kubeconfig, valid
// while the sandbox runs.
func (s *Sandbox) Kubeconfig() string { return s.plan.kubeconfig }

// RESTConfig returns a new copy of the administrator's client
// configuration: a member of system:masters.
func (s *Sandbox) RESTConfig() *rest.Config { return rest.CopyConfig(s.plan.config) }

// Binaries returns the binaries the sandbox runs.
func (s *Sandbox) Binaries() *Binaries { return s.bins }

// Process identifies one running component.
type Process struct {
	Name string `json:"name"` // the component's binary
	PID  int    `json:"pid"`  // its process, leading its process group
	Log  string `json:"log"`  // the path of its log
}

// Processes lists the sandbox's components in start order.
func (s *Sandbox) Processes() []Process {
	s.procsMu.Lock()
	defer s.procsMu.Unlock()
	out := make([]Process, 0, len(s.procs))
	for _, p := range s.procs {
		out = append(out, Process{Name: p.name, PID: p.pid(), Log: p.logFile})
	}
	return out
}

// KillAndRestart kills a component (by its binary's name, for example
// "kube-apiserver") with SIGKILL, as a node failure would, starts it again
// with the same command line and waits until it is healthy: a fault for
// tests of what depends on it. Its data (etcd's) is kept.
func (s *Sandbox) KillAndRestart(ctx context.Context, name string) error {
	c, ok := s.plan.component(name)
	if !ok {
		return fmt.Errorf("restarting %s: the sandbox runs no such component", name)
	}
	s.procsMu.Lock()
	i := slices.IndexFunc(s.procs, func(p *process) bool { return p.name == name })
	if i < 0 {
		s.procsMu.Unlock()
		return fmt.Errorf("restarting %s: it is not running", name)
	}
	old := s.procs[i]
	s.procs = slices.Delete(s.procs, i, i+1)
	s.procsMu.Unlock()
	old.killed.Store(true)
	if err := signalGroup(old.pid(), true); err != nil {
		return fmt.Errorf("killing %s: %w", name, err)
	}
	<-old.exited
	health, err := s.healthClient()
	if err != nil {
		return err
	}
	if err := s.startPhase(ctx, health, []component{c}); err != nil {
		return fmt.Errorf("restarting %s: %w", name, err)
	}
	return nil
}

// protobufConfig is the administrator's configuration speaking protobuf,
// the cheaper encoding for the sandbox's own bulk work.
func (s *Sandbox) protobufConfig() *rest.Config {
	c := s.RESTConfig()
	c.ContentType = "application/vnd.kubernetes.protobuf"
	c.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	return c
}

// Stop stops every component, latest started first, and removes the
// sandbox's directory. It is idempotent.
func (s *Sandbox) Stop() error {
	s.stopOnce.Do(func() {
		s.stopping.Store(true)
		if s.cancel != nil {
			s.cancel()
			s.workers.Wait()
		}
		var errs []error
		s.procsMu.Lock()
		procs := slices.Clone(s.procs)
		s.procsMu.Unlock()
		for _, p := range slices.Backward(procs) {
			errs = append(errs, p.stop(stopGrace))
		}
		if s.launcher != nil {
			s.launcher.close()
		}
		errs = append(errs, os.RemoveAll(s.dir), s.lock.Close(), s.reaper.release())
		s.stopErr = errors.Join(errs...)
		if s.stopErr != nil {
			s.stopErr = fmt.Errorf("stopping the sandbox: %w", s.stopErr)
		}
		s.log.Debug("sandbox stopped", "dir", s.dir)
	})
	return s.stopErr
}
