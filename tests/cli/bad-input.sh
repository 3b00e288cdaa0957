#!/bin/sh
# bad-input.sh SHADE GUESTDIR: every kind of bad input gets one line on stderr that says
# what is wrong, a non-zero exit status (2 for bad input), and no crash (no signal, no
# sanitizer or assertion output), and never a hang (each run has a hang guard of 60 s).
set -u
shade=$1 guests=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# expect NAME STATUS PATTERN -- ARGS...: run shade, check status and the error line.
expect() {
	name=$1 want=$2 pat=$3
	shift 4
	timeout 60 "$shade" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	got=$?
	lines=$(wc -l <"$tmp/err")
	if [ "$got" -eq "$want" ] && grep -q -- "$pat" "$tmp/err" && [ "$lines" -le 1 ]; then
		pass=$((pass + 1)); echo "ok - $name"
	else
		fail=$((fail + 1)); echo "not ok - $name (status $got, want $want; stderr:)"; cat "$tmp/err"
	fi
}

# expect_help NAME -- ARGS...: the full help on stdout, nothing on stderr, status 0.
expect_help() {
	name=$1
	shift 2
	timeout 60 "$shade" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -eq 0 ] && [ "$(wc -l <"$tmp/out")" -ge 3 ] && [ ! -s "$tmp/err" ] &&
	   grep -q "usage: shade" "$tmp/out"; then
		pass=$((pass + 1)); echo "ok - $name"
	else
		fail=$((fail + 1)); echo "not ok - $name (status $got)"; cat "$tmp/err"
	fi
}

# Images that need no KVM: they must be refused while loading.
printf 'hello, not a kernel\n' >"$tmp/text"
head -c 100000 /dev/zero >"$tmp/zeros"
cp /bin/true "$tmp/elf-no-multiboot"
# A multiboot header with a wrong checksum, then one with unsupported required flags.
printf '\002\260\255\033\000\000\000\000\000\000\000\000' >"$tmp/badsum"
printf '\002\260\255\033\010\000\000\000\366\117\122\344' >"$tmp/badflags"

expect "no command" 2 "no command" --
expect "unknown command" 2 "unknown command" -- frobnicate
expect "run without kernel" 2 "no KERNEL" -- run
expect "bad --mem" 2 "bad --mem" -- run --mem lots "$tmp/text"
expect "bad --resume" 2 "bad --resume" -- run --resume sideways "$tmp/text"
expect "host without VMs" 2 "no VM given" -- host
expect "host VM option before --vm" 2 "before any --vm" -- host --kernel "$tmp/text"
expect "host VM without kernel" 2 "no --kernel" -- host --vm a
expect "host bad VM name" 2 "bad VM name" -- host --vm "a/b" --kernel "$tmp/text"
expect "host duplicate VM" 2 "two VMs named" -- host --vm a --kernel "$tmp/text" --vm a --kernel "$tmp/text"
expect "host bad --clones" 2 "bad --clones" -- host --vm a --kernel "$tmp/text" --clones 0
expect "host clones named as another VM" 2 "two VMs named 'a1'" -- host --vm a --kernel "$tmp/text" --clones 2 --vm a1 --kernel "$tmp/text"
expect "host too many VMs with clones" 2 "too many VMs with clones" -- host --vm a --kernel "$tmp/text" --clones 64 --vm b --kernel "$tmp/text"
expect "host bad --machine-mem" 2 "bad --machine-mem" -- host --machine-mem 12x --vm a --kernel "$tmp/text"
expect "host stray argument" 2 "unexpected argument" -- host --vm a --kernel "$tmp/text" extra
expect "host bad --tau" 2 "bad --tau" -- host --tau 100 --vm a --kernel "$tmp/text"
expect "host bad --alloc-ms" 2 "bad --alloc-ms" -- host --alloc-ms 5 --vm a --kernel "$tmp/text"
expect "host bad --wss-pages" 2 "bad --wss-pages" -- host --wss-pages 0 --vm a --kernel "$tmp/text"
expect "host bad --wss-clock" 2 "bad --wss-clock" -- host --wss-clock cpu --vm a --kernel "$tmp/text"
expect "ctl shares without a number" 2 "shares needs" -- ctl "$tmp/no-such-socket" a shares
expect "ctl bad tau" 2 "tau needs" -- ctl "$tmp/no-such-socket" - tau 1e3
expect "ctl min bad size" 2 "min needs" -- ctl "$tmp/no-such-socket" a min 12x
expect "ctl with no host there" 2 "cannot talk" -- ctl "$tmp/no-such-socket" a shares 10
expect "host bad --swap-size" 2 "bad --swap-size" -- host --swap-size 1x --vm a --kernel "$tmp/text"
expect "host --min above --mem" 2 "larger than --mem" -- host --vm a --kernel "$tmp/text" --mem 64M --min 65M
expect "host bad --shares" 2 "bad --shares" -- host --vm a --kernel "$tmp/text" --shares -3
expect "host --min before any --vm" 2 "before any --vm" -- host --min 4M
expect "top without socket" 2 "no SOCKET given" -- top
expect "top with no host there" 2 "cannot reach" -- top -n 1 "$tmp/no-such-socket"
expect "top bad -d" 2 "bad -d" -- top -d 0 "$tmp/no-such-socket"

