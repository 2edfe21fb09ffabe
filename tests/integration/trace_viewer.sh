#!/usr/bin/env bash
# trace_viewer.sh - proves that a /debug/pprof/trace file opens in a real
# trace viewer: speedscope (npm package) running in headless Chromium.
#
# Usage: tests/integration/trace_viewer.sh TRACE_JSON
#
# Exit status: 0 when speedscope imported the file and shows it, 1 when it
# could not (the reason is printed), 77 (skip) when Chromium or speedscope
# is not installed. Downloads nothing and leaves no process behind.
#
# How: speedscope's own command-line route. The file is embedded, base64,
# in a script that calls speedscope.loadFileFromBase64, and speedscope's
# page is opened with #localProfilePath=<that script> (a file:// <script>;
# --allow-file-access-from-files only makes the viewer's own errors readable
# instead of "Script error."). The page is a copy of speedscope's
# index.html with one script added first (trace-viewer-hook.js below): it
# turns alert() into a record (speedscope reports "Unrecognized format!"
# and empty profiles with alert(), which would stall headless Chromium),
# records console output and uncaught errors, and once the import is done
# and the Time Order (flame chart) view has rendered, records the profile
# list, switches to the Sandwich view (key "3") and records the symbol table
# of each profile in turn (key "n"). Chromium's --dump-dom prints the page
# once a virtual-time budget has run out; the checks below read it.
#
# Passes only if all hold:
#  - speedscope logged "Importing as Trace Event Format profile";
#  - the page title became "<file name> - speedscope" (speedscope sets it
#    only after a successful, non-empty import);
#  - no alert, no uncaught exception, no "Something went wrong" screen;
#  - the Time Order view rendered its flame chart canvas;
#  - the viewer lists at least one profile (one per thread with X or B/E
#    events) and, if the trace names its threads (thread_name metadata),
#    at least one listed profile carries one of those names;
#  - each profile, brought on view in turn in the Sandwich view, shows at
#    least one symbol, and at least one symbol shown is an event name that
#    occurs in the file;
#  - each name in TRACE_VIEWER_EXPECT (comma-separated, e.g. "lock-1,lock-2")
#    is part of a listed profile or symbol name;
#  - with TRACE_VIEWER_STRICT=1, speedscope printed no warnings (it warns
#    about unbalanced B/E events, for instance).
# speedscope shows X and B/E events only; it ignores i, C and b/e events and
# the "sf" stack references (it reads stackFrames only with "samples").
#
# Environment:
#  SPEEDSCOPE_DIR   speedscope package dir (or its dist/release dir); default
#                   $(npm root -g)/speedscope, then ./node_modules/speedscope
#                   here or in the source tree
#  CHROMIUM         browser binary; default: chromium, chromium-browser,
#                   google-chrome or google-chrome-stable on PATH
#  TRACE_VIEWER_TIMEOUT    wall-clock limit in seconds (default 90)
#  TRACE_VIEWER_BUDGET_MS  virtual-time budget of the page (default 120000)
#  TRACE_VIEWER_EXPECT, TRACE_VIEWER_STRICT  see above
#  TRACE_VIEWER_KEEP=1     keep the work dir (page, dumped DOM, browser log)
#
# Needs (Debian): apt-get install chromium; npm install -g speedscope@1.25.0
set -uo pipefail

me=trace_viewer
say() { printf '%s: %s\n' "$me" "$*"; }
fail() { say "FAIL: $*" >&2; exit 1; }
skip() { say "SKIP: $*" >&2; exit 77; }

