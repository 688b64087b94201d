#!/usr/bin/env bash
# Starts a local Actors cluster on this machine and stops it cleanly on Ctrl-C (or after --duration).
#   ./run-cluster.sh [--duration SECONDS] [--web-port PORT] [--seed-port PORT] [--tracker-port PORT]
#                    [--rendezvous-port PORT] [--relay-port PORT] [--peer-port PORT] [--lab-port PORT]
# Nodes: a seed node (the cluster's contact point), a web node serving a demo folder, two tracker
# nodes sharing every swarm, a rendezvous and a relay for calls, a BitTorrent peer seeding the
# demo folder's .torrent (which announces to tracker 1), and the Lab (dashboard, status, faults).
# Through the Lab's link proxies (toxics apply to them): web (web port + 10), tracker (tracker 1,
# tracker port + 10: the demo .torrent announces there), rendezvous (+ 1) and relay (+ 1: the relay
# tells callers to dial it), so the demo's downloads and relayed calls cross a proxy.
# Logs: .cluster/logs/<node>.log    Demo folder: .cluster/demo    Node manifests: .cluster/nodes
set -euo pipefail
cd "$(dirname "$0")"

duration=0
web_port=8080
seed_port=4053
tracker_port=6969
rendezvous_port=7000
relay_port=7100
peer_port=6881
lab_port=7070
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --web-port) web_port="$2"; shift 2 ;;
    --seed-port) seed_port="$2"; shift 2 ;;
    --tracker-port) tracker_port="$2"; shift 2 ;;
    --rendezvous-port) rendezvous_port="$2"; shift 2 ;;
    --relay-port) relay_port="$2"; shift 2 ;;
    --peer-port) peer_port="$2"; shift 2 ;;
    --lab-port) lab_port="$2"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-cluster: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done

