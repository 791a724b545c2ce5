#!/usr/bin/env bash
# Real SSH test hosts on this machine: network namespaces + veth + sshd.
#
#   testhosts.sh up N      bring up hosts PREFIX1..PREFIXN (idempotent; hosts > N are removed)
#   testhosts.sh down      remove every host of this state dir: its processes, sshd, veth,
#                          namespace, keys and state (idempotent)
#   testhosts.sh inventory print the Ansible inventory of the hosts that are up
#   testhosts.sh status    one line per host: name, address, sshd pid, reachable
#   testhosts.sh slot      claim (or print the claimed) unique PREFIX and NET for this state
#                          dir: "PREFIX NET", e.g. "pt3h 10.103"; `down` releases it
#
# Host PREFIX<I> is the namespace PREFIX<I> with a veth pair: PREFIX<I>-r
# (NET.I.1/30, root namespace) <-> PREFIX<I>-n (NET.I.2/30, inside). Debian's
# sshd runs inside the namespace on NET.I.2:22 with its own config, host key,
# pid file and log under STATE/hI/; root logs in with the generated ed25519
# key STATE/id_ed25519 only. The namespaces share the filesystem and the
# process table with this machine: a playbook run on them must write to
# per-host paths ({{ inventory_hostname }}). Whatever a host started (a
# daemon launched over ssh runs inside its namespace) is killed by `down`.
#
# The inventory is written to STATE/inventory.ini (and printed). It turns on
# SSH pipelining (as most fleets do): a module runs in one ssh session
# instead of four (mkdir, sftp put, run, rm), which halves the time of a run.
#
# Needs root. Environment (scripts/testhosts.sh sets the defaults of the
# pytest fleet; roles/testhosts gives each Molecule run its own):
#   PROCC_TESTHOSTS_DIR     state directory (keys, sshd configs, pids, inventory); required
#   PROCC_TESTHOSTS_PREFIX  host and namespace name prefix (scripts/testhosts.sh: procc-h)
#   PROCC_TESTHOSTS_NET     first two octets of the hosts' /30 subnets (scripts/testhosts.sh: 10.77)
#                           both unset: the ones of the slot claimed in STATE (`slot`)
#   PROCC_TESTHOSTS_PYTHON  the hosts' ansible_python_interpreter (default /usr/bin/python3)
# Two state directories with different PREFIX and NET never touch each other's hosts.
set -euo pipefail

STATE=${PROCC_TESTHOSTS_DIR:?PROCC_TESTHOSTS_DIR (the state directory) is required}
KEY=$STATE/id_ed25519
INVENTORY=$STATE/inventory.ini
PREFIX=${PROCC_TESTHOSTS_PREFIX:-}
NET=${PROCC_TESTHOSTS_NET:-}
# A state dir with a claimed slot names its own hosts (so `down` needs nothing else).
if [ -z "$PREFIX" ] && [ -f "$STATE/slot" ]; then read -r PREFIX NET <"$STATE/slot"; fi
PYTHON=${PROCC_TESTHOSTS_PYTHON:-/usr/bin/python3}
MAX_HOSTS=50
# Slots give concurrent runs distinct names and subnets: slot S is prefix ptSh,
# subnets 10.(100+S).I.0/30. The registry is machine-wide.
SLOTS=/run/lock/procc-testhosts-slots
MAX_SLOTS=150

die() { echo "testhosts: $*" >&2; exit 1; }
log() { echo "testhosts: $*" >&2; }

if [ -z "$PREFIX" ]; then
  # Neither a prefix nor a claimed slot: nobody's hosts are ours (never guess a
  # prefix: the default one is the pytest fleet's).
  case "${1:-}" in
    slot) PREFIX=unset NET=10.0 ;;
    down) rm -rf "$STATE"; echo "testhosts: no hosts in $STATE" >&2; exit 0 ;;
    *) echo "testhosts: no slot claimed in $STATE (run 'slot' first or set PROCC_TESTHOSTS_PREFIX and _NET)" >&2; exit 1 ;;
  esac
fi
# Names end up in interface names (15 bytes at most) and in ip/sed patterns.
[[ "$PREFIX" =~ ^[a-z][a-z0-9-]{0,8}$ ]] || die "invalid PROCC_TESTHOSTS_PREFIX '$PREFIX' (a-z, 0-9, -; 9 at most)"
[[ "$NET" =~ ^10\.[0-9]{1,3}$ ]] && [ "${NET#10.}" -le 255 ] || die "invalid PROCC_TESTHOSTS_NET '$NET' (10.X)"

ssh_opts() {
  echo "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=5"
}

# The indexes of the hosts that exist (namespace present), sorted.
existing() {
  ip netns list 2>/dev/null | awk '{print $1}' | sed -n "s/^${PREFIX}\([0-9][0-9]*\)$/\1/p" | sort -n
}

