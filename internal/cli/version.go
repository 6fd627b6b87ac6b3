package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/oskproject/osk/internal/catalog"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print osk's version (the tag of the osk image it deploys)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), catalog.OskVersion)
			return err
		},
	}
}
