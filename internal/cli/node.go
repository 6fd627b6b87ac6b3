package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/oskproject/osk/internal/nodeconfig"
)

func newNodeConfigCommand() *cobra.Command {
	var dir, certDir, certAddress, clientName string
	var specs []string
	cmd := &cobra.Command{
		Use:   "node-config --dir DIR --address NAME=IFACE[:section.key...]...",
		Short: "Write the addresses of this node's interfaces for an agent (init container)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var addrs []nodeconfig.Address
			for _, s := range specs {
				a, err := nodeconfig.ParseAddress(s)
				if err != nil {
					return err
				}
				addrs = append(addrs, a)
			}
			if err := nodeconfig.Write(dir, addrs, nodeconfig.InterfaceAddress); err != nil {
				return err
			}
			if certDir == "" {
				return nil
			}
			return writeNodeCertificates(certDir, certAddress, clientName, addrs)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "/run/osk", "where node.conf and node.env are written")
	cmd.Flags().StringArrayVar(&specs, "address", nil, "NAME=INTERFACE[:section.key...]")
	cmd.Flags().StringVar(&certDir, "certificates", "", "where to write the node's TLS certificates "+
		"(libvirt's layout), signed by the CA in $"+nodeconfig.CAEnv)
	cmd.Flags().StringVar(&certAddress, "certificate-address", "", "the --address NAME the server certificate is for")
	cmd.Flags().StringVar(&clientName, "client-name", "", "the client certificate's common name")
	return cmd
}

// writeNodeCertificates makes the node's certificates with the CA of
// $OSK_NODE_CA.
func writeNodeCertificates(dir, address, clientName string, addrs []nodeconfig.Address) error {
	bundle := os.Getenv(nodeconfig.CAEnv)
	if bundle == "" {
		return fmt.Errorf("--certificates: $%s is empty", nodeconfig.CAEnv)
	}
	c, err := nodeconfig.CertificatesFor(dir, address, clientName, addrs, nodeconfig.InterfaceAddress)
	if err != nil {
		return err
	}
	return c.Write([]byte(bundle), time.Now())
}

func newInstallCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "install DEST",
		Short: "Copy the osk binary to DEST, so containers of other images can run it",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("finding osk's binary: %w", err)
			}
			return copyFile(self, args[0])
		},
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copying to %s: %w", dst, err)
	}
	return out.Close()
}
