package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/oskproject/osk/internal/defaulting"
	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/validation"
)

func newValidateCommand() *cobra.Command {
	var file, against string
	cmd := &cobra.Command{
		Use:   "validate -f FILE [--against CURRENT]",
		Short: "Check an OpenStackDeployment and print every problem",
		Long: `Check an OpenStackDeployment and print every problem with its field path.
With --against, also check the change from CURRENT (for example the output
of kubectl get osdpl NAME -o yaml, status included) to FILE against the
admission webhook's transition rules: no downgrade, one release at a time
(or SLURP to the next SLURP), one upgrade at a time, and an upgrade that
changes nothing else than enabling services.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			errs, err := validateFile(file, against)
			if err != nil {
				return err
			}
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
	cmd.Flags().StringVar(&against, "against", "", "the current OpenStackDeployment, to check the change to FILE")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

// validateFile returns the problems of the deployment in file, and of the
// change to it from the one in against when that is set.
func validateFile(file, against string) (field.ErrorList, error) {
	d, err := manifest.Load(file)
	if err != nil {
		return nil, err
	}
	defaulting.Default(&d.Spec)
	errs := validation.Validate(d)
	if against == "" {
		return errs, nil
	}
	old, err := manifest.Load(against)
	if err != nil {
		return nil, err
	}
	return append(errs, validation.ValidateUpdate(old, d)...), nil
}