[ $# -eq 1 ] || { echo "usage: $0 TRACE_JSON" >&2; exit 2; }
trace=$1
[ -f "$trace" ] && [ -r "$trace" ] || fail "$trace: no such readable file"

# --- find the browser and the viewer -----------------------------------
browser=${CHROMIUM:-}
if [ -z "$browser" ]; then
  for b in chromium chromium-browser google-chrome google-chrome-stable; do
    browser=$(command -v "$b") && break
    browser=
  done
fi
[ -n "$browser" ] && command -v "$browser" >/dev/null ||
  skip "chromium is not installed (apt-get install chromium)"

top=$(cd "$(dirname "$0")/../.." && pwd)
if [ -n "${SPEEDSCOPE_DIR:-}" ]; then
  cands=("$SPEEDSCOPE_DIR")
else
  cands=()
  if command -v npm >/dev/null; then
    g=$(timeout 30 npm root -g 2>/dev/null) && [ -n "$g" ] && cands+=("$g/speedscope")
  fi
  cands+=("$PWD/node_modules/speedscope" "$top/node_modules/speedscope")
fi
dist=
for d in "${cands[@]}"; do
  for c in "$d" "$d/dist/release"; do
    if [ -f "$c/index.html" ] && ls "$c"/speedscope-*.js >/dev/null 2>&1; then
      dist=$c
      break 2
    fi
  done
done
[ -n "$dist" ] ||
  skip "speedscope is not installed in ${cands[*]} (npm install -g speedscope@1.25.0, or set SPEEDSCOPE_DIR)"

# --- a private copy of speedscope's page, with the hook -----------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/trace-viewer.XXXXXX") || fail "mktemp failed"
tpid='' pgrp=''
reap() { # end whatever is left of the browser's process group
  [ -n "$pgrp" ] || return 0
  local _
  for _ in $(seq 50); do # renderer and GPU processes may outlive the browser
    kill -0 -- "-$pgrp" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pgrp" 2>/dev/null
  pgrp=''
}
cleanup() {
  if [ -n "$tpid" ]; then kill -TERM "$tpid" 2>/dev/null; wait "$tpid" 2>/dev/null; fi
  reap
  if [ "${TRACE_VIEWER_KEEP:-0}" = 1 ]; then
    echo "$me: kept $tmp (dom.html, report, chromium.log)" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
case $tmp in *[!A-Za-z0-9/._-]*) fail "temporary dir $tmp: unusable characters in its path" ;; esac

www=$tmp/www
mkdir -p "$www" "$tmp/home"
for f in "$dist"/*; do
  [ "${f##*/}" = index.html ] || ln -s "$f" "$www/"
done
sed 's|<head>|<head><script src="trace-viewer-hook.js"></script>|' \
  "$dist/index.html" >"$www/index.html"
grep -q 'trace-viewer-hook.js' "$www/index.html" ||
  fail "$dist/index.html has no <head> to add the hook to (unknown speedscope layout)"

