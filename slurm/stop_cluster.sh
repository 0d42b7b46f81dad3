#!/usr/bin/env bash
# Stop the local test cluster started by slurm/start_cluster.sh.
#
#   slurm/stop_cluster.sh [STATE_DIR]
#
# STATE_DIR defaults to the state dir $SLURM_CONF points into (when it is one
# of ours: STATE_DIR/etc/slurm.conf), else to the last cluster started.
# Cancels remaining jobs, then stops the daemons in reverse start order by
# their pid files and waits for each to exit. Already stopped daemons (no pid
# file, stale pid, zombie) are fine. The state dir itself is kept.
set -euo pipefail

LAST_FILE=/tmp/cs-slurm.last
log() { echo "[slurm/stop] $*"; }

# ---- Which cluster ------------------------------------------------------------------
if [[ $# -ge 1 ]]; then
    STATE_DIR=$1
elif [[ -n ${SLURM_CONF:-} && -d $(dirname "$(dirname "$SLURM_CONF")")/pid ]]; then
    # Our layout: STATE_DIR/etc/slurm.conf next to STATE_DIR/pid.
    STATE_DIR=$(dirname "$(dirname "$SLURM_CONF")")
elif [[ -s $LAST_FILE ]]; then
    STATE_DIR=$(cat "$LAST_FILE")
else
    log "no STATE_DIR given and no cluster known; nothing to stop"
    exit 0
fi
if [[ ! -d $STATE_DIR/pid ]]; then
    log "$STATE_DIR has no pid dir; nothing to stop"
    exit 0
fi
STATE_DIR=$(cd "$STATE_DIR" && pwd -P)
PIDS=$STATE_DIR/pid
export SLURM_CONF=$STATE_DIR/etc/slurm.conf

# Pid from a pid file if that process is alive, is the expected program, and
# not a zombie (PID 1 here may not reap children, so a stopped daemon can
# linger as a zombie: that counts as stopped).
live_pid() {
    local pidfile=$1 name=$2 pid
    [[ -s $pidfile ]] || return 0
    pid=$(tr -dc '0-9' <"$pidfile")
    [[ -n $pid ]] || return 0
    alive "$pid" "$name" && echo "$pid"
    return 0
}
alive() {
    local pid=$1 name=$2 state
    [[ -r /proc/$pid/stat ]] || return 1
    state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [[ -n $state && $state != Z ]] || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]]
}

# stop_daemon NAME TIMEOUT: SIGTERM, wait up to TIMEOUT seconds, then SIGKILL.
stop_daemon() {
    local name=$1 timeout=$2 pidfile=$PIDS/$1.pid pid deadline
    pid=$(live_pid "$pidfile" "$name")
    if [[ -z $pid ]]; then
        log "$name not running"
        rm -f "$pidfile"
        return 0
    fi
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + timeout))
    while alive "$pid" "$name"; do
        if ((SECONDS >= deadline)); then
            log "$name did not exit within ${timeout}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.2
    done
    rm -f "$pidfile"
}

# ---- Cancel jobs still in the queue ----------------------------------------------------
# Otherwise their slurmstepd and job processes outlive slurmd.
if [[ -n $(live_pid "$PIDS/slurmctld.pid" slurmctld) ]] && command -v squeue >/dev/null; then
    mapfile -t jobs < <(squeue -h -o %A 2>/dev/null || true)
    if ((${#jobs[@]} > 0)); then
        log "cancelling jobs: ${jobs[*]}"
        scancel "${jobs[@]}" 2>/dev/null || true
        # KillWait is 5 s: give jobs a little more than that to go away.
        deadline=$((SECONDS + 20))
        while [[ -n $(squeue -h -o %A 2>/dev/null || true) ]] && ((SECONDS < deadline)); do
            sleep 0.5
        done
    fi
fi

# ---- Daemons, reverse start order ---------------------------------------------------------
stop_daemon slurmd 15
stop_daemon slurmctld 15
stop_daemon slurmdbd 15
stop_daemon mariadbd 30
stop_daemon munged 10

# Job step daemons of this cluster that are still around (a job that ignored
# every signal): they carry our SLURM_CONF in their environment.
for environ in /proc/[0-9]*/environ; do
    pid=${environ#/proc/}
    pid=${pid%/environ}
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == slurmstepd ]] || continue
    if tr '\0' '\n' <"$environ" 2>/dev/null | grep -qx "SLURM_CONF=$SLURM_CONF"; then
        log "killing leftover slurmstepd $pid"
        kill -KILL "$pid" 2>/dev/null || true
    fi
done

log "stopped cluster in $STATE_DIR"
