#!/bin/sh
# run-hostile.sh: run the hostile guest (guest-images/hostile/) for S seeds and sort
# what shade did with it. What is checked is the VMM, never the guest:
#
#   run-hostile.sh shade SHADE HOSTILE.ELF [SEEDS [FIRST]]   one `shade run --audit` per seed
#   run-hostile.sh qemu  -     HOSTILE.ELF [SEEDS [FIRST]]   the guest under QEMU TCG: every
#                                                          seed must finish its rounds
#   run-hostile.sh host  SHADE HOSTILE.ELF OSDIR [VMS [FIRST]]  VMS hostile VMs in one
#                      `shade host --audit` next to a VM of the bundled OS running verify
#
# Environment: ROUNDS (rounds per seed, 40), MEM (guest RAM, 64M), STALL (a hang: no
# console output for this many seconds, 240), TIMEOUT (seconds per seed, 3600), OUT (keep every transcript in this directory), SHADE_ARGS
# (more `shade run` options), HOSTILE_ARGS (more guest command-line words, e.g.
# skip=desc or only=pt), KNOWN (the known-failures file, next to this script).
#
# Outcomes per seed (shade mode):
#   done     the guest printed "hostile: done" and exited through port 0xf4
#   died     a guest triple fault, a HLT with interrupts off, a debug-exit write by
#            random code: what a real CPU would do too
#   limit    a stop shade reports by design (guest-physical memory outside RAM, real or
#            virtual-8086 mode, a GDT over the monitor's entries, a device access in a
#            form shade does not run against a device: x87/SSE operands, 16-bit code)
#   known    a stop listed in KNOWN (a known shade bug; printed with its reproducer)
#   FAIL     anything else: a sanitizer report, a signal, a shade internal error, an
#            audit violation, a hang, an emulator stop not in KNOWN
# Exit status 0 when no seed failed, 1 otherwise, 77 without /dev/kvm (or QEMU).
# Reproduce one seed: shade run --audit --mem 64M --cmdline "seed=S rounds=R" HOSTILE.ELF;
# one round of it: add first=N rounds=N+1.
set -u
mode=${1:-} bin=${2:-} elf=${3:-}
[ $# -ge 3 ] || { echo "usage: run-hostile.sh shade|qemu|host SHADE|- HOSTILE.ELF [OSDIR] [N [FIRST]]" >&2; exit 2; }
shift 3
os=
if [ "$mode" = host ]; then
	os=${1:-}
	[ -n "$os" ] || { echo "run-hostile.sh: host mode needs OSDIR" >&2; exit 2; }
	shift
fi
seeds=${1:-10} first=${2:-1}
rounds=${ROUNDS:-40} mem=${MEM:-64M} tmo=${TIMEOUT:-3600} stall=${STALL:-240}
known=${KNOWN:-$(dirname "$0")/known-failures}
case $seeds$first$rounds$tmo$stall in *[!0-9]*) echo "run-hostile.sh: bad number" >&2; exit 2;; esac
[ -r "$elf" ] || { echo "run-hostile.sh: cannot read $elf" >&2; exit 2; }
if [ "$mode" = qemu ]; then
	command -v qemu-system-x86_64 >/dev/null 2>&1 || { echo "SKIP: qemu-system-x86_64 is not installed"; exit 77; }
else
	[ -x "$bin" ] || { echo "run-hostile.sh: $bin is not executable" >&2; exit 2; }
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "SKIP: /dev/kvm is not available (needs read/write access)"
		exit 77
	fi
fi
extra=$(awk -F'\t' '$1 == "WORKAROUND" { printf " %s", $2 }' "$known")${HOSTILE_ARGS:+ $HOSTILE_ARGS}
out=${OUT:-}
if [ -z "$out" ]; then
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

# guarded FILES CMD...: CMD's status, or 124 once FILES (a glob: the guests' consoles,
# one line per operation) have not grown for $stall s or $tmo s have passed. A hang guard
# that does not mistake a slow, loaded machine for a hang.
guarded() {
	g_out=$1
	shift
	"$@" &
	g_pid=$! g_last=-1 g_still=0 g_t=0
	while kill -0 $g_pid 2>/dev/null; do
		sleep 2
		g_t=$((g_t + 2))
		g_sz=$(cat $g_out 2>/dev/null | wc -c)
		if [ "$g_sz" = "$g_last" ]; then g_still=$((g_still + 2)); else g_still=0 g_last=$g_sz; fi
		if [ $g_still -ge "$stall" ] || [ $g_t -ge "$tmo" ]; then
			kill $g_pid 2>/dev/null
			wait $g_pid
			return 124
		fi
	done
	wait $g_pid
}

