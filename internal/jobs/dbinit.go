// Package jobs holds the one-off tasks osk runs in its own image, as
// "osk job ...": creating databases and users, RabbitMQ users, Keystone
// registrations, and rotating Keystone's keys. Each is idempotent: run
// twice, it leaves things as one run does.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"
)

// DBInit creates a service's databases and its user, with every privilege
// on them and none elsewhere. The user's password is set to Password each
// run: the credential Secret is the truth.
type DBInit struct {
	// Host and Port reach MariaDB.
	Host string
	Port int
	// AdminUser and AdminPassword may create databases and users.
	AdminUser, AdminPassword string
	// User and Password are the service's.
	User, Password string
	// Databases are the service's databases.
	Databases []string
	// Grants are global privileges of the user, each "<privileges> ON
	// <database>.*" (a monitoring user has these and no database).
	Grants []string
	// Wait is how long to wait for MariaDB to accept connections.
	Wait time.Duration
}

// identifier is what osk accepts as a database or user name: identifiers
// cannot be query parameters, so they are checked instead.
var identifier = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// grant is what osk accepts as a global grant: privilege names, then ON
// and a database's tables or every table.
var grant = regexp.MustCompile(`^[A-Z][A-Z ,]* ON (\*|[a-z_]{1,64})\.\*$`)

// Run creates what is missing and fixes what differs.
func (j DBInit) Run(ctx context.Context) error {
	if !identifier.MatchString(j.User) {
		return fmt.Errorf("db-init: user %q: must be 1 to 64 letters, digits or underscores", j.User)
	}
	for _, name := range j.Databases {
		if !identifier.MatchString(name) {
			return fmt.Errorf("db-init: database %q: must be 1 to 64 letters, digits or underscores", name)
		}
	}
	for _, g := range j.Grants {
		if !grant.MatchString(g) {
			return fmt.Errorf("db-init: grant %q: must be \"<PRIVILEGES> ON <database>.*\" or \"... ON *.*\"", g)
		}
	}
	if len(j.Databases) == 0 && len(j.Grants) == 0 {
		return fmt.Errorf("db-init: user %s: no database and no grant", j.User)
	}
	if j.Password == "" {
		return fmt.Errorf("db-init: the password of user %s is empty", j.User)
	}
	db, err := j.connect(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	type stmt struct {
		query string
		args  []any
	}
	// Passwords travel as arguments, so the statements can be logged.
	stmts := []stmt{
		{"CREATE USER IF NOT EXISTS ?@'%' IDENTIFIED BY ?", []any{j.User, j.Password}},
		{"ALTER USER ?@'%' IDENTIFIED BY ?", []any{j.User, j.Password}},
	}
	for _, name := range j.Databases {
		stmts = append(stmts,
			stmt{"CREATE DATABASE IF NOT EXISTS `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci", nil},
			stmt{"GRANT ALL PRIVILEGES ON `" + name + "`.* TO ?@'%'", []any{j.User}})
	}
	for _, g := range j.Grants {
		stmts = append(stmts, stmt{"GRANT " + g + " TO ?@'%'", []any{j.User}})
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s.query, s.args...); err != nil {
			return fmt.Errorf("db-init: %s: %w", s.query, err)
		}
	}
	return nil
}

// connect opens a connection as the admin, waiting for MariaDB to answer.
func (j DBInit) connect(ctx context.Context) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = j.AdminUser, j.AdminPassword
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(j.Host, strconv.Itoa(j.Port))
	cfg.InterpolateParams = true // CREATE USER cannot be prepared
	cfg.Timeout = 5 * time.Second
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("db-init: %w", err)
	}
	db := sql.OpenDB(connector)
	if err := waitFor(ctx, j.Wait, fmt.Sprintf("MariaDB, connecting to %s as %s", cfg.Addr, j.AdminUser), db.PingContext); err != nil {
		db.Close()
		return nil, fmt.Errorf("db-init: %w", err)
	}
	return db, nil
}
