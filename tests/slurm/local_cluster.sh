#!/usr/bin/env bash
# A single-node SLURM cluster on this (Debian 12) machine, for the `slurm` tests
# (tests/slurm/test_slurm.py) and .ci/run.  Run as root.  Idempotent: installs
# the packages if missing, writes the configuration (again only if it changed),
# starts munged, mariadbd, slurmdbd, slurmctld and slurmd unless they already
# run, waits until `sinfo` shows the node idle, and records the PIDs of the
# daemons it started in $KR_SLURM_STATE_DIR/pids (stop_local_cluster.sh stops
# exactly those).
#
# The cluster: ClusterName=local, one node (this host, all its CPUs, its
# memory minus 200 MB) with one fake GPU (GresTypes=gpu, gres.conf points it at
# /dev/null, so `--gpus=1` jobs schedule and see CUDA_VISIBLE_DEVICES=0),
# partitions kr-cpu (default) and kr-gpu on that node, accounting in slurmdbd
# on MariaDB (so `sacct` works) with account kr-test for the calling user,
# MinJobAge=300 (squeue keeps finished jobs 5 minutes: the plugin's squeue
# status polling needs >= 3 x its first-check delay).
#
# Environment: KR_SLURM_STATE_DIR (default /run/kr-slurm), KR_SLURM_FORCE=1 to
# overwrite a slurm.conf this script did not write.
set -euo pipefail

STATE_DIR=${KR_SLURM_STATE_DIR:-/run/kr-slurm}
PIDFILE=$STATE_DIR/pids
MARK="# written by kr tests/slurm/local_cluster.sh"
HOST=$(hostname -s)
PACKAGES=(slurm-wlm munge slurmdbd mariadb-server)

say() { echo "local_cluster: $*"; }
die() { echo "local_cluster: ERROR: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"

# ------------------------------------------------------------ packages
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Keep the packages' maintainer scripts from starting daemons: this script
  # starts (and records) every daemon itself.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 0755 "$policy"; own_policy=1; fi
  trap '[ $own_policy = 1 ] && rm -f "$policy"' EXIT
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null; apt-get install -y -q "${missing[@]}" >/dev/null; }
  [ $own_policy = 1 ] && rm -f "$policy"
  trap - EXIT
fi

install -d -m 0755 "$STATE_DIR"
touch "$PIDFILE"

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pid_in() { [ -s "$1" ] && tr -d ' \n' < "$1" || true; }
recorded() { sed -n "s/^$1=//p" "$PIDFILE"; }
record() {  # name pid: this script started it
  { grep -v "^$1=" "$PIDFILE" || true; echo "$1=$2"; } > "$PIDFILE.new"; mv "$PIDFILE.new" "$PIDFILE"
}
# Start daemon $1 (pid file $2) with the command "${@:3}" unless it runs.
ensure() {
  local name=$1 pidfile=$2; shift 2
  local pid; pid=$(pid_in "$pidfile")
  if alive "$pid"; then
    if [ "$(recorded "$name")" = "$pid" ]; then say "$name running (pid $pid)"
    else say "$name running (pid $pid), not started by this script: used, and left running by stop_local_cluster.sh"; fi
    return 0
  fi
  rm -f "$pidfile"
  "$@"
  for _ in $(seq 60); do pid=$(pid_in "$pidfile"); alive "$pid" && break; sleep 0.5; done
  alive "$pid" || die "$name did not start (see /var/log/slurm/)"
  record "$name" "$pid"
  say "started $name (pid $pid)"
}
# Write file $1 (mode $2) from stdin; succeed with "changed" on stdout if it changed.
put() {
  local tmp; tmp=$(mktemp)
  cat > "$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; return 0; fi
  install -m "$2" "$tmp" "$1"; rm -f "$tmp"; echo changed
}