state=.cluster
logs=$state/logs
demo=$state/demo
manifests=$state/nodes
mkdir -p "$logs" "$demo" "$manifests"
rm -f "$manifests"/*.json "$state/lab.token" "$state/lab.url"

# Published ReadyToRun (precompiled; see src/Actors.Host/Actors.Host.csproj): every node, and every
# process the Lab starts from it, starts with half the CPU of a JIT-compiled build.
echo "Building actors (Release, ReadyToRun)..."
dotnet publish src/Actors.Host -c Release --use-current-runtime -o src/Actors.Host/bin/ready-to-run -v q --nologo >"$logs/build.log" 2>&1 || { cat "$logs/build.log"; exit 1; }
actors=(dotnet src/Actors.Host/bin/ready-to-run/actors.dll)

# A small demo site: a page, a text file, and a 16 MiB file to try Range requests and downloads on.
cat >"$demo/index.html" <<'HTML'
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Actors demo</title></head>
<body><h1>Served by Actors</h1>
<p>An HTTP/1.1 server on Akka.IO. Try <a href="files/">files/</a>.</p></body></html>
HTML
mkdir -p "$demo/files"
echo "hello from the actors web role" >"$demo/files/hello.txt"
[ -f "$demo/files/16MiB.bin" ] || head -c 16777216 /dev/urandom >"$demo/files/16MiB.bin"
web_link=$((web_port + 10)); tracker_link=$((tracker_port + 10)); rendezvous_link=$((rendezvous_port + 1)); relay_link=$((relay_port + 1))
"${actors[@]}" torrent create "$demo/files/16MiB.bin" --tracker "http://127.0.0.1:$tracker_link/announce" \
  -o "$demo/files/16MiB.bin.torrent" >/dev/null
# Who may register at the rendezvous (name:secret); demo identities only.
printf 'alice:alice-secret\nbob:bob-secret\ncarol:carol-secret\n' >"$state/users.txt"

pids=()
names=()
json_string() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
start_node() { # name, cluster address (host:port, or - for none), then the actors arguments
  local name=$1 address=$2; shift 2
  "${actors[@]}" "$@" >"$logs/$name.log" 2>&1 &
  pids+=($!)
  names+=("$name")
  # The manifest tells the Lab how this node was started, so it can kill, pause and restart it.
  local command="" arg
  for arg in "${actors[@]}" "$@"; do command+="${command:+,}$(json_string "$arg")"; done
  [ "$address" = "-" ] && address=""
  # started: the process's start time (/proc/PID/stat field 22), so the Lab never signals a reused pid.
  local started
  started=$(sed 's/^.*) //' "/proc/$!/stat" 2>/dev/null | cut -d' ' -f20)
  printf '{"name":%s,"pid":%d,"started":%d,"command":[%s],"cwd":%s,"log":%s,"address":%s}\n' \
    "$(json_string "$name")" "$!" "${started:-0}" "$command" "$(json_string "$PWD")" "$(json_string "$logs/$name.log")" "$(json_string "$address")" \
    >"$manifests/$name.json"
}

# The node's current pid: the Lab rewrites the manifest when it restarts a node.
current_pid() { grep -o '"pid":[0-9]*' "$manifests/$1.json" 2>/dev/null | cut -d: -f2; }

stop_all() {
  trap - INT TERM EXIT
  echo
  echo "Stopping ${#pids[@]} nodes (they leave the cluster gracefully)..."
  local i pid
  for i in "${!pids[@]}"; do
    pid=$(current_pid "${names[$i]}"); pid=${pid:-${pids[$i]}}
    kill -CONT "$pid" 2>/dev/null || true # a paused node cannot leave
    kill -TERM "$pid" 2>/dev/null || true
  done
  for i in "${!pids[@]}"; do
    local waited=0
    pid=$(current_pid "${names[$i]}"); pid=${pid:-${pids[$i]}}
    while kill -0 "$pid" 2>/dev/null && [ $waited -lt 200 ]; do sleep 0.1; waited=$((waited + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
      echo "  ${names[$i]} did not stop in 20 s: killing it"; kill -KILL "$pid" 2>/dev/null || true
    fi
    if [ "$pid" = "${pids[$i]}" ]; then
      wait "$pid" 2>/dev/null && code=0 || code=$?
      echo "  ${names[$i]} exited with $code"
    else
      echo "  ${names[$i]} (restarted by the Lab as pid $pid) stopped"
    fi
  done
}
# Ctrl-C or SIGTERM: stop the nodes and end (the loop below would otherwise go on); EXIT: any other end.
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

wait_for_port() { # port, node name
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "run-cluster: $2 did not open port $1 within 30 s; see $logs/$2.log" >&2
  exit 1
}

start_node seed "127.0.0.1:$seed_port" seed --name seed --cluster-port "$seed_port"
wait_for_port "$seed_port" seed
start_node web "127.0.0.1:$((seed_port + 1))" web --name web --root "$demo" --host 127.0.0.1 --port "$web_port" \
  --cluster-port $((seed_port + 1)) --seed "127.0.0.1:$seed_port"
wait_for_port "$web_port" web
for i in 1 2; do
  start_node "tracker$i" "127.0.0.1:$((seed_port + 1 + i))" tracker --name "tracker$i" --host 127.0.0.1 --port $((tracker_port + i - 1)) \
    --cluster-port $((seed_port + 1 + i)) --seed "127.0.0.1:$seed_port"
done
wait_for_port "$tracker_port" tracker1
wait_for_port $((tracker_port + 1)) tracker2
start_node rendezvous "127.0.0.1:$((seed_port + 4))" rendezvous --name rendezvous --host 127.0.0.1 --port "$rendezvous_port" --users "$state/users.txt" \
  --cluster-port $((seed_port + 4)) --seed "127.0.0.1:$seed_port"
start_node relay "127.0.0.1:$((seed_port + 5))" relay --name relay --host 127.0.0.1 --port "$relay_port" --public-port "$relay_link" \
  --cluster-port $((seed_port + 5)) --seed "127.0.0.1:$seed_port"
wait_for_port "$rendezvous_port" rendezvous
wait_for_port "$relay_port" relay
# Application links through the Lab's link proxy (toxics apply to them), each listening a few
# ports up from its target. The Lab starts before the peer, whose announces cross the tracker link.
cat >"$state/lab.conf" <<CONF
actors.lab.links = [
  { name = "web", listen = "127.0.0.1:$web_link", target = "127.0.0.1:$web_port" }
  { name = "tracker", listen = "127.0.0.1:$tracker_link", target = "127.0.0.1:$tracker_port" }
  { name = "rendezvous", listen = "127.0.0.1:$rendezvous_link", target = "127.0.0.1:$rendezvous_port" }
  { name = "relay", listen = "127.0.0.1:$relay_link", target = "127.0.0.1:$relay_port" }
]
CONF
start_node lab "127.0.0.1:$((seed_port + 6))" lab --name lab --port "$lab_port" --manifests "$manifests" --config "$state/lab.conf" \
  --token-file "$state/lab.token" --url-file "$state/lab.url" --cluster-port $((seed_port + 6)) --seed "127.0.0.1:$seed_port"
wait_for_port "$lab_port" lab
for _ in $(seq 1 100); do [ -s "$state/lab.token" ] && break; sleep 0.1; done
lab_token=$(cat "$state/lab.token" 2>/dev/null || echo "?")
start_node peer - peer seed "$demo/files/16MiB.bin.torrent" --data "$demo/files" --host 127.0.0.1 --port "$peer_port"
wait_for_port "$peer_port" peer

echo
printf '%-10s %-36s %-20s %s\n' NODE LISTENS CLUSTER LOG
printf '%-10s %-36s %-20s %s\n' seed "-" "127.0.0.1:$seed_port" "$logs/seed.log"
printf '%-10s %-36s %-20s %s\n' web "http://127.0.0.1:$web_port/" "127.0.0.1:$((seed_port + 1))" "$logs/web.log"
for i in 1 2; do
  printf '%-10s %-36s %-20s %s\n' "tracker$i" "http://127.0.0.1:$((tracker_port + i - 1))/announce" "127.0.0.1:$((seed_port + 1 + i))" "$logs/tracker$i.log"
done
printf '%-10s %-36s %-20s %s\n' rendezvous "127.0.0.1:$rendezvous_port" "127.0.0.1:$((seed_port + 4))" "$logs/rendezvous.log"
printf '%-10s %-36s %-20s %s\n' relay "127.0.0.1:$relay_port" "127.0.0.1:$((seed_port + 5))" "$logs/relay.log"
printf '%-10s %-36s %-20s %s\n' peer "127.0.0.1:$peer_port (seeding)" "-" "$logs/peer.log"
printf '%-10s %-36s %-20s %s\n' lab "http://127.0.0.1:$lab_port/" "127.0.0.1:$((seed_port + 6))" "$logs/lab.log"
echo
echo "Lab:   http://127.0.0.1:$lab_port/#token=$lab_token   (dashboard; token in $state/lab.token)"
echo "       ${actors[*]} lab status    ${actors[*]} lab tail    ${actors[*]} lab kill tracker2    ${actors[*]} lab restart tracker2"
echo "Links: web http://127.0.0.1:$web_link/ → :$web_port    tracker :$tracker_link → :$tracker_port (the demo .torrent announces there)"
echo "       rendezvous 127.0.0.1:$rendezvous_link → :$rendezvous_port    relay :$relay_link → :$relay_port (relayed calls)   (the Lab's proxies)"
echo "       ${actors[*]} lab link toxic relay latency --direction upstream --set latency=300    ${actors[*]} lab link clear relay"
echo "Try: curl -i http://127.0.0.1:$web_port/   curl -r 0-99 http://127.0.0.1:$web_port/files/16MiB.bin | wc -c"
echo "     aria2c http://127.0.0.1:$web_port/files/16MiB.bin.torrent   (the swarm is shared by both trackers)"
echo "     ${actors[*]} peer get http://127.0.0.1:$web_port/files/16MiB.bin.torrent --out /tmp/dl"
echo "     ${actors[*]} caller --id bob --secret bob-secret --rendezvous 127.0.0.1:$rendezvous_port --listen 0 --auto-answer   (reachable: direct path)"
echo "     ${actors[*]} caller --id alice --secret alice-secret --rendezvous 127.0.0.1:$rendezvous_port --call bob --duration 5"
echo "     (without --listen on bob the call is relayed, through the relay link: a latency toxic there shows in the RTT)"
if [ "$duration" -gt 0 ]; then
  echo "Running for $duration s..."
  sleep "$duration"
else
  echo "Press Ctrl-C to stop the cluster."
  while true; do sleep 1; done
fi
