#!/usr/bin/env bash
# The Lab's swarm sweep: `actors lab swarm` for N = 10, 100, 1,000 (and 5,000 with --with-5000),
# then one table (sweep.md) of completion time against the Kumar–Ross bound, memory and CPU per
# peer, from each run's summary.json; each run's plots (completion CDF, piece availability,
# resources) are in its own bundle. Not a test: minutes to an hour; run it on a quiet machine.
#   scripts/lab-swarm-sweep.sh [--out DIR] [--size 8M] [--up-cap 256K] [--seeders 1] [--with-5000] [--super-seed]
set -euo pipefail
cd "$(dirname "$0")/.."
out=lab-runs/sweep-$(date +%Y%m%d-%H%M%S); size=8M; cap=256K; seeders=1; ns=(10 100 1000); extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --up-cap) cap="$2"; shift 2 ;;
    --seeders) seeders="$2"; shift 2 ;;
    --with-5000) ns+=(5000); shift ;;
    --super-seed) extra+=(--super-seed); shift ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "lab-swarm-sweep: unknown option $1" >&2; exit 2 ;;
  esac
done
# ReadyToRun, as run-cluster.sh publishes it: the sweep starts many processes.
dotnet publish src/Actors.Host -c Release --use-current-runtime -o src/Actors.Host/bin/ready-to-run -v q --nologo >/dev/null
actors=(dotnet src/Actors.Host/bin/ready-to-run/actors.dll)
mkdir -p "$out"
for n in "${ns[@]}"; do
  echo "== N = $n"
  "${actors[@]}" lab swarm --peers "$n" --seeders "$seeders" --size "$size" --up-cap "$cap" "${extra[@]}" --out "$out" || echo "  (N = $n did not complete)"
done
python3 - "$out" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
rows = []
for summary in sorted(out.glob("swarm-n*/*/summary.json"), key=lambda p: json.loads(p.read_text())["Peers"]):
    s = json.loads(summary.read_text())
    rel = summary.parent.relative_to(out)
    rows.append(f"| {s['Peers']:,} | {s['Processes']} | {s['BoundSeconds']} | {s['CompletionSeconds'] if s['CompletionSeconds'] is not None else 'incomplete (' + str(s['Completed']) + ')'} "
                f"| {s['Ratio'] if s['Ratio'] is not None else '-'} | {s['MedianSeconds']} / {s['P90Seconds']} | {s['IdleRssKiBPerPeer']:.0f} / {s['PeakRssKiBPerPeer']:.0f} "
                f"| {s['CpuSecondsPerPeer']:.2f} | {s.get('LeechersHoldACopySeconds') if s.get('LeechersHoldACopySeconds') is not None else '-'} | [CDF]({rel}/completion-cdf.png) [availability]({rel}/availability.png) [resources]({rel}/resources.png) |")
table = ("| N | processes | bound (s) | all complete (s) | ratio | median / p90 (s) | KiB per peer idle / peak | CPU s per peer | leechers hold every piece at (s) | plots |\n"
         "|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
(out / "sweep.md").write_text(table)
print(table)
PY
echo "Table: $out/sweep.md"
