#!/usr/bin/env bash
# Coverage-guided fuzzing of one codec: tests/Fuzz/run.sh TARGET SECONDS
#   Builds the harness (Actors.Fuzz), instruments our codec assemblies with SharpFuzz, seeds a corpus
#   with small valid inputs (plus the kept findings), runs afl-fuzz for SECONDS, prints afl's stats and
#   copies every crash or hang into tests/Fuzz/findings/TARGET/ (which the test suite replays).
#   Not part of CI. Needs afl++ (apt-get install afl++); works as root and as a normal user.
#   Environment: FUZZ_NICE (default 15), FUZZ_TIMEOUT_MS (afl's per-input limit, default 2000).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="${1:-}"; seconds="${2:-}"
if [ -z "$target" ] || ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "usage: tests/Fuzz/run.sh TARGET SECONDS" >&2
  echo "targets: http-request http-response chunked bencode metainfo tracker-query udp-tracker peer-wire extended-handshake ut-metadata ut-pex krpc call-frame call-udp wav" >&2
  exit 2
fi
command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: apt-get install afl++" >&2; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

work="$(mktemp -d "${TMPDIR:-/tmp}/actors-fuzz-$target.XXXXXX")"
afl_pid=""
cleanup() {
  [ -n "$afl_pid" ] && kill "$afl_pid" 2>/dev/null && wait "$afl_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. Build into a private folder, so two targets can run side by side.
nice -n "${FUZZ_NICE:-15}" dotnet publish "$here/Actors.Fuzz" -c Release -o "$work/bin" --nologo -v quiet >/dev/null
dotnet "$work/bin/Actors.Fuzz.dll" list | grep -qx "$target" || { echo "unknown target $target" >&2; exit 2; }

# 2. Seeds: small valid inputs from our encoders, and the inputs kept from earlier runs
#    (before instrumenting: instrumented code only runs under afl-fuzz).
dotnet "$work/bin/Actors.Fuzz.dll" seeds "$target" "$work/in"
findings="$here/findings/$target"
# Small ones only (afl mutates small inputs best); a previous run's corpus resumes where it stopped.
[ -d "$findings" ] && find "$findings" -maxdepth 1 -type f -size -16k -exec cp {} "$work/in/" \;
[ -d "$here/.last/$target.queue" ] && find "$here/.last/$target.queue" -maxdepth 1 -type f -name 'id:*' -size -16k \
  -exec sh -c 'cp "$1" "$2/prev-$(basename "$1" | cut -c1-9 | tr : _)"' _ {} "$work/in" \;

# 3. Instrument our codecs (not Akka, not the BCL): afl sees the branches they take.
tools="$here/.tools"
if [ ! -x "$tools/sharpfuzz" ]; then
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools" >/dev/null
fi
for dll in Actors.Web Actors.Torrent Actors.Calls Actors.Net; do
  "$tools/sharpfuzz" "$work/bin/$dll.dll" >/dev/null
done

# 4. Fuzz. The dotnet host is not instrumented itself (SharpFuzz instruments the assemblies).
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 \
       AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_CRASH_README=1
echo "fuzzing $target for $seconds s (nice ${FUZZ_NICE:-15}); afl log: $work/afl.log"
nice -n "${FUZZ_NICE:-15}" afl-fuzz -V "$seconds" -t "${FUZZ_TIMEOUT_MS:-2000}" -m none \
  -i "$work/in" -o "$work/out" -- dotnet "$work/bin/Actors.Fuzz.dll" "$target" >"$work/afl.log" 2>&1 &
afl_pid=$!
if ! wait "$afl_pid"; then
  # afl aborts when the harness process dies (SharpFuzz's fork server is the harness itself, so
  # an input that kills it, or one afl kills for running past -t, ends the run): keep that input.
  afl_pid=""
  echo "afl-fuzz failed:" >&2; tail -30 "$work/afl.log" >&2
  mkdir -p "$here/.last"
  [ -f "$work/out/default/fuzzer_stats" ] && cp "$work/out/default/fuzzer_stats" "$here/.last/$target.fuzzer_stats"
  if [ -f "$work/out/default/.cur_input" ]; then
    cp "$work/out/default/.cur_input" "$here/.last/$target.abort-input"
    echo "the input being run is in tests/Fuzz/.last/$target.abort-input: replay it with the harness" >&2
  fi
  exit 1
fi
afl_pid=""

# 5. Report, keep the stats, and keep each crash or hang as a regression input.
stats="$work/out/default/fuzzer_stats"
mkdir -p "$here/.last"
cp "$stats" "$here/.last/$target.fuzzer_stats"
# The corpus afl built, to pick a few inputs from for findings/ (the replay test keeps them covered).
rm -rf "$here/.last/$target.queue" && cp -r "$work/out/default/queue" "$here/.last/$target.queue"
grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|bitmap_cvg|saved_crashes|saved_hangs) ' "$stats"
kept=0
for kind in crashes hangs; do
  for f in "$work/out/default/$kind"/id:*; do
    [ -e "$f" ] || continue
    mkdir -p "$findings"
    name="${kind%es}"; name="${name%s}-$(sha1sum "$f" | cut -c1-12)"
    cp "$f" "$findings/$name"
    kept=$((kept + 1))
    echo "kept $findings/$name"
  done
done
echo "$target: $kept finding(s) copied to tests/Fuzz/findings/$target/"