# ------------------------------------------------------------ munge
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
[ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
if ! alive "$(pid_in /run/munge/munged.pid)"; then rm -f /run/munge/munge.socket.2*; fi
ensure munged /run/munge/munged.pid runuser -u munge -- /usr/sbin/munged
munge -n | unmunge >/dev/null || die "munge does not work"

# ------------------------------------------------------------ configuration
install -d -m 0755 /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
if [ -f /etc/slurm/slurm.conf ] && ! grep -qF "$MARK" /etc/slurm/slurm.conf && [ "${KR_SLURM_FORCE:-0}" != 1 ]; then
  die "/etc/slurm/slurm.conf exists and was not written by this script (KR_SLURM_FORCE=1 overwrites it)"
fi
CPUS=$(nproc)
MEM=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
MEM=$(( ${MEM:-2200} - 200 ))
conf_changed=$(put /etc/slurm/slurm.conf 0644 <<CONF
$MARK
ClusterName=local
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=$HOST
AccountingStorageEnforce=associations
AccountingStorageTRES=gres/gpu
AccountingStoreFlags=job_comment
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=300
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
# A fake GPU (gres.conf points it at /dev/null) so that --gpus=1 jobs schedule.
GresTypes=gpu
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM Gres=gpu:1 State=UNKNOWN
PartitionName=kr-cpu Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
PartitionName=kr-gpu Nodes=$HOST Default=NO MaxTime=INFINITE State=UP
CONF
)
gres_changed=$(put /etc/slurm/gres.conf 0644 <<CONF
$MARK
AutoDetect=off
NodeName=$HOST Name=gpu File=/dev/null
CONF
)
put /etc/slurm/slurmdbd.conf 0600 >/dev/null <<CONF
$MARK
AuthType=auth/munge
DbdHost=$HOST
SlurmUser=root
PidFile=/run/slurmdbd.pid
LogFile=/var/log/slurm/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurmdbpass
StorageLoc=slurm_acct_db
CONF

# ------------------------------------------------------------ mariadb + slurmdbd
install -d -o mysql -g mysql /run/mysqld
[ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
start_mariadb() {
  setsid runuser -u mysql -- /usr/sbin/mariadbd --datadir=/var/lib/mysql --pid-file=/run/mysqld/mysqld.pid \
    --socket=/run/mysqld/mysqld.sock --bind-address=127.0.0.1 </dev/null >>/var/log/slurm/mariadb.log 2>&1 &
}
ensure mariadbd /run/mysqld/mysqld.pid start_mariadb
for _ in $(seq 60); do mariadb -uroot -e 'select 1' >/dev/null 2>&1 && break; sleep 0.5; done
mariadb -uroot <<'SQL'
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurmdbpass';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
SQL
ensure slurmdbd /run/slurmdbd.pid slurmdbd
for _ in $(seq 60); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.5; done
sacctmgr -n list cluster format=cluster%30 | grep -qw local || sacctmgr -i -Q add cluster local >/dev/null

# ------------------------------------------------------------ slurmctld + slurmd
ctld_was_running=0; alive "$(pid_in /run/slurmctld.pid)" && ctld_was_running=1
ensure slurmctld /run/slurmctld.pid slurmctld
for _ in $(seq 60); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.5; done
scontrol ping | grep -q UP || die "slurmctld does not answer (see /var/log/slurm/slurmctld.log)"
USER_NAME=$(id -un)
sacctmgr -n list account format=account%30 | grep -qw kr-test \
  || sacctmgr -i -Q add account kr-test Description=kr-tests Organization=kr >/dev/null
sacctmgr -n list assoc user="$USER_NAME" account=kr-test format=user%30 | grep -qw "$USER_NAME" \
  || sacctmgr -i -Q add user "$USER_NAME" Account=kr-test DefaultAccount=kr-test >/dev/null
ensure slurmd /run/slurmd.pid slurmd
if [ -n "$conf_changed$gres_changed" ] && [ $ctld_was_running = 1 ]; then
  scontrol reconfigure || true  # a slurmctld that was already running reads the new files
fi

# ------------------------------------------------------------ wait for the node
state=""
for _ in $(seq 120); do
  state=$(sinfo -h -n "$HOST" -o %t 2>/dev/null | head -1)
  case "$state" in idle|mix|alloc) break ;; down*|drain*|*\*) scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true ;; esac
  sleep 0.5
done
case "$state" in idle|mix|alloc) ;; *) die "node $HOST is '$state', not idle (see /var/log/slurm/slurmd.log)" ;; esac

say "PIDs of the daemons this script started ($PIDFILE):"; sed 's/^/  /' "$PIDFILE"
sinfo -o "%P %a %D %t %N %c %m %G"
