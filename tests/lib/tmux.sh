# tests/lib/tmux.sh - drives a console under a private tmux server (after harness.sh):
# the screen is read with capture-pane, keys are sent with send-keys. Sessions are
# named; most helpers take the session last and default to "c".
#
#   tmux_init                      private server socket, killed on exit
#   tm ARGS...                     tmux against it
#   screen [S]; show_screen [S]    the screen as text (show_screen: as TAP comments)
#   screen_has ERE [S]; screen_lacks ERE [S]
#   line_of ERE                    line number (1-based) of the first match, 0 if none
#   keys KEY...; typed TEXT        keys by name (send-keys), or literal text
#   click X Y                      a left click at 0-based column X, line Y
#   pane_is WxH; pane_alive [S]    the pane's size; its program still runs
#   check STATUS DESC [S]          ok, and the screen when it failed

tmux_init() {
	SOCK="$T/tmux.sock"
	trap 'rc=$?; tm kill-server 2>/dev/null; (exit $rc); harness_cleanup' EXIT
}
tm() { tmux -S "$SOCK" "$@"; }
screen() { tm capture-pane -p -t "${1:-c}"; }
screen_has() { screen "${2:-c}" | grep -Eq -- "$1"; }
screen_lacks() { ! screen "${2:-c}" | grep -Eq -- "$1"; }
keys() { tm send-keys -t c "$@"; }
typed() { tm send-keys -t c -l "$1"; } # literal text
line_of() { screen | grep -En -- "$1" | head -1 | cut -d: -f1 || true; }
pane_is() { [ "$(tm display-message -p -t c '#{pane_width}x#{pane_height}')" = "$1" ]; } # WxH
pane_alive() { [ "$(tm display-message -p -t "${1:-c}" '#{pane_dead}')" = 0 ]; }
show_screen() { screen "${1:-c}" | sed 's/^/# | /'; }
check() { # STATUS DESC [SESSION]: ok, and the screen when it failed
	ok "$1" "$2"
	[ "$1" -eq 0 ] || show_screen "${3:-c}"
}
# as xterm-256color reports a press and a release (SGR 1006, 1-based)
click() {
	tm send-keys -t c -l "$(printf '\033[<0;%d;%dM\033[<0;%d;%dm' $(($1 + 1)) $(($2 + 1)) \
		$(($1 + 1)) $(($2 + 1)))"
}
