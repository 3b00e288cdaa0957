#!/bin/sh
# ctl-hostile.sh SHADE GUESTDIR: hostile clients of the control socket never take the
# host down nor hold up other clients. A one-VM host (share-idle, idling) with --ctl is
# fed, in turn: clients that send a request and close before reading the answer;
# a client that sends half a line and stays, while another asks query-vms; a line with
# a NUL byte; malformed JSON, binary garbage, trailing bytes, nesting deeper than
# json-c's limit, "arguments" that is not an object, an unknown command (class
# CommandNotFound, not "no such VM"); a 4 MiB line (an error answer, then the client
# is dropped); 64 clients connected at once, each answered; and after all that the host
# still answers and its VM still runs. Then: a second host on the same live socket is
# refused, --ctl naming a regular file is refused and leaves it alone, and SIGHUP ends
# the host cleanly (status 4 from the signal, its socket file removed); a stale socket
# file (a killed host's) is taken over by the next host. Every client
# has a socket timeout as a hang guard (30 s), far above what any answer needs.
set -u
shade=$1 guests=$2
. "$(dirname "$0")/lib.sh"
need_kvm
make_tmp
start_host() {
	"$shade" host --quiet --log-dir "$tmp" --share-rate 0 --swap-dir "$tmp" --ctl "$1" \
		--vm a --mem 32M --kernel "$guests/share-idle.elf" --cmdline "pages=16 idle=600 storm=0" \
		2>"$tmp/err" &
	pid=$!
	i=0
	while [ $i -lt 200 ] && ! "$shade" ctl "$1" - query-vms >/dev/null 2>&1; do
		i=$((i + 1)); sleep 0.1
	done
}
start_host "$tmp/ctl"
check "the host answers query-vms" '"$shade" ctl "$tmp/ctl" - query-vms | grep -q "\"running\":true"'

python3 - "$tmp/ctl" >"$tmp/py.out" 2>&1 <<'EOF'
import json, socket, sys, threading
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)               # hang guard
    s.connect(path)
    return s
def answer(s):
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(65536)
        if not d:
            break
        buf += d
    return buf
def ask(line):
    s = conn()
    s.sendall(line + b"\n")
    a = answer(s)
    s.close()
    return json.loads(a) if a else None
def check(name, ok):
    print(("ok - " if ok else "not ok - ") + name)
def error_of(a):
    return a.get("error", {}) if isinstance(a, dict) else {}
try:
    for i in range(20):
        s = conn()
        s.sendall(b'{"execute":"query-memsched"}\n{"execute":"query-vms"}\n')
        s.close()
    check("20 clients that close before reading: the host still answers",
          "return" in ask(b'{"execute":"query-vms"}'))
    half = conn()
    half.sendall(b'{"execute":"query-')
    a = ask(b'{"execute":"query-vms"}')
    check("a client with half a line does not hold up another", a and "return" in a)
    half.close()
    a = ask(b'{"execute":"query-vms"}\x00{"execute":"balloon"}')
    check("a NUL byte in a line is a malformed request", "malformed" in error_of(a).get("desc", ""))
    for name, line in [("malformed JSON", b'{"execute": "query-vms"'),
                       ("binary garbage", bytes(range(1, 10)) + bytes(range(11, 256))),
                       ("trailing bytes", b'{"execute":"query-vms"} {"execute":"query-vms"}'),
                       ("deep nesting", b"[" * 10000),
                       ("invalid UTF-8", b'{"execute":"query-vms\xff"}'),
                       ("an empty line", b""),
                       ("a JSON value that is not an object", b'"query-vms"'),
                       ("arguments not an object", b'{"execute":"balloon","arguments":[1]}'),
                       ("a VM name that is not a string", b'{"execute":"balloon","arguments":{"vm":1}}'),
                       ("balloon of a negative size", b'{"execute":"balloon","arguments":{"vm":"a","value":-4096}}')]:
        a = ask(line)
        check(name + ": an error answer", a is not None and "error" in a)
    a = ask(b'{"execute":"frobnicate","arguments":{"vm":"a"}}')
    check("an unknown command is CommandNotFound", error_of(a).get("class") == "CommandNotFound")
    a = ask(b'{"execute":"frobnicate"}')
    check("an unknown command without a VM is CommandNotFound, not 'no such VM'",
          error_of(a).get("class") == "CommandNotFound" and "VM" not in error_of(a).get("desc", ""))
    a = ask(b'{"execute":"query-balloon","arguments":{"vm":"zz"}}')
    check("a known command of an unknown VM: no such VM", "no such VM" in error_of(a).get("desc", ""))
    s = conn()
    big = b'{"execute":"query-vms","arguments":{"x":"' + b"x" * (4 << 20) + b'"}}\n'
    got = b""
    def reader():
        global got
        got = answer(s)
        try:
            while s.recv(65536):
                pass
        except OSError:
            pass
    t = threading.Thread(target=reader)
    t.start()
    try:
        s.sendall(big)
    except OSError:
        pass                       # dropped mid-send: expected
    t.join()
    s.close()
    check("a 4 MiB line: an error answer saying the line is too long",
          "longer than" in error_of(json.loads(got) if got else {}).get("desc", ""))
    socks = [conn() for i in range(64)]
    for s in socks:
        s.sendall(b'{"execute":"query-vms"}\n')
    answers = [answer(s) for s in socks]
    for s in socks:
        s.close()
    check("64 clients at once: every one answered",
          all(a and "return" in json.loads(a) for a in answers))
    check("after all that the host answers and its VM runs",
          ask(b'{"execute":"query-vms"}')["return"][0]["running"])
except Exception as e:
    print("not ok - the clients failed: %r" % (e,))
EOF
cat "$tmp/py.out"
check "every hostile client handled" '! grep -q "^not ok" "$tmp/py.out" && grep -q "^ok" "$tmp/py.out"'
check "the host is still running" 'kill -0 $pid'

"$shade" host --quiet --log-dir "$tmp" --swap-dir "$tmp" --ctl "$tmp/ctl" \
	--vm b --kernel "$guests/share-idle.elf" >/dev/null 2>"$tmp/err2"
st=$?
check "a second host on the live socket is refused (status $st: $(cat "$tmp/err2"))" \
	'[ $st -eq 2 ] && [ $(wc -l <"$tmp/err2") -eq 1 ] && "$shade" ctl "$tmp/ctl" - query-vms >/dev/null'
echo data >"$tmp/file"
"$shade" host --quiet --log-dir "$tmp" --swap-dir "$tmp" --ctl "$tmp/file" \
	--vm b --kernel "$guests/share-idle.elf" >/dev/null 2>"$tmp/err2"
st=$?
check "--ctl naming a regular file is refused and the file kept (status $st)" \
	'[ $st -eq 2 ] && grep -q "^data$" "$tmp/file"'

kill -HUP $pid
wait $pid
st=$?
pid=
check "SIGHUP ends the host (status $st, 4 for a stop by signal)" '[ $st -eq 4 ]'
check "and removes its socket file" '[ ! -e "$tmp/ctl" ]'

# A socket file left by a host that was killed (-9) is taken over by the next host.
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$tmp/ctl"
start_host "$tmp/ctl"
check "a stale socket file is taken over" '"$shade" ctl "$tmp/ctl" - query-vms >/dev/null'
kill -TERM $pid
wait $pid
pid=
check "SIGTERM removes the socket file too" '[ ! -e "$tmp/ctl" ]'
exit $fail
