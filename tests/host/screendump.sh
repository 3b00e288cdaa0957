#!/bin/sh
# screendump.sh SHADE GUESTDIR: the VM's text screen (0xb8000), read through the control
# socket while the guest runs and printed when the VM stops. The pc-devices guest writes
# "shade pc-devices guest" on the first row and, with "hold", keeps running: `shade ctl
# ... screendump` must print that row; a VM that is not there is refused (status 2);
# SIGTERM ends the host and the stop report on stderr shows the same screen with the
# cursor where the guest put it (row 0, column 22). Hang guards: 120 s for the guest's
# line, the guest's own 300 s hold.
set -u
shade=$1 guests=$2
. "$(dirname "$0")/lib.sh"
need_kvm
make_tmp
"$shade" host --quiet --log-dir "$tmp" --share-rate 0 --ctl "$tmp/ctl" \
	--vm a --mem 32M --kernel "$guests/pc-devices.elf" --cmdline "hold" 2>"$tmp/err" &
pid=$!
i=0
while ! grep -q "^# holding the screen" "$tmp/a.log" 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 600 ] && break; sleep 0.2
done
check "the guest passed its checks and holds its screen" 'grep -q "^# holding the screen" "$tmp/a.log" && ! grep -q "^not ok" "$tmp/a.log"'
"$shade" ctl "$tmp/ctl" a screendump >"$tmp/screen" 2>"$tmp/ctl.err"
st=$?
check "screendump answers (status $st)" '[ $st -eq 0 ]'
check "screendump shows the guest's row: $(head -c 80 "$tmp/screen")" '[ "$(head -n 1 "$tmp/screen")" = "shade pc-devices guest" ]'
"$shade" ctl "$tmp/ctl" nosuchvm screendump >/dev/null 2>"$tmp/ctl.err"
st=$?
check "screendump of a VM that does not exist: status 2 ($st)" '[ $st -eq 2 ]'
kill -TERM $pid
wait $pid
pid=
check "the stop report shows the screen" 'grep -q "text screen at stop (cursor at row 0 column 22)" "$tmp/err" && grep -qx "shade pc-devices guest" "$tmp/err"'
[ "$fail" -eq 0 ] || { echo "--- stderr"; tail -20 "$tmp/err"; echo "--- log"; tail -5 "$tmp/a.log"; }
exit "$fail"