# A usage error is one line, not the help; --help is the help.
expect "run: unknown option" 2 "unknown or ambiguous option '--foo'" -- run --foo "$tmp/text"
expect "run: unknown short option" 2 "unknown option '-x'" -- run -x "$tmp/text"
expect "run: option without its argument" 2 "option '--mem' needs an argument" -- run --mem
expect "run: option with an unwanted argument" 2 "'--stats' takes no argument" -- run --stats=1 "$tmp/text"
expect "host: unknown option" 2 "unknown or ambiguous option '--foo'" -- host --foo
expect "host: option without its argument" 2 "option '--tau' needs an argument" -- host --vm a --kernel "$tmp/text" --tau
expect "top: unknown option" 2 "unknown or ambiguous option '--foo'" -- top --foo x
expect "top: unknown short option" 2 "unknown option '-x'" -- top -x s
expect "ctl: too few arguments" 2 "needs SOCKET VM COMMAND" -- ctl "$tmp/no-such-socket"
expect_help "shade --help" -- --help
expect_help "run --help" -- run --help
expect_help "host --help" -- host --help
expect_help "top --help" -- top --help
expect_help "ctl --help" -- ctl --help

# Numbers are plain digits: no blank, no sign (strtoul took " -1" as 2^64 - 1).
tab=$(printf '\t')
expect "run: --mem with a blank and a minus" 2 "bad --mem" -- run --mem "$tab-4096" "$tmp/text"
expect "run: --mem ' -1'" 2 "bad --mem" -- run --mem " -1" "$tmp/text"
expect "run: --mem -0x10" 2 "bad --mem" -- run --mem -0x10 "$tmp/text"
expect "run: --machine-mem with a blank and a minus" 2 "bad --machine-mem" -- run --machine-mem "$tab-4096" "$tmp/text"
expect "run: --balloon with a blank and a minus" 2 "bad --balloon" -- run --balloon " -4096" "$tmp/text"
expect "run: --shadow-max with a leading blank" 2 "bad --shadow-max" -- run --shadow-max " 20" "$tmp/text"
expect "run: --share-rate ' -1'" 2 "bad --share-rate" -- run --share-rate " -1" "$tmp/text"
expect "host: --tau with a leading blank" 2 "bad --tau" -- host --tau " 5" --vm a --kernel "$tmp/text"
expect "host: --min with a blank and a minus" 2 "bad --min" -- host --vm a --kernel "$tmp/text" --min "$tab-4096"
expect "host: --swap-size ' -1'" 2 "bad --swap-size" -- host --swap-size " -1" --vm a --kernel "$tmp/text"
expect "top: -d with a leading blank" 2 "bad -d" -- top -d " 1" "$tmp/no-such-socket"
expect "top: -d in exponent form" 2 "bad -d" -- top -d 1e1 "$tmp/no-such-socket"
expect "top: -n ' -1'" 2 "bad -n" -- top -n " -1" "$tmp/no-such-socket"
expect "ctl: balloon ' -4096'" 2 "balloon needs" -- ctl "$tmp/no-such-socket" a balloon " -4096"
expect "ctl: shares ' 5'" 2 "shares needs" -- ctl "$tmp/no-such-socket" a shares " 5"
expect "size above 2^64" 2 "bad --mem" -- run --mem 99999999999999999999 "$tmp/text"
expect "run: an empty KERNEL" 2 "KERNEL must be a path" -- run ""
expect "run: an empty --module" 2 "module needs a path" -- run -M "" "$tmp/text"
expect "host: an empty --ctl" 2 "ctl needs a path" -- host --ctl "" --vm a --kernel "$tmp/text"
expect "host: an empty --swap-dir" 2 "swap-dir needs a path" -- host --swap-dir "" --vm a --kernel "$tmp/text"
expect "host: an empty --kernel" 2 "kernel needs a path" -- host --vm a --kernel ""
expect "host: --swap-size 99999999G" 2 "bad --swap-size" -- host --swap-size 99999999G --vm a --kernel "$tmp/text"
expect "a newline in an argument: still one line" 2 "bad --mem" -- run --mem "$(printf '1\n2')" "$tmp/text"
expect "host: a VM option before --vm names the option" 2 "^shade: error: --mem comes before any --vm" -- host --mem 64M --vm a --kernel "$tmp/text"
# Sizes that no VM can have are refused before any is set up.
expect "run: --mem 99999999G" 2 "bad --mem" -- run --mem 99999999G "$tmp/text"
expect "run: --machine-mem 99999999G" 2 "bad --machine-mem" -- run --machine-mem 99999999G "$tmp/text"
expect "run: --balloon above --mem" 2 "larger than --mem" -- run --mem 64M --balloon 99999999G "$tmp/text"
expect "host: --mem 99999999G" 2 "bad --mem" -- host --vm a --kernel "$tmp/text" --mem 99999999G
expect "host: --machine-mem 99999999G" 2 "bad --machine-mem" -- host --machine-mem 99999999G --vm a --kernel "$tmp/text"
expect "host: --balloon above --mem" 2 "larger than --mem" -- host --vm a --kernel "$tmp/text" --mem 64M --balloon 65M
expect "ctl: a socket path longer than a socket's" 2 "cannot talk" -- ctl "$tmp/$(printf 'x%.0s' $(seq 200))" - query-vms

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "# /dev/kvm unavailable: skipping the checks that create a VM"
	echo "cli: $pass passed, $fail failed"
	[ "$fail" -eq 0 ] && exit 77 || exit 1
