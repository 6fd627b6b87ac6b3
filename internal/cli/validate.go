package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/oskproject/osk/internal/defaulting"
	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/validation"
)

func newValidateCommand() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "validate -f FILE",
		Short: "Check an OpenStackDeployment and print every problem",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := manifest.Load(file)
			if err != nil {
				return err
			}
			defaulting.Default(&d.Spec)
			errs := validation.Validate(d)
			for _, e := range errs {
				fmt.Fprintln(cmd.ErrOrStderr(), e.Error())
			}
			if len(errs) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d problem(s)\n", file, len(errs))
				return exitError{code: 1}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: valid\n", file)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the OpenStackDeployment manifest")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}
