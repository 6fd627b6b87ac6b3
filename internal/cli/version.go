package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// Version is osk's version, stamped at build time with
// -ldflags "-X github.com/oskproject/osk/internal/cli.Version=...".
var Version = "dev"

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print osk's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), Version)
			return err
		},
	}
}
