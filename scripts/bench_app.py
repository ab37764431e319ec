#!/usr/bin/env python3
"""Start-up and memory of the release app vs an empty Tauri 2 window (issue 8 item 5), and the
app as a branch terminal against the app alone on its embedded store (issue 15 item 5).

Branch mode: when target/release/unlockdesk-server exists, a server is started on the demo
store ($UNLOCKDESK_DATABASE_URL with the demo loaded, else the same embedded demo file) on a
loopback port, and the app is launched with UNLOCKDESK_SERVER pointing at it. Its first
screen is the sign-in screen, as alone; nothing is asked of the server before it.

Launches each binary N times under Xvfb and reports the median time from launch to the UI's
ready line (`UNLOCKDESK_READY` on stdout, printed when the first screen is usable), and the
memory of the app plus its WebKit processes after 10 s idle: RSS and PSS summed from
/proc/PID/smaps_rollup. A benchmark, not a test: it prints numbers and never fails on them.
"""
import os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(os.environ.get("BENCH_RUNS", "7"))
IDLE = float(os.environ.get("BENCH_IDLE_S", "10"))


def tree(pid):
    """pid and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            kids = open(f"/proc/{p}/task/{p}/children").read().split()
        except OSError:
            kids = []
        todo.extend(int(k) for k in kids)
    return out


def memory(pid):
    rss = pss = 0
    for p in tree(pid):
        try:
            for line in open(f"/proc/{p}/smaps_rollup"):
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            pass
    return rss / 1024, pss / 1024


def launch(binary, env, measure_memory):
    t0 = time.monotonic()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    ready = None
    deadline = t0 + 60
    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)
    buf = b""
    while time.monotonic() < deadline and ready is None:
        try:
            buf += os.read(fd, 65536)
        except BlockingIOError:
            pass
        if b"UNLOCKDESK_READY" in buf:
            ready = (time.monotonic() - t0) * 1000
            break
        if proc.poll() is not None:
            break
        time.sleep(0.005)
    mem = None
    if ready is not None and measure_memory:
        time.sleep(IDLE)
        mem = memory(proc.pid)
    for p in reversed(tree(proc.pid)):
        try:
            os.kill(p, 9)
        except OSError:
            pass
    proc.wait()
    return ready, mem


def bench(name, binary, env):
    times, mems = [], []
    for i in range(N):
        ready, mem = launch(binary, env, measure_memory=(i < 3))
        if ready is None:
            print(f"{name}: run {i + 1} never reported ready", file=sys.stderr)
            continue
        times.append(ready)
        if mem:
            mems.append(mem)
    if not times:
        return None
    return {
        "start_ms": statistics.median(times),
        "first_ms": times[0],
        "rss": statistics.median(m[0] for m in mems) if mems else float("nan"),
        "pss": statistics.median(m[1] for m in mems) if mems else float("nan"),
    }


def main():
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    app = os.path.join(target, "release/unlockdesk")
    empty = os.path.join(target, "release/unlockdesk-empty-window")
    for b in (app, empty):
        if not os.path.exists(b):
            sys.exit(f"missing {b}: run make bench-app (it builds both)")
    display = ":95"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    data = tempfile.mkdtemp(prefix="ud-bench-")
    try:
        subprocess.run([os.path.join(target, "release/unlockdesk-cli"), "--db", os.path.join(data, "unlockdesk.db"), "demo"], check=True, stdout=subprocess.DEVNULL)
        env = dict(os.environ, DISPLAY=display, UNLOCKDESK_DATA_DIR=data, UNLOCKDESK_REPORT_READY="1", UNLOCKDESK_NO_VIEWER="1")
        env.pop("WAYLAND_DISPLAY", None)
        res = {"empty window": bench("empty", empty, env), "UnlockDesk": bench("app", app, env)}
        server_bin = os.path.join(target, "release/unlockdesk-server")
        server = None
        if os.path.exists(server_bin) and os.environ.get("BENCH_BRANCH", "1") != "0":
            db = os.environ.get("UNLOCKDESK_DATABASE_URL") or os.path.join(data, "unlockdesk.db")
            server = subprocess.Popen(
                [server_bin, "--db", db, "--listen", "127.0.0.1:0", "--data-dir", os.path.join(data, "server")],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            url = None
            for line in server.stdout:
                if line.startswith("UNLOCKDESK_SERVER_READY "):
                    url = line.split()[1]
                    break
            if url:
                benv = dict(env, UNLOCKDESK_SERVER=url, UNLOCKDESK_DATA_DIR=os.path.join(data, "terminal"))
                benv.pop("UNLOCKDESK_DATABASE_URL", None)
                # Same run, interleaved with the embedded app again, so both see the same machine.
                res["UnlockDesk (branch)"] = bench("branch", app, benv)
                res["UnlockDesk (again)"] = bench("app", app, env)
    finally:
        if 'server' in locals() and server:
            server.kill()
        xvfb.kill()
        shutil.rmtree(data, ignore_errors=True)
    e, a = res["empty window"], res["UnlockDesk"]
    print(f"runs: {N} each, memory after {IDLE:.0f} s idle (median of 3), Xvfb 1280x800")
    print(f"{'':20} {'start median':>13} {'first run':>10} {'RSS MiB':>9} {'PSS MiB':>9}")
    for name, r in res.items():
        if r:
            print(f"{name:20} {r['start_ms']:>10.0f} ms {r['first_ms']:>7.0f} ms {r['rss']:>9.0f} {r['pss']:>9.0f}")
    if e and a:
        print(f"ratio app/empty: start {a['start_ms'] / e['start_ms']:.2f}x, PSS {a['pss'] / e['pss']:.2f}x, RSS {a['rss'] / e['rss']:.2f}x (goals: start <= 1.1x, PSS <= 1.1x)")
    b, a2 = res.get("UnlockDesk (branch)"), res.get("UnlockDesk (again)")
    if b and a and a2:
        alone = statistics.median([a["start_ms"], a2["start_ms"]])
        print(f"ratio branch/alone: start {b['start_ms'] / alone:.2f}x (alone {alone:.0f} ms, the median of both alone series; goal <= 1.2x)")
    size = os.path.getsize(app) / 2**20
    print(f"release binary: {size:.1f} MiB")
    deb_dir = os.path.join(target, "release/bundle/deb")
    debs = [f for f in os.listdir(deb_dir) if f.endswith(".deb")] if os.path.isdir(deb_dir) else []
    for d in debs:
        print(f".deb: {d} {os.path.getsize(os.path.join(deb_dir, d)) / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
