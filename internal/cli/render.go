package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/render"
)

func newRenderCommand() *cobra.Command {
	var file, outDir string
	var upgradeSteps bool
	cmd := &cobra.Command{
		Use:   "render -f FILE [-o DIR]",
		Short: "Print every Kubernetes object an OpenStackDeployment turns into",
		Long: `Render an OpenStackDeployment offline. Objects are printed as one YAML
stream, or written one file per object with -o. Passwords are never
printed: configuration files hold placeholders naming the credential
Secret and key that the operator fills in the cluster.

With --upgrade-steps, the Jobs the operator runs when it upgrades a
deployment to this release are printed too (named <project>-upgrade-<step>).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := manifest.Load(file)
			if err != nil {
				return err
			}
			res, err := render.Render(d, render.Options{UpgradeSteps: upgradeSteps})
			if err != nil {
				return err
			}
			if outDir == "" {
				out, err := render.Stream(res.Objects)
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(out)
				return err
			}
			return writeObjects(outDir, res)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the OpenStackDeployment manifest")
	cmd.Flags().StringVarP(&outDir, "output-dir", "o", "", "write one YAML file per object into this directory")
	cmd.Flags().BoolVar(&upgradeSteps, "upgrade-steps", false, "also print the Jobs of an upgrade to this release")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

// writeObjects writes <kind>-<name>.yaml files into dir.
func writeObjects(dir string, res *render.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	for _, o := range res.Objects {
		y, err := render.YAML(o)
		if err != nil {
			return err
		}
		kind := strings.ToLower(o.GetObjectKind().GroupVersionKind().Kind)
		path := filepath.Join(dir, kind+"-"+o.GetName()+".yaml")
		if err := os.WriteFile(path, y, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return nil
}
