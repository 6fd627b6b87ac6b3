package jobs_test

import (
	"testing"
	"time"

	"github.com/oskproject/osk/internal/jobs"
	"github.com/oskproject/osk/internal/testing/mariadbtest"
)

// TestDBInitOnMariaDB runs db-init against a real MariaDB, twice, and
// checks that the service user reaches its databases and nothing else.
func TestDBInitOnMariaDB(t *testing.T) {
	t.Parallel()
	db := mariadbtest.Start(t)
	job := jobs.DBInit{Host: db.Host, Port: db.Port, AdminUser: db.AdminUser, AdminPassword: db.AdminPassword,
		User: "nova", Password: "first-password", Databases: []string{"nova", "nova_api"}, Wait: 30 * time.Second}
	for run := 1; run <= 2; run++ {
		if err := job.Run(t.Context()); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
	for _, name := range job.Databases {
		conn := db.Open(t, "nova", "first-password", name)
		if _, err := conn.ExecContext(t.Context(), "CREATE TABLE t (id INT PRIMARY KEY)"); err != nil {
			t.Errorf("nova cannot create a table in %s: %v", name, err)
		}
	}
	if _, err := db.Open(t, "nova", "first-password", "mysql").ExecContext(t.Context(), "SELECT 1 FROM user"); err == nil {
		t.Error("nova can read the mysql database")
	}

	// A new password in the Secret becomes the user's password.
	job.Password = "second-password"
	if err := job.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := db.Open(t, "nova", "second-password", "nova").PingContext(t.Context()); err != nil {
		t.Errorf("the new password does not work: %v", err)
	}
	if err := db.Open(t, "nova", "first-password", "nova").PingContext(t.Context()); err == nil {
		t.Error("the old password still works")
	}
}

// TestDBInitRefusesBadNames checks that names that are not plain
// identifiers never reach SQL.
func TestDBInitRefusesBadNames(t *testing.T) {
	for _, j := range []jobs.DBInit{
		{User: "nova`; DROP DATABASE x; --", Password: "p", Databases: []string{"nova"}},
		{User: "nova", Password: "p", Databases: []string{"nova`"}},
		{User: "nova", Databases: []string{"nova"}},
		{User: "monitoring", Password: "p", Grants: []string{"PROCESS ON *.* TO x; DROP DATABASE y; --"}},
		{User: "monitoring", Password: "p", Grants: []string{"process on *.*"}},
		{User: "monitoring", Password: "p"},
	} {
		if err := j.Run(t.Context()); err == nil {
			t.Errorf("%+v: no error", j)
		}
	}
}
