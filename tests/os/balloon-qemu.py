#!/usr/bin/env python3
# balloon-qemu.py: the bundled OS's virtio-balloon driver against QEMU's own device
# (virtio-balloon-pci, legacy interface), driven through QMP the way a host's memory
# manager would drive it. Called by run-balloon.sh (which skips when QEMU or python3
# is missing); only the Python standard library is used.
#
#   balloon-qemu.py KERNEL INITRD MEM_MIB [oom]
#
# Default run: the guest waits for the balloon; the host sets it to half of guest
# memory; the guest reaches the target, verifies its remaining memory and prints
# meminfo, while the host checks query-balloon / "info balloon" report the guest's
# actual and that the guest's statistics arrive (guest-stats with a polling
# interval). Then the host deflates to full size and the guest verifies again.
# "oom": the device offers DEFLATE_ON_OOM; the balloon is inflated to half, then the
# guest verifies more memory than it has left, so its allocator must deflate.
# Exit status 0 on success, 1 on failure (the reason on stdout).
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

PAGE = 4096


class Qmp:
    def __init__(self, path, deadline):
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.buf = b""
        self.read()  # greeting
        self.cmd("qmp_capabilities")

    def read(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("QMP connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self.read()
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError("%s: %s" % (name, r["error"]))


class Console:
    """The guest's serial output, collected by a thread; wait() finds the next line
    that matches, after the one the previous wait() found (from_start: any line)."""

    def __init__(self, stream):
        self.lines = []
        self.pos = 0
        self.cond = threading.Condition()
        self.done = False
        threading.Thread(target=self.pump, args=(stream,), daemon=True).start()

    def pump(self, stream):
        for raw in stream:
            line = raw.decode(errors="replace").rstrip("\r\n")
            print(line, flush=True)
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.done = True
            self.cond.notify_all()

    def wait(self, pred, timeout, from_start=False):
        end = time.time() + timeout
        seen = 0 if from_start else self.pos
        with self.cond:
            while True:
                for i in range(seen, len(self.lines)):
                    if pred(self.lines[i]):
                        if not from_start:
                            self.pos = i + 1
                        return self.lines[i]
                seen = len(self.lines)
                left = end - time.time()
                if self.done or left <= 0:
                    return None
                self.cond.wait(left)


def fail(msg):
    print("FAIL: balloon: " + msg, flush=True)
    sys.exit(1)


def wait_stats(qmp, want_total, timeout):
    """Polls guest-stats until an update reports stat-total-memory == want_total."""
    end = time.time() + timeout
    last = None
    while time.time() < end:
        last = qmp.cmd("qom-get", path="/machine/peripheral/balloon0", property="guest-stats")
        st = last.get("stats", {})
        if last.get("last-update", 0) > 0 and st.get("stat-total-memory") == want_total:
            return last
        time.sleep(0.5)
    fail("guest stats never reported total memory %d: last %s" % (want_total, last))


def main():
    kernel, initrd, mem = sys.argv[1], sys.argv[2], int(sys.argv[3])
    oom = len(sys.argv) > 4 and sys.argv[4] == "oom"
    half_pages = mem * 1024 * 1024 // 2 // PAGE
    tmp = tempfile.mkdtemp(prefix="balloon-qemu.")
    sock = os.path.join(tmp, "qmp.sock")
    if oom:
        # Half the memory is lent; the guest then verifies more than what is left.
        script = ("balloon; echo balloon-test: start; balloon wait %d 120; meminfo; "
                  "verify %d passes=1 sleep=10; meminfo; balloon; echo balloon-test: end"
                  % (half_pages, mem * 3 // 4))
    else:
        script = ("balloon; echo balloon-test: start; balloon wait %d 120; verify %d passes=2 sleep=10; "
                  "meminfo; echo balloon-test: deflate; balloon wait 0 120; "
                  "verify %d passes=1 sleep=10; meminfo; echo balloon-test: end"
                  % (half_pages, mem * 2 // 5, mem * 3 // 4))
    dev = "virtio-balloon-pci,disable-modern=on,id=balloon0"
    if oom:
        dev += ",deflate-on-oom=on"
    args = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", str(mem),
            "-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio",
            "-monitor", "none", "-qmp", "unix:%s,server=on,wait=off" % sock,
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-device", dev,
            "-kernel", kernel, "-initrd", initrd,
            "-append", "balloon.stats_ms=500 -- " + script]
    print("balloon: " + " ".join(args), flush=True)
    q = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    try:
        con = Console(q.stdout)
        qmp = Qmp(sock, time.time() + 30)
        # Stats first: QEMU returns the guest's stats buffer once per interval.
        qmp.cmd("qom-set", path="/machine/peripheral/balloon0",
                property="guest-stats-polling-interval", value=1)
        if not con.wait(lambda l: l == "balloon: target 0 pages, actual 0 pages", 60):
            fail("the guest did not find the balloon device")
        if not con.wait(lambda l: l == "balloon-test: start", 60):
            fail("the guest's script did not start")
        mem_bytes = mem * 1024 * 1024
        qmp.cmd("balloon", value=mem_bytes - half_pages * PAGE)
        if not con.wait(lambda l: l == "balloon: target %d pages, actual %d pages"
                        % (half_pages, half_pages), 150):
            fail("the guest did not reach %d pages" % half_pages)
        actual = qmp.cmd("query-balloon")["actual"]
        if actual != mem_bytes - half_pages * PAGE:
            fail("query-balloon reports %d bytes, expected %d" % (actual, mem_bytes - half_pages * PAGE))
        info = qmp.cmd("human-monitor-command", **{"command-line": "info balloon"}).strip()
        if info != "balloon: actual=%d" % ((mem_bytes - half_pages * PAGE) >> 20):
            fail("info balloon says '%s'" % info)
        print("balloon: host: query-balloon actual %d bytes, '%s'" % (actual, info), flush=True)
        if oom:
            # The guest powers off right after: its own line tells what is still lent.
            if not con.wait(lambda l: l == "balloon-test: end", 200):
                fail("the guest's verify did not finish")
            oom_line = con.wait(lambda l: l.endswith(" pages deflated on memory pressure"), 1, True)
            if not oom_line:
                fail("the balloon did not deflate on memory pressure")
            print("balloon: host: guest says '%s'" % oom_line, flush=True)
        else:
            # The guest's total excludes the balloon; its RAM total is in its boot line.
            boot = con.wait(lambda l: l.startswith("mem: ") and " pages (" in l, 1, True)
            total_pages = int(boot.split()[1])
            st = wait_stats(qmp, (total_pages - half_pages) * PAGE, 20)
            s = st["stats"]
            for key in ("stat-free-memory", "stat-available-memory", "stat-disk-caches",
                        "stat-minor-faults", "stat-major-faults", "stat-swap-in", "stat-swap-out"):
                if key not in s or s[key] < 0:
                    fail("guest stats lack %s: %s" % (key, st))
            if not 0 < s["stat-free-memory"] <= s["stat-total-memory"]:
                fail("guest stats: free memory out of range: %s" % st)
            print("balloon: host: guest stats %s" % json.dumps(st, sort_keys=True), flush=True)
            if not con.wait(lambda l: l == "balloon-test: deflate", 200):
                fail("the guest's verify did not finish")
            qmp.cmd("balloon", value=mem_bytes)
            if not con.wait(lambda l: l == "balloon: target 0 pages, actual 0 pages", 150):
                fail("the guest did not deflate")
            actual = qmp.cmd("query-balloon")["actual"]
            if actual != mem_bytes:
                fail("query-balloon reports %d bytes after deflating, expected %d" % (actual, mem_bytes))
        status = q.wait(timeout=300)
        out = con.lines
        if status != 1:
            fail("QEMU exited with status %d, expected 1 (every command passed)" % status)
        verifies = [l for l in out if l.startswith("verify: ")]
        if not verifies or any(" 0 corrupted pages" not in l for l in verifies):
            fail("verify reported corruption or did not run: %s" % verifies)
        lent = [l for l in out if l.startswith("balloon: ") and " lent to the host" in l]
        want = "balloon: %d pages (%d MiB) lent to the host" % (half_pages, half_pages * PAGE >> 20)
        if not lent or lent[0] != want:
            fail("meminfo while inflated: %s, expected '%s'" % (lent[:1], want))
        if not oom and len(lent) != 1:
            fail("meminfo after deflating still shows a balloon: '%s'" % lent[-1])
        if not any(l.endswith(" 0 failed") and l.startswith("runner: script done") for l in out):
            fail("the runner's script failed")
        print("PASS: balloon%s: inflated to %d pages, %s" %
              (" (oom)" if oom else "", half_pages,
               "deflated on memory pressure" if oom else "stats arrived, deflated to 0"), flush=True)
    finally:
        if q.poll() is None:
            q.kill()
            q.wait()
        try:
            os.unlink(sock)
        except OSError:
            pass
        os.rmdir(tmp)


if __name__ == "__main__":
    main()