cat >"$www/trace-viewer-hook.js" <<'EOF'
// Added by trace_viewer.sh ahead of speedscope's own script.
(function () {
  'use strict';
  var box = document.createElement('pre');
  box.id = 'trace-viewer-report';
  box.hidden = true;
  document.head.appendChild(box);
  var seen = {}, poll = null, failed = false;
  function rec(kind, msg) {
    if (kind === 'alert' || kind === 'exception') { // give up: stop polling
      failed = true;
      clearInterval(poll);
    }
    // Console output is kept to 40 lines per kind, the rest only counted.
    seen[kind] = (seen[kind] || 0) + 1;
    if (/^(log|info|warn|error)$/.test(kind) && seen[kind] > 40) return;
    var s = String(msg).replace(/\s+/g, ' ').trim().slice(0, 600);
    box.appendChild(document.createTextNode(kind + '\t' + s + '\n'));
  }
  function text(args) {
    return Array.prototype.map.call(args, function (a) {
      if (a && a.stack) return String(a.stack);
      if (a && typeof a === 'object') {
        try { return JSON.stringify(a); } catch (e) { return String(a); }
      }
      return String(a);
    }).join(' ');
  }
  window.alert = function (m) { rec('alert', m); };
  window.confirm = function (m) { rec('alert', m); return false; };
  window.prompt = function (m) { rec('alert', m); return null; };
  ['log', 'info', 'warn', 'error'].forEach(function (k) {
    var orig = console[k];
    console[k] = function () {
      rec(k, text(arguments));
      return orig.apply(console, arguments);
    };
  });
  window.addEventListener('error', function (e) {
    rec('exception', (e.error && e.error.stack ? e.error.stack : e.message) +
      ' (' + e.filename + ':' + e.lineno + ')');
  });
  window.addEventListener('unhandledrejection', function (e) {
    rec('exception', 'unhandled rejection: ' + text([e.reason]));
  });
  rec('agent', navigator.userAgent);
  function key(k) { window.dispatchEvent(new KeyboardEvent('keypress', { key: k })); }
  // The name of the profile on view: the toolbar shows it right after the
  // view tabs, as text when there is one profile, else in a <span> (with
  // "(i/N)" and the list of all profiles).
  function current() {
    var tabs = Array.prototype.filter.call(
      document.querySelectorAll('body div'), function (d) {
        return d.childElementCount <= 1 && /Sandwich$/.test(d.textContent.trim());
      });
    var n = tabs.length && tabs[tabs.length - 1].parentElement;
    n = n && n.nextSibling;
    if (n && n.nodeType === 1) n = n.firstChild && n.firstChild.firstChild;
    return n && n.nodeType === 3 ? n.textContent.trim() : '';
  }
  function symbols() { // the Sandwich view's symbol names
    var syms = [];
    document.querySelectorAll('tr:not([title])').forEach(function (r) {
      var c = r.querySelectorAll('td');
      if (c.length >= 3) syms.push(c[c.length - 1].textContent);
    });
    return syms;
  }
  // Each profile in turn (key "n"), in the Sandwich view: its symbol table
  // is virtualized and renders rows once it knows its height, which it
  // measures in a requestAnimationFrame callback or on a window resize.
  // Frames are not guaranteed while headless Chromium fast-forwards virtual
  // time, so send resize events until rows show (up to 10s of virtual time).
  function visit(i, n, prev) {
    var waited = 0;
    var t = setInterval(function () {
      if (failed) { clearInterval(t); return; }
      var name = current(), syms = symbols();
      if ((!syms.length || (i > 0 && name === prev)) && (waited += 100) < 10000) {
        window.dispatchEvent(new Event('resize'));
        return;
      }
      clearInterval(t);
      rec('shown', i + '\t' + syms.length + '\t' + name);
      syms.forEach(function (s) { rec('symbol', s); });
      if (i + 1 < n) {
        key('n');
        setTimeout(function () { visit(i + 1, n, name); }, 100);
      } else {
        rec('warnings', seen.warn || 0);
        rec('done', 'ok');
      }
    }, 100);
  }
  poll = setInterval(function () {
    if (/Something went wrong/.test(document.body ? document.body.textContent : '')) {
      rec('exception', 'speedscope shows "Something went wrong"');
    }
    if (!/ - speedscope$/.test(document.title)) return;
    clearInterval(poll);
    rec('title', document.title);
    setTimeout(function () { // the Time Order view (flame chart) has rendered
      rec('canvases', document.querySelectorAll('body canvas').length);
      var list = document.querySelectorAll('tr[title]');
      list.forEach(function (r) { rec('profile', r.getAttribute('title')); });
      if (!list.length) rec('profile', current());
      key('3'); // Sandwich view
      setTimeout(function () { visit(0, Math.max(list.length, 1), ''); }, 100);
    }, 1000);
  }, 50);
})();
EOF

# The file name speedscope shows (and puts in the title), made URL- and
# JS-safe; the extension is kept, speedscope's format guess looks at it.
name=$(printf '%s' "${trace##*/}" | LC_ALL=C tr -c 'A-Za-z0-9._-' '_')
{
  printf 'speedscope.loadFileFromBase64("%s", "' "$name"
  base64 -w0 <"$trace" || exit 1
  printf '");\n'
} >"$www/load.js" || fail "cannot encode $trace"

