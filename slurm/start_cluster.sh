#!/usr/bin/env bash
# Start a single-node Slurm cluster on localhost, for tests only.
#
#   slurm/start_cluster.sh [STATE_DIR]
#
# Runs as root without systemd. Everything (configs, logs, pid files, the
# MariaDB data dir, Slurm state, the munge socket) lives under STATE_DIR
# (default: a fresh /tmp/cs-slurm.XXXXXX). Daemons, in start order:
#   munged -> mariadbd -> slurmdbd -> slurmctld -> slurmd
# Accounting (slurmdbd + MariaDB) is required: submitit reads job states
# with sacct, and without it waiting on a cancelled job never returns.
#
# Clients then need:  export SLURM_CONF=STATE_DIR/etc/slurm.conf
# Stop with:          slurm/stop_cluster.sh STATE_DIR
#
# Optional environment:
#   CS_SLURM_NODE_CPUS   CPUs the node advertises (default 8, oversubscribing
#                        the real cores so several 1-CPU jobs run at once)
#   CS_SLURM_PORT_BASE   first of 4 TCP ports on 127.0.0.1 (default 6817):
#                        slurmctld, slurmd, slurmdbd, mariadbd
#   CS_SLURM_PARTITION   partition name (default "debug")
#   CS_SLURM_TIMEOUT     seconds to wait for each daemon (default 60)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLUSTER_NAME=cslocal
PARTITION=${CS_SLURM_PARTITION:-debug}
NODE_CPUS=${CS_SLURM_NODE_CPUS:-8}
PORT_BASE=${CS_SLURM_PORT_BASE:-6817}
SLURMCTLD_PORT=$PORT_BASE
SLURMD_PORT=$((PORT_BASE + 1))
SLURMDBD_PORT=$((PORT_BASE + 2))
MYSQL_PORT=$((PORT_BASE + 3))
TIMEOUT=${CS_SLURM_TIMEOUT:-60}
# Where the last started state dir is remembered, for stop_cluster.sh without argument.
LAST_FILE=/tmp/cs-slurm.last

log() { echo "[slurm/start] $*"; }
die() { echo "[slurm/start] ERROR: $*" >&2; exit 1; }

# Print the end of a daemon's log to stderr (why it failed).
show_log() {
    local f=$1
    if [[ -s $f ]]; then
        echo "----- last 30 lines of $f -----" >&2
        tail -n 30 "$f" >&2
        echo "-----" >&2
    else
        echo "(log $f is empty or missing)" >&2
    fi
}

# Pid from a pid file if that process is alive, is the expected program, and
# not a zombie (PID 1 here may not reap children, so dead daemons can linger
# as zombies); prints nothing otherwise.
live_pid() {
    local pidfile=$1 name=$2 pid state
    [[ -s $pidfile ]] || return 0
    pid=$(tr -dc '0-9' <"$pidfile")
    [[ -n $pid && -r /proc/$pid/stat ]] || return 0
    state=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f1)
    [[ $state != Z ]] || return 0
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]] || return 0
    echo "$pid"
}

# Is something listening on 127.0.0.1:PORT?
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_until DESCRIPTION PIDFILE NAME LOGFILE CMD...: poll CMD until it
# succeeds; fail (with the log tail) on timeout or if the daemon died.
wait_until() {
    local what=$1 pidfile=$2 name=$3 logfile=$4
    shift 4
    local deadline=$((SECONDS + TIMEOUT)) grace=$((SECONDS + 5))
    until "$@" >/dev/null 2>&1; do
        # Daemons write their pid file shortly after forking: allow a short grace.
        if ((SECONDS > grace)) && [[ -z $(live_pid "$pidfile" "$name") ]]; then
            show_log "$logfile"
            die "$name died while waiting for: $what"
        fi
        if ((SECONDS > deadline)); then
            show_log "$logfile"
            die "timed out after ${TIMEOUT}s waiting for: $what"
        fi
        sleep 0.2
    done
}