sshd_pid() {  # prints the pid of host I's sshd if it is running
  local pidfile=$STATE/h$1/sshd.pid pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  # Only a process that is an sshd inside our namespace counts (pid reuse).
  grep -q sshd "/proc/$pid/comm" 2>/dev/null || return 1
  echo "$pid"
}

port_open() {  # host I accepts TCP connections on 22
  timeout 1 bash -c "exec 3<>/dev/tcp/$NET.$1.2/22" 2>/dev/null
}

ensure_key() {
  mkdir -p "$STATE"
  chmod 700 "$STATE"
  if [ ! -f "$KEY" ]; then
    ssh-keygen -q -t ed25519 -N '' -C procc-testhosts -f "$KEY"
  fi
  cp "$KEY.pub" "$STATE/authorized_keys"
  # Ansible's persistent ssh connections (ControlPersist) live here, so that
  # `down` can close them: a master left over from removed hosts would make
  # the next run on recreated hosts hang on a dead connection.
  mkdir -p "$STATE/cp"
  chmod 700 "$STATE/cp"
  chmod 600 "$STATE/authorized_keys"
}

host_up() {
  local i=$1 ns=$PREFIX$1 dir=$STATE/h$1
  local rside=$PREFIX$1-r nside=$PREFIX$1-n
  mkdir -p "$dir"
  chmod 700 "$dir"
  ip netns list | awk '{print $1}' | grep -qx "$ns" || ip netns add "$ns"
  if ! ip link show "$rside" >/dev/null 2>&1; then
    # A half-made pair from an interrupted run: start the pair over.
    ip netns exec "$ns" ip link del "$nside" >/dev/null 2>&1 || true
    ip link add "$rside" type veth peer name "$nside"
    ip link set "$nside" netns "$ns"
  fi
  ip addr replace "$NET.$i.1/30" dev "$rside"
  ip link set "$rside" up
  ip netns exec "$ns" ip addr replace "$NET.$i.2/30" dev "$nside"
  ip netns exec "$ns" ip link set "$nside" up
  ip netns exec "$ns" ip link set lo up
  [ -f "$dir/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C "$ns" -f "$dir/ssh_host_ed25519_key"
  cat >"$dir/sshd_config" <<EOF
# procc test host $ns (generated by scripts/testhosts.sh)
ListenAddress $NET.$i.2
Port 22
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile $STATE/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
UseDNS no
MaxSessions 50
MaxStartups 50:30:100
LogLevel VERBOSE
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
EOF
  if ! sshd_pid "$i" >/dev/null; then
    /usr/sbin/sshd -t -f "$dir/sshd_config" || die "$ns: invalid sshd config $dir/sshd_config"
    rm -f "$dir/sshd.pid"
    # sshd daemonizes; -E appends its log (connections, auth) to a file.
    ip netns exec "$ns" /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
  fi
  local n=0
  until port_open "$i"; do
    n=$((n + 1))
    [ "$n" -lt 50 ] || die "$ns: sshd does not answer on $NET.$i.2:22 (see $dir/sshd.log)"
    sleep 0.1
  done
}

host_down() {
  local i=$1 ns=$PREFIX$1 dir=$STATE/h$1 pid
  if pid=$(sshd_pid "$i"); then
    kill "$pid" 2>/dev/null || true
    # Gone, or a zombie waiting for init to reap it (which can take seconds here).
    for _ in $(seq 50); do
      grep -qs '^State:[[:space:]]*[^Z]' "/proc/$pid/status" || break
      sleep 0.05
    done
  fi
  kill_namespace "$ns"
  # Deleting the namespace removes its end of the veth pair, and so the pair.
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$PREFIX$i-r" 2>/dev/null || true
  rm -rf "$dir"
}

kill_namespace() {  # every process still inside namespace $1 (daemons started over ssh): TERM, then KILL
  local ns=$1 pids n
  ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$ns" || return 0
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086
  kill $pids 2>/dev/null || true
  for n in $(seq 100); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] || return 0
    # Zombies (waiting for init to reap them) hold nothing: they count as gone.
    alive=""
    for pid in $pids; do
      grep -qs '^State:[[:space:]]*[^Z]' "/proc/$pid/status" && alive="$alive $pid"
    done
    [ -n "$alive" ] || return 0
    # shellcheck disable=SC2086
    [ "$n" -lt 60 ] || kill -9 $alive 2>/dev/null || true
    sleep 0.05
  done
}

write_inventory() {
  local py=$PYTHON i
  {
    echo "# procc SSH test hosts (scripts/testhosts.sh); root, key only"
    echo "[testhosts]"
    for i in $(existing); do
      echo "$PREFIX$i ansible_host=$NET.$i.2 ansible_user=root ansible_port=22 ansible_pipelining=true" \
        "ansible_ssh_private_key_file=$KEY ansible_python_interpreter=$py" \
        "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ControlPath=$STATE/cp/%C'"
    done
  } >"$INVENTORY.tmp"
  mv "$INVENTORY.tmp" "$INVENTORY"
}

