package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/oskproject/osk/internal/sandbox"
)

// Time limits of the sandbox commands.
const (
	sandboxStartTimeout = 5 * time.Minute
	sandboxStopTimeout  = time.Minute
)

// sandboxReady is what a detached sandbox writes to its notification pipe
// once it is ready; anything else is the reason it failed.
const sandboxReady = "ready\n"

func newSandboxCommand() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run a local Kubernetes control plane with simulated nodes",
		Long: "Run a real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,\n" +
			"kube-scheduler) with nodes simulated by kwok, on loopback, for tests and experiments.\n" +
			"The binaries are built from source, once, into the user's cache; run the commands\n" +
			"inside the osk repository, whose hack/sandbox pins their versions.",
	}
	cmd.PersistentFlags().StringVar(&name, "name", "default", "name of the sandbox")
	cmd.AddCommand(
		newSandboxBuildCommand(),
		newSandboxUpCommand(&name),
		newSandboxStatusCommand(&name),
		newSandboxDownCommand(&name),
		newSandboxKubectlCommand(&name),
	)
	return cmd
}

func newSandboxKubectlCommand(name *string) *cobra.Command {
	return &cobra.Command{
		Use:                "kubectl [args...]",
		Short:              "Run the sandbox's kubectl against the running sandbox",
		Example:            "  osk sandbox kubectl get pods -A -o wide",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := sandbox.StateDir(*name)
			if err != nil {
				return err
			}
			state, err := sandbox.Inspect(dir)
			if err != nil {
				return fmt.Errorf("sandbox %q: %w; start it with: %s", *name, err, sandboxCommand(*name, "up"))
			}
			// A running sandbox means its binaries are built: find them
			// without a word, so that kubectl's output is all there is.
			bins, err := sandboxBinaries(cmd.Context(), slog.New(slog.DiscardHandler))
			if err != nil {
				return err
			}
			kubectl := exec.CommandContext(cmd.Context(), bins.Path("kubectl"), args...)
			kubectl.Env = append(os.Environ(), "KUBECONFIG="+state.Kubeconfig)
			kubectl.Stdin, kubectl.Stdout, kubectl.Stderr = cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
			if err := kubectl.Run(); err != nil {
				var exit *exec.ExitError
				if errors.As(err, &exit) {
					return exitError{code: exit.ExitCode()}
				}
				return fmt.Errorf("running kubectl: %w", err)
			}
			return nil
		},
	}
}

func newSandboxBuildCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "build",
		Short: "Build and cache the sandbox's binaries, unless cached already",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			bins, err := buildSandboxBinaries(ctx, cmd)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), bins.Dir)
			return err
		},
	}
}

// buildSandboxBinaries builds, or finds in the cache, the binaries pinned
// by the osk repository containing the working directory, logging progress
// to the command's standard error.
func buildSandboxBinaries(ctx context.Context, cmd *cobra.Command) (*sandbox.Binaries, error) {
	return sandboxBinaries(ctx, slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)))
}

// sandboxBinaries builds, or finds in the cache, the binaries pinned by the
// osk repository containing the working directory.
func sandboxBinaries(ctx context.Context, logger *slog.Logger) (*sandbox.Binaries, error) {
	tools, err := sandbox.LoadToolsFrom(".")
	if err != nil {
		return nil, err
	}
	return tools.Build(ctx, logger)
}

// sandboxUpOptions are the flags of "osk sandbox up".
type sandboxUpOptions struct {
	name       *string
	topology   sandbox.Topology
	foreground bool
	notifyFD   int // set in the detached process: where to report readiness
}

func newSandboxUpCommand(name *string) *cobra.Command {
	o := sandboxUpOptions{name: name, topology: sandbox.DefaultTopology()}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start a sandbox in the background and print how to use it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if o.foreground {
				return o.runForeground(ctx, cmd)
			}
			return o.runDetached(ctx, cmd)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.topology.ControlPlane, "control-plane", o.topology.ControlPlane, "number of control-plane nodes")
	f.IntVar(&o.topology.Compute, "compute", o.topology.Compute, "number of compute nodes")
	f.IntVar(&o.topology.Gateway, "gateway", o.topology.Gateway, "number of gateway nodes")
	f.IntVar(&o.topology.VolumesPerNode, "volumes-per-node", o.topology.VolumesPerNode, "local persistent volumes of each node")
	f.StringVar(&o.topology.VolumeSize, "volume-size", o.topology.VolumeSize, "size of each local persistent volume")
	f.BoolVar(&o.foreground, "foreground", false, "run in the foreground until interrupted")
	f.IntVar(&o.notifyFD, "notify-fd", 0, "file descriptor to report readiness on (internal)")
	_ = f.MarkHidden("notify-fd")
	return cmd
}

