#!/usr/bin/env python3
"""Time from exec to the first prompt of `warren` (on a pseudo-terminal) and its resident memory
at the prompt, side by side with `lua5.4 -e ''` (exec to exit: the floor). Median of N runs."""
import os, pty, select, statistics, sys, tempfile, time, shutil

def warren_to_prompt(binary, state):
    env = dict(os.environ, WARREN_STATE=state, TERM="xterm")
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(binary, [binary], env)
    out = b""
    while b"]> " not in out:
        r, _, _ = select.select([fd], [], [], 10)
        if not r:
            raise SystemExit("no prompt within 10 s: %r" % out)
        out += os.read(fd, 4096)
    elapsed = time.perf_counter() - start
    with open("/proc/%d/status" % pid) as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024
    os.write(fd, b"exit\r")
    os.waitpid(pid, 0)
    os.close(fd)
    return elapsed, rss

def lua_floor():
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.execvp("lua5.4", ["lua5.4", "-e", ""])
    os.waitpid(pid, 0)
    return time.perf_counter() - start

def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release/warren"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 21
    state = tempfile.mkdtemp(prefix="warren-bench-")
    try:
        w, r, l = [], [], []
        for _ in range(runs):  # interleaved, so both see the same machine
            t, rss = warren_to_prompt(binary, state)
            w.append(t); r.append(rss); l.append(lua_floor())
        wm, lm = statistics.median(w) * 1000, statistics.median(l) * 1000
        print("%-58s %-16s target <= 30 ms" % ("exec to first prompt, warren (median of %d)" % runs, "%.1f ms" % wm))
        print("%-58s %-16s floor" % ("exec to exit, lua5.4 -e '' (median of %d)" % runs, "%.1f ms" % lm))
        print("%-58s %-16s" % ("ratio warren / lua5.4", "%.1fx" % (wm / lm)))
        print("%-58s %-16s target <= 30 MB" % ("resident memory at the prompt (median)", "%.1f MB" % statistics.median(r)))
    finally:
        shutil.rmtree(state, ignore_errors=True)

main()
