// Package cli holds osk's command-line interface: one cobra command tree
// whose subcommands call into the packages that do the work.
package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code through cobra without printing a
// second message; the command has already reported what went wrong.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// NewRootCommand returns the osk command with every subcommand attached.
func NewRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "osk",
		Short:         "Run the OpenStack control plane on Kubernetes",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newRenderCommand(),
		newValidateCommand(),
		newVersionCommand(),
		newNodeConfigCommand(),
		newInstallCommand(),
		newSandboxCommand(),
		newOperatorCommand(),
		newJobCommand(),
		newHelmBundleCommand(),
		newGaleraCommand(),
		newExporterCommand(),
	)
	return root
}

// Execute runs osk with the process arguments and returns the exit code.
func Execute() int {
	err := NewRootCommand().Execute()
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "Error:", err)
	return 1
}