// runDetached starts the sandbox in a new session, as this command again
// with --foreground, and returns once it reports ready or failed.
func (o *sandboxUpOptions) runDetached(ctx context.Context, cmd *cobra.Command) error {
	bins, err := buildSandboxBinaries(ctx, cmd)
	if err != nil {
		return err
	}
	dir, err := o.prepareDir()
	if err != nil {
		return err
	}
	child, notify, err := o.spawn(dir)
	if err != nil {
		return errors.Join(err, os.RemoveAll(dir))
	}
	defer notify.Close()
	if err := readNotification(ctx, notify); err != nil {
		// Its processes die with it, and its reaper removes dir.
		_ = child.Process.Kill()
		_ = child.Wait()
		return errors.Join(fmt.Errorf("starting sandbox %q: %w", *o.name, err), os.RemoveAll(dir))
	}
	if err := child.Process.Release(); err != nil {
		return fmt.Errorf("detaching sandbox %q: %w", *o.name, err)
	}
	return o.printUsage(cmd.OutOrStdout(), dir, bins)
}

// prepareDir returns the sandbox's state directory, emptied of whatever a
// sandbox that died left there, unless a sandbox of that name is running.
func (o *sandboxUpOptions) prepareDir() (string, error) {
	dir, err := sandbox.StateDir(*o.name)
	if err != nil {
		return "", err
	}
	state, err := sandbox.Inspect(dir)
	if err == nil {
		return "", fmt.Errorf("sandbox %q is already running (pid %d); stop it first with: %s",
			*o.name, state.Owner, o.command("down"))
	}
	if !errors.Is(err, sandbox.ErrNotRunning) {
		return "", err
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("removing a stale sandbox: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating the sandbox directory: %w", err)
	}
	return dir, nil
}

// spawn starts this command again with --foreground, in a session of its
// own and with its output in dir/supervisor.log; it returns the read end
// of the pipe on which the process reports its start.
func (o *sandboxUpOptions) spawn(dir string) (*exec.Cmd, *os.File, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("locating the osk executable: %w", err)
	}
	log, err := os.Create(filepath.Join(dir, "supervisor.log"))
	if err != nil {
		return nil, nil, fmt.Errorf("creating the sandbox log: %w", err)
	}
	defer log.Close()
	notifyR, notifyW, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("starting the sandbox: %w", err)
	}
	defer notifyW.Close()
	child := exec.Command(exe, o.foregroundArgs()...)
	child.Stdout, child.Stderr = log, log
	child.ExtraFiles = []*os.File{notifyW} // descriptor 3
	child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := child.Start(); err != nil {
		notifyR.Close()
		return nil, nil, fmt.Errorf("starting the sandbox: %w", err)
	}
	return child, notifyR, nil
}

// foregroundArgs are the arguments running this sandbox in the
// foreground, reporting readiness on descriptor 3.
func (o *sandboxUpOptions) foregroundArgs() []string {
	t := o.topology
	return []string{"sandbox", "up", "--foreground", "--notify-fd=3",
		"--name=" + *o.name,
		"--control-plane=" + strconv.Itoa(t.ControlPlane),
		"--compute=" + strconv.Itoa(t.Compute),
		"--gateway=" + strconv.Itoa(t.Gateway),
		"--volumes-per-node=" + strconv.Itoa(t.VolumesPerNode),
		"--volume-size=" + t.VolumeSize,
	}
}

// readNotification reads what the detached sandbox reports before closing
// its end of r, and returns nil if it is ready, or why not. It gives up
// after sandboxStartTimeout, or when ctx ends.
func readNotification(ctx context.Context, r *os.File) error {
	ctx, cancel := context.WithTimeout(ctx, sandboxStartTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { _ = r.SetReadDeadline(time.Now()) })
	defer stop()
	data, err := io.ReadAll(r)
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("waiting for the sandbox: %w", context.Cause(ctx))
	case err != nil:
		return fmt.Errorf("waiting for the sandbox: %w", err)
	case len(data) == 0:
		return errors.New("the sandbox process exited during start-up without a word")
	case string(data) != sandboxReady:
		return errors.New(string(data))
	}
	return nil
}

// runForeground runs the sandbox until interrupted; with --notify-fd, it
// reports its start there, to the "up" that spawned it.
func (o *sandboxUpOptions) runForeground(ctx context.Context, cmd *cobra.Command) error {
	var notify *os.File
	if o.notifyFD != 0 {
		// Inherited descriptors are not closed on exec: keep the sandbox's
		// processes from holding the pipe open.
		syscall.CloseOnExec(o.notifyFD)
		notify = os.NewFile(uintptr(o.notifyFD), "notify")
	}
	sb, bins, err := o.start(ctx, cmd)
	if notify != nil {
		notifyOwner(notify, err)
	}
	if err != nil {
		return err
	}
	if notify == nil {
		if err := o.printUsage(cmd.OutOrStdout(), sb.Dir(), bins); err != nil {
			return errors.Join(err, sb.Stop())
		}
		fmt.Fprintln(cmd.OutOrStdout(), "Press Ctrl-C to stop it.")
	}
	select {
	case <-ctx.Done():
		return sb.Stop()
	case <-sb.Done():
		return errors.Join(sb.Err(), sb.Stop())
	}
}

