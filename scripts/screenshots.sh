#!/usr/bin/env bash
# Regenerates every PNG in screenshots/ from the real window, under a virtual
# X server with software OpenGL. Needs: xvfb xauth libgl1 libegl1 libgl1-mesa-dri
# libglx-mesa0 libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0 (see .ci/run).
#
#   scripts/screenshots.sh            # builds a release binary first
#   PARLAB=target/debug/parlab scripts/screenshots.sh
#   ONLY=sizes scripts/screenshots.sh # only every tab at 1280x720 and 1920x1080
#
# Besides the pictures the README shows, every tab at the two window sizes a
# lab meets: 1280x720 (a projector) in screenshots/1280x720/, and 1920x1080 in
# screenshots/1920x1080/ (--window sets the window; the virtual screen is
# larger than either).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${PARLAB:-}" ]; then
  cargo build --release
  PARLAB=target/release/parlab
fi
export LIBGL_ALWAYS_SOFTWARE=1
mkdir -p screenshots

shot() {
  local out="$1"; shift
  echo "screenshots/$out"
  # --reset-settings: the same pictures whatever this machine saved before.
  xvfb-run -a -s "-screen 0 1920x1200x24" \
    "$PARLAB" --reset-settings --screenshot "screenshots/$out" "$@"
  "$PARLAB" check-png "screenshots/$out"
}

# Every tab at both window sizes, with its default settings and its work done.
for window in 1280x720 1920x1080; do
  mkdir -p "screenshots/$window"
  for tab in lessons explorer speedup race locks theory python system; do
    shot "$window/$tab.png" --panel "$tab" --window "$window"
  done
done
if [ "${ONLY:-}" = sizes ]; then
  exit 0
fi

# The explorer: whole set, 4 workers, dynamic schedule, worker overlay, timeline and legend.
shot explorer.png --panel explorer --size 1024x768 --place whole-set \
  --workers 4 --tile 32 --schedule dynamic --overlay true
# Lopsided view under static-block: half the image holds most of the work,
# so two workers finish early and idle (dark gaps in their timeline lanes).
shot explorer-lopsided-static.png --panel explorer --size 1024x768 --place lopsided \
  --workers 4 --tile 32 --schedule static-block --overlay true
# The same view with dynamic scheduling: every worker busy to the end.
shot explorer-lopsided-dynamic.png --panel explorer --size 1024x768 --place lopsided \
  --workers 4 --tile 32 --schedule dynamic --overlay true
# Bands, no overlay, another palette.
shot explorer-bands.png --panel explorer --size 1024x768 --place seahorse-valley \
  --workers 4 --tile bands8 --schedule static-cyclic --overlay false --palette fire
# The system panel while a big render keeps every core busy.
shot system.png --panel system --size 1920x1080 --place deep-spiral --schedule dynamic
# The speedup lab after a sweep over workers × granularity on a small view
# (screenshot mode starts the sweep, as a first click on Run would).
shot speedup.png --panel speedup --size 1024x768 --place whole-set
# The race lab after Repeat ×20 of the unsynchronised counter, and a recorded interleaving.
shot race.png --panel race
# The locks lab after a throughput sweep and the deadlock demo.
shot locks.png --panel locks
# Amdahl, Gustafson, Brent and the grid-search calculator.
shot theory.png --panel theory
# The Python lab after running the course's Pool.map prime test on worker processes:
# one lane per process, start-up bars, CPU/wall per task, the script's output.
shot python.png --panel python
# The explorer farming its tiles to 2 worker processes: start-up bars and transfer strips.
shot explorer-processes.png --panel explorer --size 1024x768 --place whole-set \
  --workers 2 --tile 64 --schedule dynamic --backend processes
# The Lessons tab (first on a fresh start) at lesson 3, after its Run:
# prediction, result with spread and busy-machine verdict, plot, explanation.
shot lessons.png --lesson 3
# The lab report: lesson 7 run headless, written as HTML, rendered by headless Chromium.
echo "screenshots/report.png"
report_dir=$(mktemp -d)
"$PARLAB" lesson report --out "$report_dir" --student "Sample Student" --run 3,7,10 >/dev/null
chromium --headless --no-sandbox --hide-scrollbars --screenshot="$PWD/screenshots/report.png" \
  --window-size=1280,1600 "file://$report_dir/lab-report-sample-student.html" 2>/dev/null
"$PARLAB" check-png screenshots/report.png
rm -rf "$report_dir"
