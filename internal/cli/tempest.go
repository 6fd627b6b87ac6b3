package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/jobs"
)

func newTempestCommand() *cobra.Command {
	j := jobs.Tempest{Command: "tempest"}
	var publicNetwork, terminationLog string
	cmd := &cobra.Command{
		Use:   "tempest [flags] [-- TEMPEST RUN ARGUMENTS]",
		Short: "Run Tempest against the cloud and sum up its results",
		Long: `Create what Tempest needs and a fresh cloud lacks (two flavors, a small
image, a public network on the floating network's physnet when the cloud has
none), complete tempest.conf with their IDs and the microversions the APIs
serve, run "tempest run" with the arguments after --, keep the results in the
workspace (results.subunit, results.xml, summary.json), and remove what it
created. The summary is printed and written to the termination log, where
the operator reads it into status.tempest. The admin's password comes from
` + catalog.TempestPasswordEnv + `. Failed tests do not fail the command; a run that
could not happen does.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			j.AdminPassword, j.RunArgs, j.Out = os.Getenv(catalog.TempestPasswordEnv), args, cmd.OutOrStdout()
			if publicNetwork != "" {
				n, err := jobs.ParsePublicNetwork(publicNetwork)
				if err != nil {
					return fmt.Errorf("--public-network: %w", err)
				}
				j.PublicNetwork = n
			}
			res, err := j.Run(cmd.Context())
			if err != nil {
				return err
			}
			return reportTempest(cmd, res, filepath.Join(j.Workspace, jobs.ResultsSummary), terminationLog)
		},
	}
	f := cmd.Flags()
	f.StringVar(&j.Config, "config", "/etc/tempest/tempest.conf", "the rendered tempest.conf")
	f.StringVar(&j.Workspace, "workspace", "/var/lib/tempest/workspace", "Tempest's workspace, where the results stay")
	f.StringVar(&j.ImageFile, "image-file", "", "the test image's content (default: a small generated raw image)")
	f.StringVar(&publicNetwork, "public-network", "", "the floating network, as physnet,cidr,gateway,pool-start,pool-end")
	f.StringVar(&j.Command, "tempest", j.Command, "Tempest's command")
	f.StringVar(&terminationLog, "termination-log", "/dev/termination-log", "where the summary goes for the operator, when that file exists")
	f.DurationVar(&j.Wait, "wait", 5*time.Minute, "how long to wait for Keystone to answer")
	return cmd
}

// reportTempest prints the summary and writes it to the workspace and to
// the termination log, if the container has one.
func reportTempest(cmd *cobra.Command, res *v1.TempestResult, summary, terminationLog string) error {
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if err := os.WriteFile(summary, b, 0o644); err != nil {
		return fmt.Errorf("writing the summary: %w", err)
	}
	if _, err := os.Stat(terminationLog); err == nil {
		if err := os.WriteFile(terminationLog, b, 0o644); err != nil {
			return fmt.Errorf("writing the termination log: %w", err)
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "tempest: %s, %d passed, %d failed, %d skipped\n%s\n", res.Result, res.Passed, res.Failed, res.Skipped, b)
	return nil
}