// start starts the sandbox in its state directory, which the spawning "up"
// prepared when there is one.
func (o *sandboxUpOptions) start(ctx context.Context, cmd *cobra.Command) (*sandbox.Sandbox, *sandbox.Binaries, error) {
	bins, err := buildSandboxBinaries(ctx, cmd)
	if err != nil {
		return nil, nil, err
	}
	var dir string
	if o.notifyFD != 0 {
		dir, err = sandbox.StateDir(*o.name)
	} else {
		dir, err = o.prepareDir()
	}
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, sandboxStartTimeout)
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Options{
		Binaries: bins,
		Dir:      dir,
		Topology: o.topology,
		Logger:   slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)),
	})
	return sb, bins, err
}

// notifyOwner reports the start's outcome on f and closes it.
func notifyOwner(f *os.File, err error) {
	defer f.Close()
	report := sandboxReady
	if err != nil {
		report = err.Error()
	}
	_, _ = io.WriteString(f, report)
}

// printUsage tells how to use the sandbox in dir.
func (o *sandboxUpOptions) printUsage(w io.Writer, dir string, bins *sandbox.Binaries) error {
	_, err := fmt.Fprintf(w, `Sandbox %q is up: %s nodes, Kubernetes %s.
Use it with:
  export KUBECONFIG=%s
  %s get nodes
Stop it with:
  %s
`, *o.name, o.topology, bins.KubernetesVersion(), filepath.Join(dir, "kubeconfig"), bins.Path("kubectl"), o.command("down"))
	return err
}

// command returns the osk sandbox subcommand for this sandbox.
func (o *sandboxUpOptions) command(sub string) string {
	return sandboxCommand(*o.name, sub)
}

func sandboxCommand(name, sub string) string {
	if name == "default" {
		return "osk sandbox " + sub
	}
	return fmt.Sprintf("osk sandbox %s --name %s", sub, name)
}

func newSandboxStatusCommand(name *string) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show whether the sandbox runs, and how to reach it; exit status 1 if it does not",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := sandbox.StateDir(*name)
			if err != nil {
				return err
			}
			state, err := sandbox.Inspect(dir)
			if errors.Is(err, sandbox.ErrNotRunning) {
				fmt.Fprintf(cmd.OutOrStdout(), "Sandbox %q is not running.\n", *name)
				return exitError{code: 1}
			}
			if err != nil {
				return err
			}
			return printStatus(cmd.Context(), cmd.OutOrStdout(), *name, state)
		},
	}
}

// printStatus describes a running sandbox, and counts its nodes.
func printStatus(ctx context.Context, w io.Writer, name string, state *sandbox.State) error {
	if !state.Ready {
		_, err := fmt.Fprintf(w, "Sandbox %q is starting (pid %d).\n", name, state.Owner)
		return err
	}
	var components []string
	for _, p := range state.Processes {
		components = append(components, fmt.Sprintf("%s (pid %d)", p.Name, p.PID))
	}
	_, err := fmt.Fprintf(w, `Sandbox %q is running (pid %d, up %s).
  Server:     %s
  Kubeconfig: %s
  Nodes:      %s
  Versions:   kubernetes %s, etcd %s, kwok %s
  Components: %s
`, name, state.Owner, time.Since(state.Started).Round(time.Second), state.Server, state.Kubeconfig,
		countNodes(ctx, state.Kubeconfig),
		state.Versions["kubernetes"], state.Versions["etcd"], state.Versions["kwok"],
		strings.Join(components, ", "))
	return err
}

// countNodes returns "N (M ready)", or why the nodes could not be listed.
func countNodes(ctx context.Context, kubeconfig string) string {
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return "unknown: " + err.Error()
	}
	cs, err := kubernetes.NewForConfig(config)
	if err != nil {
		return "unknown: " + err.Error()
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return "unknown: " + err.Error()
	}
	ready := 0
	for _, n := range nodes.Items {
		if sandbox.NodeReady(&n) {
			ready++
		}
	}
	return fmt.Sprintf("%d (%d ready)", len(nodes.Items), ready)
}

func newSandboxDownCommand(name *string) *cobra.Command {
	return &cobra.Command{
		Use:   "down",
		Short: "Stop the sandbox and remove all its files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := sandbox.StateDir(*name)
			if err != nil {
				return err
			}
			if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "Sandbox %q is not running.\n", *name)
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), sandboxStopTimeout)
			defer cancel()
			if err := sandbox.Shutdown(ctx, dir); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Sandbox %q is stopped and removed.\n", *name)
			return err
		},
	}
}
