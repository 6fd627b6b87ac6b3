package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/oskproject/osk/internal/helm"
)

func newHelmBundleCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "helmbundle",
		Aliases: []string{"hb"},
		Short:   "Work with HelmBundles offline",
	}
	cmd.AddCommand(newHelmBundleRenderCommand())
	return cmd
}

func newHelmBundleRenderCommand() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "render -f FILE",
		Short: "Print what a HelmBundle would install",
		Long: `Render a HelmBundle without a cluster: every release's chart is
downloaded from its repository and its templates rendered with the
release's inline values, releases in install order (dependencies first).
Values from Secrets and ConfigMaps and repository credentials are not
read; a note on stderr names each one left out.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := helm.LoadBundle(file)
			if err != nil {
				return err
			}
			for _, n := range helm.OfflineNotes(b) {
				fmt.Fprintln(cmd.ErrOrStderr(), "note:", n)
			}
			return helm.Render(cmd.Context(), b, helm.NewCharts(), cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the HelmBundle manifest")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}
