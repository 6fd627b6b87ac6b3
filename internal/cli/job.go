package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/jobs"
)

func newJobCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "job",
		Short: "One-off tasks the operator runs in osk's image (idempotent)",
	}
	cmd.AddCommand(newDBInitCommand(), newRabbitInitCommand(), newRotateKeysCommand())
	return cmd
}

func newDBInitCommand() *cobra.Command {
	j := jobs.DBInit{AdminUser: "root"}
	cmd := &cobra.Command{
		Use:   "db-init",
		Short: "Create a service's databases and user in MariaDB",
		Long: `Create a service's databases and its user, granted every privilege on
them, and set the user's password. Passwords come from the environment:
DB_ROOT_PASSWORD (the admin's) and DB_PASSWORD (the service user's).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			j.AdminPassword, j.Password = os.Getenv("DB_ROOT_PASSWORD"), os.Getenv("DB_PASSWORD")
			if err := j.Run(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "databases %v ready for user %s\n", j.Databases, j.User)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&j.Host, "host", "", "MariaDB host")
	f.IntVar(&j.Port, "port", 3306, "MariaDB port")
	f.StringVar(&j.AdminUser, "admin-user", j.AdminUser, "MariaDB user that creates databases and users")
	f.StringVar(&j.User, "user", "", "the service's database user")
	f.StringSliceVar(&j.Databases, "database", nil, "a database of the service (repeat for more)")
	f.DurationVar(&j.Wait, "wait", 5*time.Minute, "how long to wait for MariaDB to answer")
	_ = cmd.MarkFlagRequired("host")
	_ = cmd.MarkFlagRequired("user")
	_ = cmd.MarkFlagRequired("database")
	return cmd
}

func newRabbitInitCommand() *cobra.Command {
	j := jobs.RabbitInit{}
	var url, notificationsURL, admin string
	cmd := &cobra.Command{
		Use:   "rabbit-init",
		Short: "Create a service's vhost and user in RabbitMQ",
		Long: `Create a service's vhost and user through the RabbitMQ management API,
give the user every permission in the vhost, and set its password; with
--notifications-url, the same on the notifications bus. Passwords come
from the environment: RABBITMQ_PASSWORD (the service user's),
RABBITMQ_ADMIN_PASSWORD and RABBITMQ_NOTIFICATIONS_ADMIN_PASSWORD (the
admins').`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			j.Password = os.Getenv("RABBITMQ_PASSWORD")
			j.Buses = []jobs.RabbitBus{{URL: url, AdminUser: admin, AdminPassword: os.Getenv("RABBITMQ_ADMIN_PASSWORD")}}
			if notificationsURL != "" {
				j.Buses = append(j.Buses, jobs.RabbitBus{URL: notificationsURL, AdminUser: admin,
					AdminPassword: os.Getenv("RABBITMQ_NOTIFICATIONS_ADMIN_PASSWORD")})
			}
			if err := j.Run(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "vhost %s ready for user %s on %d bus(es)\n", j.VHost, j.User, len(j.Buses))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&url, "url", "", "the service bus's management API, as http://host:15672")
	f.StringVar(&notificationsURL, "notifications-url", "", "the notifications bus's management API, when notifications are on")
	f.StringVar(&admin, "admin-user", "admin", "RabbitMQ user that creates vhosts and users")
	f.StringVar(&j.User, "user", "", "the service's RabbitMQ user")
	f.StringVar(&j.VHost, "vhost", "", "the service's vhost")
	f.DurationVar(&j.Wait, "wait", 5*time.Minute, "how long to wait for each management API to answer")
	for _, name := range []string{"url", "user", "vhost"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func newRotateKeysCommand() *cobra.Command {
	var secret string
	var maxKeys int
	cmd := &cobra.Command{
		Use:   "keystone-rotate-keys",
		Short: "Rotate a Keystone Fernet key repository kept in a Secret",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ns, err := jobs.PodNamespace()
			if err != nil {
				return err
			}
			config, err := ctrl.GetConfig()
			if err != nil {
				return err
			}
			c, err := client.New(config, client.Options{})
			if err != nil {
				return err
			}
			if err := jobs.RotateSecret(cmd.Context(), c, ns, secret, maxKeys); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "rotated %s/%s\n", ns, secret)
			return nil
		},
	}
	cmd.Flags().StringVar(&secret, "secret", "", "the Secret holding the keys")
	cmd.Flags().IntVar(&maxKeys, "max-active-keys", 7, "keys kept, the staged one included")
	_ = cmd.MarkFlagRequired("secret")
	return cmd
}
