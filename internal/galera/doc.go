// Package galera starts and probes the members of osk's MariaDB Galera
// cluster so that bootstrap, join and recovery from a full outage need no
// person.
//
// A member decides how to start from what it observes ([Observation]): its
// own data directory (grastate.dat, and the position mariadbd
// --wsrep-recover finds when grastate.dat has none), whether the other
// members run (their entry in the coordination record and a TCP connect to
// their Galera port), and the coordination record itself. [Decide] turns an
// observation into one [Action]; [Starter] re-observes after every action
// until the action is to start mariadbd, then stays mariadbd's parent.
//
// # The coordination record
//
// A ConfigMap the members share, updated only with optimistic concurrency
// (every write carries the resourceVersion it was decided on, so two
// members can never both act on the same view). Its keys:
//
//   - "cluster": JSON [Cluster]: the cluster's UUID once a member synced,
//     the number of bootstraps so far (Round) and the last bootstraps with
//     who, why and from which position.
//   - "member.<name>": JSON [Entry], one per member: its phase (recovered:
//     it published its position and waits; started: mariadbd runs,
//     bootstrapping or joining; synced: it was seen Synced; stopped), its
//     position (UUID, seqno, safe_to_bootstrap, whether it has data) and
//     when it last wrote the entry (Seen).
//
// A waiting member re-publishes its entry every Freshness/2; an entry
// older than Freshness counts as absent, so a member that died while
// waiting is not waited for.
//
// # Who bootstraps
//
// A member joins as soon as another member is up (started or synced in the
// record, and its Galera port accepts connections). When none is, every
// member waits until all have published a fresh position; then the member
// with the highest committed seqno of the cluster's UUID bootstraps (ties:
// safe_to_bootstrap: 1 first, then the order of the member list, i.e. the
// lowest ordinal), the others wait for it and join. A member without data
// never bootstraps while another member has data; when every member is
// empty, the first of the list bootstraps a new cluster, unless the record
// says a cluster existed, which is an error (restore from a backup).
// When a member never reports, the others bootstrap after QuorumTimeout
// if a majority reported: the most advanced of those bootstraps, and
// transactions only the missing member had are lost (it rejoins by state
// transfer). A zero QuorumTimeout waits forever for every member.
//
// # State transfers
//
// Joiners get their state by mariabackup as SSTUser, which a new cluster
// creates in its bootstrap and every member re-creates (with the current
// password) once synced.
//
// # Backups and restore
//
// mariabackup --backup copies a member's data directory, which only the
// member's pod mounts, so an [Agent] beside each member streams the
// backup (xbstream) over HTTP; a [BackupJob] stores it with its
// description ([Backup]) on a volume of its own: full, or incremental
// from the last backup's LSN and member (InnoDB's LSNs are a member's
// own), keeping the last ones and the backups they build on ([Prunable]).
// [Restore] prepares a backup chain and copies it into one member's empty
// data directory with grastate.dat at the backup's Galera position: with
// every other member emptied, that member bootstraps and the others join
// it.
package galera
