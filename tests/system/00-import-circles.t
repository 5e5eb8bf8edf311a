#!/usr/bin/env bash
# No import circles between a program's modules (scripts/import-circles), except the
# pairs scripts/import-circles.allow says are one module: first the checker itself on a
# small program made here (a circle through calls, one through a context header's
# inline function, an allowed pair, a bad allow-list), then every program of the tree.
. "$(dirname "$0")/../lib/harness.sh"
harness_init

CHECK=$HARNESS_ROOT/scripts/import-circles

progs=()
for d in "$HARNESS_ROOT"/agents/*/ "$HARNESS_ROOT"/console/*/; do
	[ -f "$d/main.c" ] && progs+=("${d#"$HARNESS_ROOT"/}")
done
plan $((6 + ${#progs[@]}))

# a program: main -> a -> b -> a (b calls a's function), and ctx.h (no .c of its own)
P=$T/src/p
mkdir -p "$P"
cat >"$P/ctx.h" <<'EOF'
struct ctx { int n; };
static inline int ctx_now(struct ctx *c) { return c->n; }
EOF
cat >"$P/a.h" <<'EOF'
#include "ctx.h"
int a_run(struct ctx *c);
EOF
cat >"$P/a.c" <<'EOF'
#include "a.h"
#include "b.h"
static int a_helper(void) { return 1; }
int a_run(struct ctx *c) { return b_run(c) + a_helper() + ctx_now(c); }
EOF
cat >"$P/b.h" <<'EOF'
#include "ctx.h"
int b_run(struct ctx *c);
/* the same name as a's static helper: not an import */
EOF
cat >"$P/b.c" <<'EOF'
#include "b.h"
int a_run(struct ctx *c);
static int a_helper(void) { return 2; }
int b_run(struct ctx *c) { return c->n > 0 ? a_run(c) + a_helper() : 0; /* "a_run(" */ }
EOF
cat >"$P/main.c" <<'EOF'
#include "a.h"
int main(void) { struct ctx c = {0}; return a_run(&c); }
EOF
: >"$T/none.allow"
out=$("$CHECK" --root "$T/src" --allow "$T/none.allow" p)
rc=$?
ok $((rc == 1 ? 0 : 1)) "a circle through a call fails the check (exit $rc)"
like "$out" 'p: import circle of 2 modules: a b' "and it is named"
like "$out" 'b -> a: a_run' "with the import that closes it"

printf '# a and b\np/a.c p/b.c  two halves of one thing\n' >"$T/ab.allow"
"$CHECK" --root "$T/src" --allow "$T/ab.allow" p >/dev/null
ok $? "allowed as one module, the pair passes"

# the circle through ctx.h's inline function: b no longer calls a_run, but ctx_now does
sed -i 's/return c->n;/return c->n + a_run(c);/; 1i int a_run(struct ctx *c);' "$P/ctx.h"
sed -i '/^int a_run/d; s/a_run(c) + a_helper()/ctx_now(c) + a_helper()/' "$P/b.c"
out=$("$CHECK" --root "$T/src" --allow "$T/none.allow" p)
like "$out" 'b -> a: ctx_now\(\) -> a_run\(\)' "an unowned header's inline function imports what it calls"

printf 'p/a.c p/b.c\n' >"$T/bad.allow"
"$CHECK" --root "$T/src" --allow "$T/bad.allow" p >/dev/null 2>&1
rc=$?
is "$rc" 2 "an allowed pair without its reason is an error"

for p in "${progs[@]}"; do
	p=${p%/}
	out=$(cd "$HARNESS_ROOT" && "$CHECK" "$p" 2>&1)
	rc=$?
	ok "$rc" "$p: no import circles"
	[ "$rc" -eq 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
done
