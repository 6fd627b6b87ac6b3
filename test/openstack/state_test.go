package openstack_test

import (
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// stateQueries read what osk's Jobs and the services' own Jobs create:
// databases and their tables, users and grants, Keystone's projects,
// users, role assignments, services and endpoints, and Nova's cells.
// Rows that every run rewrites by design (password history) are left
// out.
var stateQueries = []string{
	`SELECT table_schema, COUNT(*) FROM information_schema.tables
	 WHERE table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') GROUP BY table_schema`,
	`SELECT user, host FROM mysql.user`,
	`SELECT grantee, table_schema, privilege_type FROM information_schema.schema_privileges`,
	`SELECT name, domain_id FROM keystone.project`,
	`SELECT name, domain_id, user_id FROM keystone.local_user`,
	`SELECT type, actor_id, target_id, role_id FROM keystone.assignment`,
	`SELECT id, type, extra FROM keystone.service`,
	`SELECT service_id, interface, region_id, url FROM keystone.endpoint`,
	`SELECT name, transport_url, database_connection FROM nova_api.cell_mappings`,
}

// snapshot returns the state the Jobs are responsible for, as text: the
// rows of stateQueries (tables that do not exist yet are skipped), every
// database's schema version and RabbitMQ's vhosts, users and permissions.
func (c *cloud) snapshot() string {
	c.T.Helper()
	db := c.DB.Open(c.T, c.DB.AdminUser, c.DB.AdminPassword, "")
	var out []string
	for _, q := range stateQueries {
		out = append(out, c.rows(db, strings.Fields(q)[1], q)...)
	}
	for _, t := range c.versionTables(db) {
		out = append(out, c.rows(db, "version "+t, "SELECT * FROM "+t)...)
	}
	out = append(out, c.rabbitState()...)
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// versionTables returns the tables that record each database's schema
// version (Alembic's, sqlalchemy-migrate's), as schema.table.
func (c *cloud) versionTables(db *sql.DB) []string {
	c.T.Helper()
	rows, err := db.QueryContext(c.T.Context(), `SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_name LIKE 'alembic_version%' OR table_name = 'migrate_version'`)
	if err != nil {
		c.T.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var schema, table string
		if err := rows.Scan(&schema, &table); err != nil {
			c.T.Fatal(err)
		}
		out = append(out, "`"+schema+"`.`"+table+"`")
	}
	if err := rows.Err(); err != nil {
		c.T.Fatal(err)
	}
	return out
}

// rows returns the rows of a query, each as prefix and its values; none
// when a table does not exist.
func (c *cloud) rows(db *sql.DB, prefix, q string) []string {
	c.T.Helper()
	rows, err := db.QueryContext(c.T.Context(), q)
	if err != nil {
		if strings.Contains(err.Error(), "doesn't exist") {
			return nil
		}
		c.T.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			c.T.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s", prefix, fmt.Sprint(textOf(vals)...)))
	}
	if err := rows.Err(); err != nil {
		c.T.Fatalf("%s: %v", q, err)
	}
	return out
}

func textOf(vals []any) []any {
	for i, v := range vals {
		if b, ok := v.([]byte); ok {
			vals[i] = string(b) + " "
		}
	}
	return vals
}

// rabbitState lists the broker's vhosts, users and permissions.
func (c *cloud) rabbitState() []string {
	mq, err := c.MQ.Client(c.MQ.AdminUser, c.MQ.AdminPassword)
	if err != nil {
		c.T.Fatal(err)
	}
	var out []string
	vhosts, err := mq.ListVhosts()
	if err != nil {
		c.T.Fatal(err)
	}
	for _, v := range vhosts {
		out = append(out, "vhost "+v.Name)
	}
	users, err := mq.ListUsers()
	if err != nil {
		c.T.Fatal(err)
	}
	for _, u := range users {
		out = append(out, fmt.Sprintf("user %s %v", u.Name, u.Tags))
	}
	perms, err := mq.ListPermissions()
	if err != nil {
		c.T.Fatal(err)
	}
	for _, p := range perms {
		out = append(out, fmt.Sprintf("permission %s %s %s %s %s", p.Vhost, p.User, p.Configure, p.Write, p.Read))
	}
	return out
}