# classify ERRFILE STATUS OUTFILE: sets $cls (one word) and $why (the line that decided it)
classify() {
	why=$(grep -a -m1 -E "ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|SUMMARY: .*Sanitizer" "$1")
	[ -n "$why" ] && { cls=FAIL; return; }
	if [ "$2" -eq 124 ]; then why="hang: no output for ${stall}s (or no end in ${tmo}s)"; cls=FAIL; return; fi
	if [ "$2" -ge 128 ]; then why="shade killed by signal $(($2 - 128))"; cls=FAIL; return; fi
	why=$(grep -a -E '^shade: ' "$1" | grep -v 'stopped by signal' | tail -n 1)
	if [ "$2" -eq 1 ] && grep -q '^hostile: done' "$3"; then cls=done; return; fi
	case $why in
	*"shadow MMU audit"*) cls=FAIL ;;
	*"guest triple fault (shutdown)"*|*"guest halted with interrupts disabled"*|*"to the debug-exit port"*)
		cls=died ;;
	*"outside its RAM"*|*"lie outside guest RAM"*|*"real mode is not supported"*|*"virtual-8086 mode: not supported"*|*"reserved for shade's monitor"*|*"reaches the monitor's descriptors"*|*"against the device at guest-physical"*)
		cls=limit ;;
	"") why="status $2 without a report"; cls=FAIL ;;
	*)
		if awk -F'\t' '!/^#/ && $1 != "WORKAROUND" && NF >= 2 { print $1 }' "$known" |
			while read -r re; do printf '%s\n' "$why" | grep -qE -- "$re" && echo y; done | grep -q y; then
			cls=known
		else
			cls=FAIL
		fi ;;
	esac
}

total=0 nfail=0 ndone=0 ndied=0 nlimit=0 nknown=0
tally() {
	total=$((total + 1))
	case $1 in
	done) ndone=$((ndone + 1)) ;; died) ndied=$((ndied + 1)) ;; limit) nlimit=$((nlimit + 1)) ;;
	known) nknown=$((nknown + 1)) ;; *) nfail=$((nfail + 1)) ;;
	esac
}

last=$((first + seeds - 1))
case $mode in
shade)
	for s in $(seq "$first" "$last"); do
		cmd="seed=$s rounds=$rounds$extra"
		guarded "$out/$s.out" "$bin" run --audit --mem "$mem" ${SHADE_ARGS:-} --cmdline "$cmd" "$elf" \
			>"$out/$s.out" 2>"$out/$s.err" </dev/null
		st=$?
		classify "$out/$s.err" "$st" "$out/$s.out"; c=$cls
		tally "$c"
		r=$(grep -c '^round ' "$out/$s.out")
		echo "seed $s: $c after $r rounds${why:+: $why}"
		if [ "$c" = FAIL ] || [ "$c" = known ]; then
			echo "  reproduce: $bin run --audit --mem $mem --cmdline \"seed=$s first=$((r - 1)) rounds=$r$extra\" $elf"
			[ "$c" = FAIL ] && grep -a -v '^shade: ' "$out/$s.err" | head -n 20 | sed 's/^/  | /'
		fi
	done
	;;
qemu)
	for s in $(seq "$first" "$last"); do
		guarded "$out/$s.out" qemu-system-x86_64 -accel tcg -cpu max -m "$mem" -nodefaults -display none \
			-no-reboot -serial stdio -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
			-device virtio-balloon-pci,disable-modern=on \
			-kernel "$elf" -append "seed=$s rounds=$rounds$extra" >"$out/$s.out" 2>&1 </dev/null
		st=$?
		c=FAIL why=
		[ "$st" -eq 1 ] && grep -q '^hostile: done' "$out/$s.out" && c=done
		tally "$c"
		echo "seed $s: $c (status $st, $(grep -c '^round ' "$out/$s.out") rounds): $(tail -n 1 "$out/$s.out")"
	done
	;;
host)
	set -- --vm os --mem 64M --kernel "$os/kernel.elf" --module "$os/initrd.tar" \
		--cmdline "-- verify 8 passes=2; memtouch 8 fill=seed:5 ws=50 rate=2000 time=2"
	for s in $(seq "$first" "$last"); do
		set -- "$@" --vm "h$s" --mem "$mem" --kernel "$elf" --cmdline "seed=$s rounds=$rounds$extra"
	done
	guarded "$out/*.log" "$bin" host --quiet --audit --log-dir "$out" --share-rate 2000 ${SHADE_ARGS:-} "$@" \
		>"$out/host.out" 2>"$out/host.err" </dev/null
	st=$?
	for s in $(seq "$first" "$last"); do
		grep -a "^shade: h$s: \|^h$s: " "$out/host.err" >"$out/h$s.err"
		grep -a -E "Sanitizer|runtime error:" "$out/host.err" >>"$out/h$s.err"
		classify "$out/h$s.err" 1 "$out/h$s.log"; c=$cls
		tally "$c"
		echo "vm h$s: $c after $(grep -c '^round ' "$out/h$s.log") rounds${why:+: $why}"
	done
	ok=FAIL
	grep -q "^verify: 8 MiB, 2 passes, 0 corrupted pages" "$out/os.log" &&
		grep -q "^memtouch: checked [0-9]* pages, 0 bad" "$out/os.log" && ok=done
	[ "$st" -ge 5 ] && ok=FAIL
	grep -a -q -E "Sanitizer|runtime error:" "$out/host.err" && ok=FAIL
	tally "$ok"
	echo "vm os (verify, memtouch): $ok; shade host status $st"
	[ "$ok" = FAIL ] && tail -n 5 "$out/os.log" "$out/host.err" | sed 's/^/  | /'
	;;
*) echo "run-hostile.sh: unknown mode '$mode'" >&2; exit 2 ;;
esac
echo "hostile: $total runs: $ndone done, $ndied died, $nlimit limit, $nknown known, $nfail failed"
[ "$nfail" -eq 0 ]
