#!/usr/bin/env bash
# Stop the daemons that local_cluster.sh started, by the PIDs it recorded in
# $KR_SLURM_STATE_DIR/pids (default /run/kr-slurm/pids), newest first: slurmd,
# slurmctld, slurmdbd, mariadbd, munged.  Daemons it found already running
# were not recorded and are left alone; a recorded PID that now belongs to
# another program is not touched.  Idempotent.
set -uo pipefail
STATE_DIR=${KR_SLURM_STATE_DIR:-/run/kr-slurm}
PIDFILE=$STATE_DIR/pids
[ -s "$PIDFILE" ] || { echo "stop_local_cluster: nothing recorded in $PIDFILE: nothing to stop"; exit 0; }
for name in slurmd slurmctld slurmdbd mariadbd munged; do
  pid=$(sed -n "s/^$name=//p" "$PIDFILE")
  [ -n "$pid" ] || continue
  if ! kill -0 "$pid" 2>/dev/null; then echo "stop_local_cluster: $name ($pid) not running"; continue; fi
  comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
  if [ "$comm" != "$name" ]; then echo "stop_local_cluster: pid $pid is '$comm', not $name: left alone"; continue; fi
  kill -TERM "$pid"
  for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then echo "stop_local_cluster: $name ($pid) still alive, sending KILL"; kill -KILL "$pid"; fi
  echo "stop_local_cluster: stopped $name ($pid)"
done
rm -f "$PIDFILE"