# --- run the viewer -------------------------------------------------------
limit=${TRACE_VIEWER_TIMEOUT:-90}
budget=${TRACE_VIEWER_BUDGET_MS:-120000}
url="file://$www/index.html#localProfilePath=$www/load.js"
t0=$(date +%s%N)
# timeout makes a process group of its own (its pid is the group's id) and
# signals the whole group on expiry; cleanup() signals it too if this
# script is killed, and reap() waits for the group to empty (kills it after
# 5s).
HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home XDG_CACHE_HOME=$tmp/home \
  timeout -k 5 "$limit" "$browser" \
  --headless --no-sandbox --disable-gpu --enable-unsafe-swiftshader \
  --disable-background-networking --disable-component-update --disable-sync \
  --no-first-run --no-default-browser-check --disable-extensions \
  --allow-file-access-from-files \
  --disable-dev-shm-usage --disable-crash-reporter --mute-audio \
  --user-data-dir="$tmp/profile" --window-size=1280,800 \
  --virtual-time-budget="$budget" --dump-dom "$url" \
  >"$tmp/dom.html" 2>"$tmp/chromium.log" </dev/null &
tpid=$! pgrp=$!
wait "$tpid"
rc=$?
tpid=''
reap
secs=$(( ($(date +%s%N) - t0) / 1000000 ))
secs=$(printf '%d.%03d' $((secs / 1000)) $((secs % 1000)))

if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  fail "$browser did not finish within ${limit}s (TRACE_VIEWER_TIMEOUT)"
fi
if [ "$rc" -ne 0 ] || ! grep -q '</html>' "$tmp/dom.html"; then
  tail -n 20 "$tmp/chromium.log" >&2
  fail "$browser exited with status $rc without printing the page"
fi

