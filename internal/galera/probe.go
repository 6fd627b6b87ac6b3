package galera

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/go-sql-driver/mysql"
)

// SQL reaches the local mariadbd.
type SQL struct {
	// Address is host:port of its MySQL port.
	Address string
	// User and Password log in; Password is never logged.
	User, Password string
}

// open connects with short timeouts, for probes.
func (s SQL) open() (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = s.User, s.Password, "tcp", s.Address
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = 3*time.Second, 5*time.Second, 5*time.Second
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("configuring the connection to %s: %w", s.Address, err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	return db, nil
}

// Exec runs statements in order on the member, stopping at the first
// that fails.
func (s SQL) Exec(ctx context.Context, statements ...string) error {
	db, err := s.open()
	if err != nil {
		return err
	}
	defer db.Close()
	for _, q := range statements {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("running a statement at %s: %w", s.Address, err)
		}
	}
	return nil
}

// WsrepStatus is what a member says of itself.
type WsrepStatus struct {
	// State is wsrep_local_state_comment: Synced, Donor/Desynced, Joining...
	State string
	// Ready is wsrep_ready = ON, ClusterStatus wsrep_cluster_status
	// (Primary or not), ClusterSize wsrep_cluster_size.
	Ready         bool
	ClusterStatus string
	ClusterSize   int
	// ClusterUUID is wsrep_cluster_state_uuid.
	ClusterUUID string
	// ReadOnly is @@read_only; RejectQueries @@wsrep_reject_queries.
	ReadOnly      bool
	RejectQueries string
}

// Status asks the member for its Galera status.
func (s SQL) Status(ctx context.Context) (WsrepStatus, error) {
	db, err := s.open()
	if err != nil {
		return WsrepStatus{}, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SHOW GLOBAL STATUS WHERE Variable_name IN "+
		"('wsrep_local_state_comment','wsrep_ready','wsrep_cluster_status','wsrep_cluster_size','wsrep_cluster_state_uuid')")
	if err != nil {
		return WsrepStatus{}, fmt.Errorf("querying wsrep status at %s: %w", s.Address, err)
	}
	defer rows.Close()
	var st WsrepStatus
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return WsrepStatus{}, fmt.Errorf("reading wsrep status: %w", err)
		}
		st.set(name, value)
	}
	if err := rows.Err(); err != nil {
		return WsrepStatus{}, fmt.Errorf("reading wsrep status: %w", err)
	}
	err = db.QueryRowContext(ctx, "SELECT @@global.read_only, @@global.wsrep_reject_queries").Scan(&st.ReadOnly, &st.RejectQueries)
	if err != nil {
		return WsrepStatus{}, fmt.Errorf("querying read_only and wsrep_reject_queries: %w", err)
	}
	return st, nil
}

// set stores one status variable.
func (st *WsrepStatus) set(name, value string) {
	switch name {
	case "wsrep_local_state_comment":
		st.State = value
	case "wsrep_ready":
		st.Ready = value == "ON"
	case "wsrep_cluster_status":
		st.ClusterStatus = value
	case "wsrep_cluster_size":
		_, _ = fmt.Sscan(value, &st.ClusterSize)
	case "wsrep_cluster_state_uuid":
		st.ClusterUUID = value
	}
}

// Serving tells whether the member takes reads and writes: Synced, ready,
// in the primary component, writable. A donor or a joiner is not.
func (st WsrepStatus) Serving() error {
	switch {
	case st.State != "Synced":
		return fmt.Errorf("wsrep_local_state_comment is %q, not Synced", st.State)
	case !st.Ready:
		return errors.New("wsrep_ready is OFF")
	case st.ClusterStatus != "Primary":
		return fmt.Errorf("wsrep_cluster_status is %q, not Primary", st.ClusterStatus)
	case st.ReadOnly:
		return errors.New("read_only is ON")
	case st.RejectQueries != "NONE":
		return fmt.Errorf("wsrep_reject_queries is %s", st.RejectQueries)
	}
	return nil
}

// Ready is the readiness probe: nil when the member serves.
func Ready(ctx context.Context, s SQL) error {
	st, err := s.Status(ctx)
	if err != nil {
		return err
	}
	if err := st.Serving(); err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	return nil
}

// StatusFile is what `osk galera start` tells the liveness probe, in a
// file it rewrites every heartbeatInterval.
type StatusFile struct {
	// Phase is waiting (deciding, mariadbd not started), starting
	// (mariadbd started, its MySQL port never answered: state transfer
	// and crash recovery happen here) or running (it answered once).
	Phase string `json:"phase"`
	// Heartbeat is when the file was last written.
	Heartbeat time.Time `json:"heartbeat"`
	// PID is mariadbd's, once started.
	PID int `json:"pid,omitempty"`
}

// Phases of the status file.
const (
	StatusWaiting  = "waiting"
	StatusStarting = "starting"
	StatusRunning  = "running"
)

// heartbeatInterval is how often the status file is rewritten; a file
// older than staleHeartbeat means the supervisor hangs.
const (
	heartbeatInterval = 5 * time.Second
	staleHeartbeat    = 60 * time.Second
)

// writeStatus rewrites the status file atomically.
func writeStatus(path string, st StatusFile) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encoding the status file: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("writing the status file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing the status file: %w", err)
	}
	return nil
}

// Live is the liveness probe. A member is live while its supervisor's
// heartbeat is fresh and, once mariadbd's MySQL port answered, while it
// still answers with a handshake. Waiting for peers, a long state
// transfer and crash recovery are live: mariadbd's port is not asked then.
func Live(ctx context.Context, statusFile, mysqlAddress string, now time.Time) error {
	b, err := os.ReadFile(statusFile)
	if err != nil {
		return fmt.Errorf("reading the status file: %w", err)
	}
	var st StatusFile
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("decoding the status file: %w", err)
	}
	if age := now.Sub(st.Heartbeat); age > staleHeartbeat {
		return fmt.Errorf("the supervisor's heartbeat is %s old", age.Round(time.Second))
	}
	if st.Phase != StatusRunning {
		return nil
	}
	return handshake(ctx, mysqlAddress)
}

// handshake reads the server's greeting packet on its MySQL port.
func handshake(ctx context.Context, address string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", address)
	if err != nil {
		return fmt.Errorf("connecting to mariadbd at %s: %w", address, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetReadDeadline(deadline)
	if _, err := conn.Read(make([]byte, 4)); err != nil {
		return fmt.Errorf("reading mariadbd's greeting at %s: %w", address, err)
	}
	return nil
}

// reachable tells whether something accepts TCP connections at address.
func reachable(ctx context.Context, address string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", address)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
