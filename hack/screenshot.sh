#!/usr/bin/env bash
# Renders the drainwatch TUI replaying a shipped recording in a real terminal and saves a PNG
# of the screen: the picture in the README is made this way, from the real binary.
#
#   hack/screenshot.sh [RECORDING] [OUTPUT.png]
#
# Defaults: examples/rollout-prestop.ndjson and docs/tui.png. Environment:
#   COLS, ROWS  terminal size (120x40)
#   SPEED       replay speed (20)
#   KEYS        tmux send-keys words typed once the replay finished; the default sorts by
#               verdict, selects the worst pod and opens its detail pane ("s s g Enter").
#               KEYS="" keeps the plain list.
#   TIMEOUT     seconds to wait for the replay to finish (180)
#
# Needs tmux, aha and chromium (Debian packages); installs the missing ones when run as root.
# It starts a tmux server on a private socket and stops only that server.
set -euo pipefail

cd "$(dirname "$0")/.."
rec=${1:-examples/rollout-prestop.ndjson}
out=${2:-docs/tui.png}
cols=${COLS:-120}
rows=${ROWS:-40}
speed=${SPEED:-20}
keys=${KEYS-s s g Enter}
timeout=${TIMEOUT:-180}

if [ ! -f "$rec" ]; then
	echo "recording $rec not found; pass one as the first argument" >&2
	exit 2
fi
rec=$(realpath "$rec")

missing=()
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v aha >/dev/null 2>&1 || missing+=(aha)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "DejaVu Sans Mono" || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing: ${missing[*]}; install them with apt-get (needs root)" >&2
		exit 1
	fi
	echo "installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

work=$(mktemp -d)
sock="drainwatch-shot-$$"
cleanup() {
	tmux -L "$sock" kill-server >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "building kubectl-drainwatch" >&2
go build -tags "$(cat hack/dist/build-tags)" -o "$work/kubectl-drainwatch" ./cmd/kubectl-drainwatch

# A private tmux server with no user configuration; the pane's shell runs the binary and then
# waits, so that the screen stays for capture-pane after the TUI is gone if it fails.
tmux -L "$sock" -f /dev/null new-session -d -s shot -x "$cols" -y "$rows" \
	"env TERM=xterm-256color COLORTERM=truecolor LANG=C.UTF-8 '$work/kubectl-drainwatch' --replay '$rec' --speed '$speed' --color always -o tui; echo; echo 'drainwatch exited'; sleep 3600"
tmux -L "$sock" set-option -t shot status off >/dev/null
tmux -L "$sock" resize-window -t shot -x "$cols" -y "$rows" >/dev/null 2>&1 || true

capture() { tmux -L "$sock" capture-pane -t shot -p "$@"; }

echo "replaying $rec at ${speed}x" >&2
deadline=$((SECONDS + timeout))
until capture | grep -q "■ finished"; do
	if capture | grep -q "drainwatch exited"; then
		echo "kubectl-drainwatch exited before the replay finished:" >&2
		capture >&2
		exit 1
	fi
	if [ "$SECONDS" -ge "$deadline" ]; then
		echo "the replay did not finish within ${timeout}s; screen:" >&2
		capture >&2
		exit 1
	fi
	sleep 0.5
done

for k in $keys; do
	tmux -L "$sock" send-keys -t shot "$k"
	sleep 0.2
done
sleep 1

capture -e >"$work/screen.ans"

# aha turns the ANSI screen into HTML; the style pins the font and the cell size so that the
# window can be sized to the terminal exactly.
font_px=14
line_px=17
cell_px=9 # 14px DejaVu Sans Mono is 8.43px wide; rounded up, with letter-spacing below
pad=12
style="<style>body{margin:0;padding:${pad}px;background:#000}pre{margin:0;font-family:'DejaVu Sans Mono',monospace;font-size:${font_px}px;line-height:${line_px}px;letter-spacing:$(awk "BEGIN{print $cell_px-8.43}")px;white-space:pre}</style>"
html=$(aha --black --title drainwatch <"$work/screen.ans")
printf '%s\n' "${html/<\/head>/${style}</head>}" >"$work/screen.html"

width=$((cols * cell_px + 2 * pad))
height=$((rows * line_px + 2 * pad))
mkdir -p "$(dirname "$out")"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
	--user-data-dir="$work/chromium" --window-size="$width,$height" \
	--screenshot="$work/shot.png" "file://$work/screen.html" >/dev/null 2>&1
if [ ! -s "$work/shot.png" ]; then
	echo "chromium did not write a screenshot" >&2
	exit 1
fi
cp "$work/shot.png" "$out"
echo "wrote $out (${width}x${height})" >&2