# --- read what the page recorded --------------------------------------------
unescape() { sed -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&nbsp;/ /g' -e 's/&amp;/\&/g'; }
awk '/<pre id="trace-viewer-report"/ { on = 1; sub(/.*<pre id="trace-viewer-report"[^>]*>/, "") }
  on { if (sub(/<\/pre>.*/, "")) { if ($0 != "") print; exit } print }' \
  "$tmp/dom.html" | unescape >"$tmp/report"
field() { awk -F '\t' -v k="$1" '$1 == k { sub(/^[^\t]*\t/, ""); print }' "$tmp/report"; }
title=$(sed -n 's|.*<title>\([^<]*\)</title>.*|\1|p' "$tmp/dom.html" | head -n 1 | unescape)
version=$(field log | sed -n 's/^speedscope \(v[0-9.]*\).*/\1/p' | head -n 1)
bver=$(timeout 20 "$browser" --version 2>/dev/null | sed -n 's/^\([A-Za-z ]*[0-9][0-9.]*\).*/\1/p')
viewer="speedscope ${version:-?} in headless ${bver:-$browser}"

show_log() { # the page's console and errors, for a failure report
  [ -s "$tmp/report" ] || return 0
  echo "viewer console:" >&2
  grep -v -E '^(agent|profile|shown|symbol|canvases|warnings|done|title)'$'\t' "$tmp/report" |
    grep -v -E 'WebGL|GL Driver|^log'$'\t''speedscope v' | head -n 30 | sed 's/^/  /' >&2
}
why=
[ -n "$(field alert)" ] && why="speedscope said: $(field alert | head -n 3 | paste -sd '|')"
if [ -z "$why" ] && grep -q 'Something went wrong' "$tmp/dom.html"; then
  why="speedscope shows \"Something went wrong\" (its import or rendering threw)"
fi
[ -z "$why" ] && [ -n "$(field exception)" ] &&
  why="uncaught error in the viewer: $(field exception | head -n 1 | cut -c1-160)"
[ -z "$why" ] && [ "$title" != "$name - speedscope" ] &&
  why="no profile was imported (page title is \"$title\", not \"$name - speedscope\")"
[ -z "$why" ] && [ "$(field 'done')" != ok ] &&
  why="the viewer did not finish showing the profile within the ${budget}ms virtual-time budget"
if [ -n "$why" ]; then
  show_log
  fail "$viewer could not open $trace: $why (${secs}s)"
fi

importer=$(field log | sed -n 's/^Importing as //p' | head -n 1)
[ "$importer" = "Trace Event Format profile" ] ||
  fail "speedscope did not read $trace as Chrome trace-event JSON (it imported it as: ${importer:-?})"
canvases=$(field canvases)
[ "${canvases:-0}" -ge 1 ] || fail "the Time Order view rendered no flame chart canvas"

field profile >"$tmp/profiles"
field shown >"$tmp/shown"
field symbol | sed 's/ {.*//' | awk '!seen[$0]++' >"$tmp/symbols"
nprof=$(grep -c . "$tmp/profiles")
[ "$nprof" -ge 1 ] || fail "speedscope lists no profile for $trace"
# Every profile was brought on view, under its own name, with symbols.
[ "$(grep -c . "$tmp/shown")" -eq "$nprof" ] &&
  [ "$(cut -f3 "$tmp/shown" | sort -u | grep -c .)" -eq "$nprof" ] ||
  fail "could not bring each of speedscope's $nprof profiles on view in turn"
empty=$(awk -F '\t' '$2 == 0 { print $3 }' "$tmp/shown" | paste -sd ';')
[ -z "$empty" ] || fail "speedscope's Sandwich view lists no symbol for: $empty"

# Thread names the trace declares ("thread_name" metadata events).
ws='[[:space:]]*'
grep -o -E "\"thread_name\"$ws,$ws\"args\"$ws:$ws\\{$ws\"name\"$ws:$ws\"[^\"]*\"" "$trace" |
  sed -E 's/.*"([^"]*)"$/\1/' | sort -u >"$tmp/threads"
matched=
if [ -s "$tmp/threads" ]; then
  while IFS= read -r t; do
    grep -qF -- "$t" "$tmp/profiles" && matched="$matched${matched:+, }$t"
  done <"$tmp/threads"
  [ -n "$matched" ] ||
    fail "no profile speedscope lists carries a thread name from the trace"
fi

nsym=$(grep -c . "$tmp/symbols")
known=
while IFS= read -r s; do
  grep -qF -- "\"$s\"" "$trace" && known="$known${known:+, }$s"
done <"$tmp/symbols"
[ -n "$known" ] || fail "none of the symbols speedscope shows is an event name in $trace"

if [ -n "${TRACE_VIEWER_EXPECT:-}" ]; then
  IFS=, read -r -a want <<<"$TRACE_VIEWER_EXPECT"
  for w in "${want[@]}"; do
    [ -n "$w" ] || continue
    grep -qF -- "$w" "$tmp/profiles" "$tmp/symbols" ||
      fail "\"$w\" (TRACE_VIEWER_EXPECT) is not among the profiles or symbols speedscope shows"
  done
fi

nwarn=$(field warnings)
warnings=$(field warn)
if [ "${nwarn:-0}" -gt 0 ] && [ "${TRACE_VIEWER_STRICT:-0}" = 1 ]; then
  printf '%s\n' "$warnings" | sed 's/^ts=[^:]*: //' | awk '!seen[$0]++' |
    head -n 5 | cut -c1-200 | sed 's/^/  /' >&2
  fail "speedscope printed $nwarn warnings while importing $trace (TRACE_VIEWER_STRICT=1)"
fi

say "OK: $viewer opened $trace (${secs}s)"
echo "  title:    $title"
echo "  profiles: $nprof: $(paste -sd ';' "$tmp/profiles" | sed 's/;/; /g')"
[ -n "$matched" ] && echo "  thread names shown: $matched"
echo "  symbols:  $nsym distinct in the Sandwich view of each profile; event names among them: $known"
if [ "${nwarn:-0}" -gt 0 ]; then
  echo "  speedscope warnings: $nwarn (TRACE_VIEWER_STRICT=1 fails on them), e.g.:"
  printf '%s\n' "$warnings" | sed 's/^ts=[^:]*: //' | awk '!seen[$0]++' |
    head -n 3 | cut -c1-200 | sed 's/^/    /'
fi
exit 0