verify() {  # every host answers over ssh, inside its own namespace
  local i got
  for i in $(existing); do
    # shellcheck disable=SC2046
    got=$(ssh $(ssh_opts) -i "$KEY" "root@$NET.$i.2" 'ip netns identify $$; echo "$SSH_CONNECTION"') \
      || die "$PREFIX$i: ssh root@$NET.$i.2 failed (see $STATE/h$i/sshd.log)"
    case "$got" in
      "$PREFIX$i"*"$NET.$i.2 22"*) ;;
      *) die "$PREFIX$i: unexpected answer over ssh: $got" ;;
    esac
  done
}

close_masters() {  # end the ssh ControlPersist masters Ansible left (ours only: our ControlPath)
  local sock
  for sock in "$STATE"/cp/*; do
    [ -S "$sock" ] || continue
    ssh -o ControlPath="$sock" -O exit procc-testhost >/dev/null 2>&1 || true
    rm -f "$sock"
  done
}

need_root() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (network namespaces, sshd)"
  command -v ip >/dev/null || die "ip (iproute2) not found; run scripts/system-deps.sh"
  [ -x /usr/sbin/sshd ] || die "/usr/sbin/sshd not found; run scripts/system-deps.sh (openssh-server)"
  command -v ssh >/dev/null || die "ssh client not found; run scripts/system-deps.sh"
}

slot_claim() {  # prints "PREFIX NET" of this state dir's slot, claiming a free one first
  local s f owner
  if [ -f "$STATE/slot" ]; then cat "$STATE/slot"; return 0; fi
  mkdir -p "$SLOTS" "$STATE"
  chmod 700 "$STATE"
  exec 8>"$SLOTS.lock"
  flock 8
  for s in $(seq 1 "$MAX_SLOTS"); do
    f=$SLOTS/$s
    if [ -f "$f" ]; then
      owner=$(cat "$f")
      # A slot whose owner's state is gone and whose namespaces are gone is free again.
      [ -d "$owner" ] && continue
      ip netns list 2>/dev/null | awk '{print $1}' | grep -q "^pt${s}h[0-9]*$" && continue
    fi
    echo "$STATE" >"$f"
    echo "pt${s}h 10.$((100 + s))" >"$STATE/slot"
    cat "$STATE/slot"
    return 0
  done
  die "no free slot in $SLOTS ($MAX_SLOTS runs at once)"
}

slot_release() {
  local f
  for f in "$SLOTS"/*; do
    [ -f "$f" ] && [ "$(cat "$f")" = "$STATE" ] && rm -f "$f"
  done
  return 0
}

cmd=${1:-}
case "$cmd" in
  up|down|inventory|status|slot) ;;
  *) echo "usage: $0 up N | down | inventory | status | slot" >&2; exit 2 ;;
esac
need_root
if [ "$cmd" = slot ]; then slot_claim; exit 0; fi
mkdir -p "$(dirname "$STATE")"
# One change at a time, whoever calls.
exec 9>"$(dirname "$STATE")/testhosts.lock"
flock 9

case "$cmd" in
  up)
    n=${2:-}
    [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le "$MAX_HOSTS" ] || die "up N: N must be 1..$MAX_HOSTS"
    ensure_key
    # sshd's privilege separation directory (the namespaces share /run).
    mkdir -p /run/sshd
    chmod 755 /run/sshd
    for i in $(existing); do
      [ "$i" -le "$n" ] || { close_masters; host_down "$i"; }
    done
    for i in $(seq 1 "$n"); do host_up "$i"; done
    write_inventory
    verify
    log "$n host(s) up; inventory: $INVENTORY"
    cat "$INVENTORY"
    ;;
  down)
    close_masters
    # sshd takes a second or two to exit on SIGTERM here: stop them all first.
    for i in $(existing); do
      if pid=$(sshd_pid "$i"); then kill "$pid" 2>/dev/null || true; fi
    done
    for i in $(existing); do host_down "$i"; done
    # Leftover state of hosts whose namespace is already gone (sshd included).
    if [ -d "$STATE" ]; then
      for dir in "$STATE"/h*; do
        [ -d "$dir" ] || continue
        host_down "${dir##*/h}"
      done
      slot_release
      rm -rf "$STATE"
    fi
    log "all test hosts removed"
    ;;
  inventory)
    [ -n "$(existing)" ] || die "no test host is up (scripts/testhosts.sh up N)"
    write_inventory
    cat "$INVENTORY"
    ;;
  status)
    for i in $(existing); do
      pid=$(sshd_pid "$i" || echo -)
      if port_open "$i"; then reach=reachable; else reach=unreachable; fi
      echo "$PREFIX$i $NET.$i.2 sshd=$pid $reach"
    done
    ;;
esac
