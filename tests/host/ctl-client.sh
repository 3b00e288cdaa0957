#!/bin/sh
# ctl-client.sh SHADE [GUESTDIR]: the clients of the control socket, `shade ctl` and
# `shade top`, against a fake host (python3) that answers what a broken or hostile host
# could: a "return" that is not an object, an answer that is not an object or not JSON,
# an error without a description, no answer, an answer longer than a client takes, no
# newline. Each must give one line on stderr and a non-zero status, never a crash (a
# status above 128). Needs no /dev/kvm.
set -u
shade=$1
. "$(dirname "$0")/lib.sh"
make_tmp

# The fake host: answers the Nth connection with the Nth line of $tmp/answers ("CLOSE":
# none; "BIG": 2 MiB without a newline), then exits.
python3 - "$tmp/sock" "$tmp/answers" >"$tmp/fake.log" 2>&1 <<'EOF' &
import socket, sys
path, answers = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(8)
open(path + ".ready", "w").close()
s.settimeout(120)                      # hang guard
for line in open(answers, "rb").read().split(b"\n")[:-1]:
    c, _ = s.accept()
    c.settimeout(30)
    buf = b""
    while not buf.endswith(b"\n"):
        d = c.recv(4096)
        if not d:
            break
        buf += d
    try:
        if line == b"BIG":
            c.sendall(b'{"return": "' + b"x" * (2 << 20))
        elif line != b"CLOSE":
            c.sendall(line + b"\n")
    except OSError:
        pass                           # the client stopped reading: what BIG is for
    c.close()
EOF
pid=$!

# case NAME WANT COMMAND...: the command's status is WANT, with one line on stderr
n=0
case_() {
	name=$1 want=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	st=$?
	check "$name (status $st, want $want): $(head -c 200 "$tmp/err")" \
		'[ $st -eq $want ] && [ $(wc -l <"$tmp/err") -eq 1 ]'
}
cat >"$tmp/answers" <<'EOF'
{"return": 5}
{"return": [1, 2]}
{"return": "text"}
[1, 2]
"just a string"
not JSON at all
{}
{"error": 5}
{"error": {"class": "GenericError", "desc": 7}}
CLOSE
BIG
{"return": {"state": "high", "vms": 5}}
{"return": {"state": "high", "vms": [5, "x", null]}}
{"return": 7}
EOF
i=0
while [ $i -lt 100 ] && [ ! -e "$tmp/sock.ready" ]; do i=$((i + 1)); sleep 0.1; done
ctl="$shade ctl $tmp/sock"
case_ "query-memstats: a return that is a number" 4 $ctl a query-memstats
case_ "query-memstats: a return that is an array" 4 $ctl a query-memstats
case_ "query-memstats: a return that is a string" 4 $ctl a query-memstats
case_ "an answer that is an array" 4 $ctl a query-balloon
case_ "an answer that is a string" 4 $ctl a query-balloon
case_ "an answer that is not JSON" 4 $ctl a query-balloon
case_ "an answer with neither return nor error" 4 $ctl a query-balloon
case_ "an error that is not an object" 2 $ctl a query-balloon
case_ "an error whose desc is not a string" 2 $ctl a query-balloon
case_ "no answer at all" 4 $ctl a query-balloon
case_ "an answer longer than 1 MiB" 4 $ctl a query-balloon
# shade top prints a panel with no VM rows for a malformed VM list, and refuses a
# return that is not an object
"$shade" top -n 1 "$tmp/sock" >"$tmp/out" 2>"$tmp/err"
st=$?
check "top: a VM list that is not an array: the panel, no rows (status $st)" '[ $st -eq 0 ]'
"$shade" top -n 1 -b "$tmp/sock" >"$tmp/out" 2>"$tmp/err"
st=$?
check "top -b: VM entries that are not objects: no crash (status $st)" '[ $st -lt 128 ]'
case_ "top: a return that is not an object" 4 "$shade" top -n 1 "$tmp/sock"
wait $pid
pid=
exit $fail