[[ $(id -u) -eq 0 ]] || die "must run as root (slurmd and the daemons' state need it)"
for bin in munged mariadbd mariadb-install-db slurmdbd slurmctld slurmd sinfo sacctmgr; do
    command -v "$bin" >/dev/null || die "$bin not found; run $SCRIPT_DIR/install.sh first"
done

# ---- State directory ----------------------------------------------------------
DAEMONS=(munged mariadbd slurmdbd slurmctld slurmd)
STATE_DIR=${1:-}
if [[ -n $STATE_DIR && -d $STATE_DIR ]]; then
    STATE_DIR=$(cd "$STATE_DIR" && pwd -P)
    export SLURM_CONF=$STATE_DIR/etc/slurm.conf

    # Already running with this state dir? Then there is nothing to do.
    n_alive=0
    for d in "${DAEMONS[@]}"; do
        if [[ -n $(live_pid "$STATE_DIR/pid/$d.pid" "$d") ]]; then n_alive=$((n_alive + 1)); fi
    done
    if ((n_alive == ${#DAEMONS[@]})) && sinfo -h >/dev/null 2>&1; then
        log "cluster already running with this state dir"
        echo "$STATE_DIR" >"$LAST_FILE"
        log "state dir: $STATE_DIR"
        echo "export SLURM_CONF=$SLURM_CONF"
        exit 0
    elif ((n_alive > 0)); then
        # Half-started or half-stopped: clean up, then start everything afresh.
        log "cluster partly running ($n_alive of ${#DAEMONS[@]} daemons); stopping it first"
        "$SCRIPT_DIR/stop_cluster.sh" "$STATE_DIR"
    fi
fi

# Another cluster (or anything else) on our ports would make the daemons fail
# in confusing ways: refuse early.
for port in "$SLURMCTLD_PORT" "$SLURMD_PORT" "$SLURMDBD_PORT" "$MYSQL_PORT"; do
    if port_open "$port"; then
        hint=""
        if [[ -s $LAST_FILE ]]; then
            hint=" (last cluster started: $(cat "$LAST_FILE"); stop it with $SCRIPT_DIR/stop_cluster.sh)"
        fi
        die "port $port on 127.0.0.1 is already in use$hint; or set CS_SLURM_PORT_BASE"
    fi
done

if [[ -n $STATE_DIR ]]; then
    mkdir -p "$STATE_DIR"
else
    STATE_DIR=$(mktemp -d /tmp/cs-slurm.XXXXXX)
fi
STATE_DIR=$(cd "$STATE_DIR" && pwd -P)
# munged insists that every directory above its socket is world-executable.
chmod 755 "$STATE_DIR"
ETC=$STATE_DIR/etc
LOGS=$STATE_DIR/log
PIDS=$STATE_DIR/pid
MUNGE_DIR=$STATE_DIR/munge
DB_DIR=$STATE_DIR/mysql
mkdir -p "$ETC" "$LOGS" "$PIDS" "$MUNGE_DIR" "$DB_DIR" "$STATE_DIR/ctld" "$STATE_DIR/spool"
chmod 755 "$MUNGE_DIR"
export SLURM_CONF=$ETC/slurm.conf

# ---- Node facts ---------------------------------------------------------------
# Real memory from slurmd itself, so the node registers without complaints.
NODE=$(hostname -s)
REAL_MEM=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
REAL_CPUS=$(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p')
[[ -n $REAL_MEM && -n $REAL_CPUS ]] || die "could not read CPUs/RealMemory from 'slurmd -C'"
((NODE_CPUS >= REAL_CPUS)) || NODE_CPUS=$REAL_CPUS
# Each job gets its share of memory by default; without DefMemPerCPU a job
# would take the whole node's memory and jobs would run one at a time.
DEF_MEM_PER_CPU=$((REAL_MEM / NODE_CPUS))

# ---- Configuration files --------------------------------------------------------
# The DB password is made once per state dir and kept (restarts reuse the data dir).
DB_PASS_FILE=$ETC/dbpass
if [[ ! -s $DB_PASS_FILE ]]; then
    (umask 077 && od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$DB_PASS_FILE")
fi
DB_PASS=$(cat "$DB_PASS_FILE")

cat >"$ETC/slurm.conf" <<EOF
# Generated by slurm/start_cluster.sh: local single-node test cluster.
ClusterName=$CLUSTER_NAME
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$SLURMCTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_DIR/munge.socket
StateSaveLocation=$STATE_DIR/ctld
SlurmdSpoolDir=$STATE_DIR/spool
SlurmctldPidFile=$PIDS/slurmctld.pid
SlurmdPidFile=$PIDS/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups here (no systemd, container): plain process tracking.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
MailProg=/bin/true
# Accounting through slurmdbd, so sacct (used by submitit) knows job states.
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$SLURMDBD_PORT
# Munge socket for talking to slurmdbd (AuthInfo does not cover that).
AccountingStoragePass=$MUNGE_DIR/munge.socket
JobCompType=jobcomp/none
# Share the node between jobs by cores and memory.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$DEF_MEM_PER_CPU
# Start jobs at once instead of after the default scheduling delays.
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=100000
# submitit requeues preempted/timed-out jobs.
JobRequeue=1
# Quick SIGKILL after scancel (submitit jobs ignore SIGTERM).
KillWait=5
ReturnToService=2
InactiveLimit=0
# Use the CPU count from this file even if larger than the real one.
SlurmdParameters=config_overrides
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$NODE_CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$NODE_CPUS ThreadsPerCore=1 RealMemory=$REAL_MEM State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

cat >"$ETC/slurmdbd.conf" <<EOF
# Generated by slurm/start_cluster.sh: accounting for the local test cluster.
AuthType=auth/munge
AuthInfo=socket=$MUNGE_DIR/munge.socket
DbdHost=$NODE
DbdAddr=127.0.0.1
DbdPort=$SLURMDBD_PORT
SlurmUser=root
PidFile=$PIDS/slurmdbd.pid
LogFile=$LOGS/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$MYSQL_PORT
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF
# slurmdbd refuses a config readable by others (it holds the DB password).
chmod 600 "$ETC/slurmdbd.conf"
chmod 644 "$ETC/slurm.conf"

# If any step below fails, stop the daemons started so far (their logs stay in
# the state dir), so that no half-started cluster is left behind.
on_exit() {
    local rc=$?
    if ((rc != 0)); then
        echo "[slurm/start] start failed; stopping what was started (logs kept in $LOGS)" >&2
        "$SCRIPT_DIR/stop_cluster.sh" "$STATE_DIR" >&2 || true
    fi
}
trap on_exit EXIT

# ---- munged ---------------------------------------------------------------------
# Own socket and key copy under the state dir, so the system munge is untouched.
log "starting munged"
[[ -s /etc/munge/munge.key ]] || die "/etc/munge/munge.key missing (package munge not installed?)"
install -m 600 -o root -g root /etc/munge/munge.key "$MUNGE_DIR/munge.key"
munged --socket="$MUNGE_DIR/munge.socket" --key-file="$MUNGE_DIR/munge.key" \
    --log-file="$LOGS/munged.log" --pid-file="$PIDS/munged.pid" \
    --seed-file="$MUNGE_DIR/munged.seed" </dev/null >>"$LOGS/munged.log" 2>&1 ||
    { show_log "$LOGS/munged.log"; die "munged failed to start"; }
wait_until "munge socket" "$PIDS/munged.pid" munged "$LOGS/munged.log" \
    munge -S "$MUNGE_DIR/munge.socket" -n

# ---- MariaDB --------------------------------------------------------------------
# Own data dir (made once), reached by slurmdbd over TCP on 127.0.0.1.
if [[ ! -d $DB_DIR/data/mysql ]]; then
    log "initialising MariaDB data dir"
    mariadb-install-db --no-defaults --user=root --datadir="$DB_DIR/data" \
        --auth-root-authentication-method=socket --skip-test-db \
        >"$LOGS/mariadb-install.log" 2>&1 ||
        { show_log "$LOGS/mariadb-install.log"; die "mariadb-install-db failed"; }
fi
log "starting mariadbd"
# mariadbd does not daemonise itself: run it in the background in its own
# session (setsid, nohup) so it outlives this script; all of its output goes
# to the log, so it never holds the caller's stdout/stderr open.
(cd / && exec setsid nohup mariadbd --no-defaults --user=root --datadir="$DB_DIR/data" \
    --socket="$DB_DIR/mysqld.sock" --port="$MYSQL_PORT" --bind-address=127.0.0.1 \
    --pid-file="$PIDS/mariadbd.pid" --log-error="$LOGS/mariadbd.log" \
    --innodb-buffer-pool-size=128M --innodb-lock-wait-timeout=900) \
    </dev/null >>"$LOGS/mariadbd.log" 2>&1 &
sql() { mariadb --no-defaults -S "$DB_DIR/mysqld.sock" -uroot -e "$1"; }
wait_until "MariaDB accepting connections" "$PIDS/mariadbd.pid" mariadbd "$LOGS/mariadbd.log" \
    sql "SELECT 1"
# The slurm DB user (idempotent; the password is (re)set to ours).
for host in localhost 127.0.0.1; do
    sql "CREATE USER IF NOT EXISTS 'slurm'@'$host' IDENTIFIED BY '$DB_PASS';
         ALTER USER 'slurm'@'$host' IDENTIFIED BY '$DB_PASS';
         GRANT ALL ON slurm_acct_db.* TO 'slurm'@'$host';"
done

# ---- slurmdbd -------------------------------------------------------------------
# Reads slurmdbd.conf next to \$SLURM_CONF; daemonises itself. First start creates the tables.
log "starting slurmdbd"
(cd / && slurmdbd </dev/null >>"$LOGS/slurmdbd.log" 2>&1) ||
    { show_log "$LOGS/slurmdbd.log"; die "slurmdbd failed to start"; }
wait_until "slurmdbd on port $SLURMDBD_PORT" "$PIDS/slurmdbd.pid" slurmdbd "$LOGS/slurmdbd.log" \
    port_open "$SLURMDBD_PORT"
# Register the cluster in the accounting DB before slurmctld connects to it
# (idempotent: only if missing).
wait_until "sacctmgr talking to slurmdbd" "$PIDS/slurmdbd.pid" slurmdbd "$LOGS/slurmdbd.log" \
    sacctmgr -n list cluster
if ! sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER_NAME"; then
    sacctmgr -i add cluster "$CLUSTER_NAME" >/dev/null ||
        { show_log "$LOGS/slurmdbd.log"; die "sacctmgr add cluster $CLUSTER_NAME failed"; }
fi

# ---- slurmctld ------------------------------------------------------------------
log "starting slurmctld"
(cd / && slurmctld -f "$SLURM_CONF" </dev/null >>"$LOGS/slurmctld.log" 2>&1) ||
    { show_log "$LOGS/slurmctld.log"; die "slurmctld failed to start"; }
wait_until "slurmctld answering" "$PIDS/slurmctld.pid" slurmctld "$LOGS/slurmctld.log" \
    scontrol ping

# ---- slurmd ---------------------------------------------------------------------
log "starting slurmd"
(cd / && slurmd -f "$SLURM_CONF" </dev/null >>"$LOGS/slurmd.log" 2>&1) ||
    { show_log "$LOGS/slurmd.log"; die "slurmd failed to start"; }

# ---- Ready when the node is idle ---------------------------------------------------
node_idle() { [[ $(sinfo -h -n "$NODE" -o %t) == idle ]]; }
if ! (wait_until "node $NODE idle in sinfo" "$PIDS/slurmd.pid" slurmd "$LOGS/slurmd.log" node_idle); then
    echo "sinfo says: $(sinfo -h -N -o '%N %t %E' 2>&1)" >&2
    show_log "$LOGS/slurmctld.log"
    die "node $NODE did not become idle"
fi

log "cluster up: node $NODE ($NODE_CPUS CPUs advertised, $REAL_CPUS real), partition $PARTITION"
echo "$STATE_DIR" >"$LAST_FILE"
log "state dir: $STATE_DIR"
log "clients need:"
echo "export SLURM_CONF=$SLURM_CONF"
