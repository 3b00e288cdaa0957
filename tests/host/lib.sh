# lib.sh: what every host test shares, sourced as . "$(dirname "$0")/lib.sh":
#   need_kvm           skip (exit 77, ctest's SKIP_RETURN_CODE) without read/write /dev/kvm
#   check NAME EXPR    evaluate EXPR: print "ok - NAME" or "not ok - NAME" and set fail=1
#   stat_of FILE KEY   the value of a `--stats` line "KEY VALUE" in FILE
#   make_tmp           $tmp, a fresh directory; at exit a background shade in $pid (if
#                      set) is killed, $mnt (if set) unmounted, and $tmp removed
# Inside EXPR, $1, $2... are check's own arguments: use named variables.
fail=0
need_kvm() {
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "SKIP: /dev/kvm is not available (needs read/write access)"
		exit 77
	fi
}
stat_of() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fail=1; fi; }
pid= mnt= tmp=
make_tmp() {
	tmp=$(mktemp -d)
	trap '[ -n "$pid" ] && kill $pid 2>/dev/null; [ -n "$mnt" ] && umount "$mnt"; rm -rf "$tmp"' EXIT
}
