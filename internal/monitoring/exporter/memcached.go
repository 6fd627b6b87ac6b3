package exporter

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Memcached is a prometheus.Collector of one memcached server's "stats",
// read over its text protocol on every scrape (osk exporter memcached,
// the sidecar of each member: no memcached exporter is packaged where
// osk is built). Series are named as the community exporter names them.
type Memcached struct {
	// Address is the server's host:port.
	Address string
	// Timeout bounds one scrape.
	Timeout time.Duration
	// Log receives what failed.
	Log *slog.Logger
}

// memcachedGauges map a "stats" field to a gauge.
var memcachedGauges = map[string]string{
	"uptime":           "memcached_uptime_seconds",
	"curr_connections": "memcached_current_connections",
	"bytes":            "memcached_current_bytes",
	"limit_maxbytes":   "memcached_limit_bytes",
	"curr_items":       "memcached_current_items",
}

// memcachedCounters map a "stats" field to a counter, with labels.
var memcachedCounters = map[string]struct {
	name   string
	labels []string
}{
	"get_hits":          {"memcached_commands_total", []string{"command", "get", "status", "hit"}},
	"get_misses":        {"memcached_commands_total", []string{"command", "get", "status", "miss"}},
	"cmd_set":           {"memcached_commands_total", []string{"command", "set", "status", "hit"}},
	"evictions":         {"memcached_items_evicted_total", nil},
	"total_connections": {"memcached_connections_total", nil},
}

// Describe implements prometheus.Collector (unchecked).
func (m *Memcached) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector: memcached_up, and the stats
// when the server answered.
func (m *Memcached) Collect(ch chan<- prometheus.Metric) {
	stats, err := m.stats()
	if err != nil {
		m.Log.Error("Reading memcached's stats", "address", m.Address, "error", err)
	}
	m.send(ch, "memcached_up", "1 when memcached answered stats", prometheus.GaugeValue, bool01(err == nil), nil)
	for field, name := range memcachedGauges {
		if v, ok := stats[field]; ok {
			m.send(ch, name, "memcached's "+field, prometheus.GaugeValue, v, nil)
		}
	}
	for field, c := range memcachedCounters {
		v, ok := stats[field]
		if !ok {
			continue
		}
		m.send(ch, c.name, "memcached's counters", prometheus.CounterValue, v, c.labels)
	}
}

// send sends one sample with label pairs (name, value, ...).
func (m *Memcached) send(ch chan<- prometheus.Metric, name, help string, t prometheus.ValueType, v float64, pairs []string) {
	var names, values []string
	for i := 0; i+1 < len(pairs); i += 2 {
		names, values = append(names, pairs[i]), append(values, pairs[i+1])
	}
	metric, err := prometheus.NewConstMetric(prometheus.NewDesc(name, help, names, nil), t, v, values...)
	if err != nil {
		m.Log.Error("Building a metric", "metric", name, "error", err)
		return
	}
	ch <- metric
}

// stats asks the server for its numeric "stats".
func (m *Memcached) stats() (map[string]float64, error) {
	conn, err := net.DialTimeout("tcp", m.Address, m.Timeout)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(m.Timeout)); err != nil {
		return nil, err
	}
	if _, err := fmt.Fprint(conn, "stats\r\n"); err != nil {
		return nil, err
	}
	return ParseMemcachedStats(bufio.NewScanner(conn))
}

// ParseMemcachedStats reads "STAT name value" lines up to "END"; fields
// that are not numbers are left out.
func ParseMemcachedStats(sc *bufio.Scanner) (map[string]float64, error) {
	out := map[string]float64{}
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "END" {
			return out, nil
		}
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "STAT" {
			return nil, fmt.Errorf("unexpected answer %q", line)
		}
		if v, err := strconv.ParseFloat(f[2], 64); err == nil {
			out[f[1]] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("the answer ended before END")
}
