// Command osk runs the OpenStack control plane on Kubernetes. One binary
// serves every role: the operator, its jobs, its agents and the offline tools.
package main

import (
	"os"

	"github.com/oskproject/osk/internal/cli"
)

func main() {
	os.Exit(cli.Execute())
}
