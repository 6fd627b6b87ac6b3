package cli

import (
	"fmt"
	"os"
	"strings"
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
	cmd.AddCommand(newDBInitCommand(), newRabbitInitCommand(), newKeystoneRegisterCommand(), newRotateKeysCommand(), newTempestCommand())
	return cmd
}

func newDBInitCommand() *cobra.Command {
	j := jobs.DBInit{AdminUser: "root"}
	cmd := &cobra.Command{
		Use:   "db-init",
		Short: "Create a service's databases and user in MariaDB",
		Long: `Create a service's databases and its user, granted every privilege on
them (or only the --grant privileges), and set the user's password. Passwords come from the environment:
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
	f.StringArrayVar(&j.Grants, "grant", nil, `a global grant of the user, "<PRIVILEGES> ON <database>.*" (repeat for more)`)
	f.DurationVar(&j.Wait, "wait", 5*time.Minute, "how long to wait for MariaDB to answer")
	_ = cmd.MarkFlagRequired("host")
	_ = cmd.MarkFlagRequired("user")
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
	f.StringArrayVar(&j.ReadVHosts, "read-vhost", nil, "another vhost where the user may only consume from the --read-queues (repeat for more)")
	f.StringVar(&j.ReadQueues, "read-queues", "", "a regular expression of the queues the user may consume from in the --read-vhost vhosts")
	f.DurationVar(&j.Wait, "wait", 5*time.Minute, "how long to wait for each management API to answer")
	for _, name := range []string{"url", "user", "vhost"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func newKeystoneRegisterCommand() *cobra.Command {
	j := jobs.KeystoneRegister{AdminUser: "admin", AdminProject: "admin"}
	var domain string
	var endpoints []string
	cmd := &cobra.Command{
		Use:   "keystone-register",
		Short: "Register a service in Keystone: user, roles, domain, catalog",
		Long: `Create the service project, the service's user with the admin and
service roles there (or only the --service-user-role ones), the extra roles it needs, its own domain with that
domain's admin user, and one catalog service with an internal and a
public endpoint per API. Passwords come from the environment: OS_PASSWORD
(Keystone's admin), SERVICE_PASSWORD (the service user's) and
DOMAIN_PASSWORD (the domain admin's).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			j.AdminPassword, j.ServicePassword = os.Getenv("OS_PASSWORD"), os.Getenv("SERVICE_PASSWORD")
			if domain != "" {
				name, admin, ok := strings.Cut(domain, ":")
				if !ok {
					return fmt.Errorf("--domain %q: want name:admin-user", domain)
				}
				j.Domain = &jobs.KeystoneDomain{Name: name, AdminUser: admin, AdminPassword: os.Getenv("DOMAIN_PASSWORD")}
			}
			for _, spec := range endpoints {
				e, err := jobs.ParseKeystoneEndpoint(spec)
				if err != nil {
					return fmt.Errorf("--endpoint: %w", err)
				}
				j.Endpoints = append(j.Endpoints, e)
			}
			if err := j.Run(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registered %d API(s) in region %s\n", len(j.Endpoints), j.Region)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&j.AuthURL, "auth-url", "", "Keystone's v3 URL")
	f.StringVar(&j.Region, "region", "", "the region of the endpoints")
	f.StringVar(&j.AdminUser, "admin-user", j.AdminUser, "Keystone admin user, in the default domain")
	f.StringVar(&j.AdminProject, "admin-project", j.AdminProject, "the admin user's project")
	f.StringVar(&j.ServiceUser, "service-user", "", "the service's user, in the service project")
	f.StringSliceVar(&j.Roles, "role", nil, "an extra role that must exist (repeat for more)")
	f.StringSliceVar(&j.ServiceUserRoles, "service-user-role", nil, "the service user's only role in the service project, instead of admin and service (repeat for more)")
	f.StringVar(&domain, "domain", "", "the service's own domain and its admin user, as name:admin-user")
	f.StringArrayVar(&endpoints, "endpoint", nil, "an API, as type|name|internal-url|public-url (repeat for more)")
	f.DurationVar(&j.Wait, "wait", 5*time.Minute, "how long to wait for Keystone to answer")
	f.StringVar(&j.CAFile, "ca-file", "", "the CAs (PEM) Keystone's certificate must be signed by, instead of the system's")
	_ = cmd.MarkFlagRequired("auth-url")
	_ = cmd.MarkFlagRequired("region")
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