fi
expect "missing kernel" 2 "No such file" -- run "$tmp/does-not-exist"
mkfifo "$tmp/fifo"
expect "FIFO as kernel" 2 "not a regular file" -- run "$tmp/fifo"
expect "FIFO as module" 2 "module .*not a regular file" -- run -M "$tmp/fifo" "$tmp/text"
expect "device as kernel" 2 "not a regular file" -- run /dev/zero
expect "host: FIFO as kernel" 2 "not a regular file" -- host --log-dir "$tmp/logs" --vm a --kernel "$tmp/fifo"
long=$(printf '/%.0s' $(seq 5000))
expect "kernel path longer than PATH_MAX" 2 "kernel" -- run "$long$tmp/text"
expect "module path longer than PATH_MAX" 2 "module" -- run -M "$long$tmp/text" "$tmp/text"
expect "kernel path through a file" 2 "kernel" -- run "$tmp/text/x"
mkdir -p "$tmp/logs2" && mkfifo "$tmp/logs2/a.log"
expect "host: a FIFO as the console log" 2 "console log" -- host --log-dir "$tmp/logs2" --vm a --kernel "$tmp/text"
expect "directory as kernel" 2 "not a regular file" -- run "$tmp"
expect "text file" 2 "no multiboot header" -- run "$tmp/text"
expect "all zeros" 2 "no multiboot header" -- run "$tmp/zeros"
expect "ELF without multiboot header" 2 "no multiboot header" -- run "$tmp/elf-no-multiboot"
expect "bad header checksum" 2 "checksum" -- run "$tmp/badsum"
expect "unsupported multiboot flags" 2 "unsupported multiboot features" -- run "$tmp/badflags"
expect "guest RAM too small" 2 "between 2 MiB" -- run --mem 1M "$tmp/text"
expect "host: one VM's bad image" 2 "b: .*no multiboot header" -- host --log-dir "$tmp/logs" --vm a --kernel "$guests/privileged.elf" --vm b --kernel "$tmp/text"
expect "host: log directory not creatable" 2 "log directory" -- host --log-dir "$tmp/text/x" --vm a --kernel "$tmp/text"
expect "host: swap directory missing" 2 "swap file" -- host --log-dir "$tmp/logs" --swap-dir "$tmp/nope" --vm a --kernel "$tmp/text"
expect "host: admission refuses a --min that does not fit" 2 "admission control: a cannot start: its guaranteed --min" -- host --log-dir "$tmp/logs" --machine-mem 32M --vm a --kernel "$tmp/text" --mem 64M --min 40M
expect "host: admission refuses what cannot be reclaimed" 2 "admission control: b cannot start: .*plus swap" -- host --log-dir "$tmp/logs" --machine-mem 32M --swap-size 16M --vm a --kernel "$tmp/text" --mem 24M --vm b --kernel "$tmp/text" --mem 24M
if [ -r "$guests/privileged.elf" ]; then
	expect "missing module" 2 "module" -- run -M "$tmp/nope" "$guests/privileged.elf"
	head -c $((3 * 1024 * 1024)) /dev/zero >"$tmp/big-module"
	expect "module larger than RAM" 2 "does not fit" -- run --mem 2M -M "$tmp/big-module" "$guests/privileged.elf"
fi
echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
