"""Load figures for the app: UI-thread time per update, ctrl+k latency, time to first screen.

Run ``python benchmarks/tui_load.py`` from the repository root (needs tmux). For each run it
starts the real app in a tmux terminal (120x36) on a local session of 50 simulated symbols with a
new bar every second (``--every`` to change), waits for a few bars, presses ctrl+k through tmux
and times how long until "HALTED" reaches the terminal. The app itself (``--serve``) records the
UI thread's time per dashboard redraw and its CPU time per update. ``first_screen`` times a plain
``python -m tui_trader`` from process start to its setup screen on the terminal. Prints medians.

The terminal's output is streamed to a file (``tmux pipe-pane``) and that file is polled, not the
screen: spawning ``tmux capture-pane`` every few milliseconds competed with the app for the two
cores and added its own delay to the figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def symbols_of(count: int) -> tuple[str, ...]:
    """``count`` simulated symbol names (S000, S001, ...)."""
    return tuple(f"S{i:03d}" for i in range(count))


def serve(db: Path, stats: Path, every: float, count: int = 50) -> None:
    """Run the app on a session of ``count`` symbols, writing timing stats as it goes."""
    from tui_trader.session.local import LocalSettings, build_local_session
    from tui_trader.tui import app as app_module
    from tui_trader.tui.screens.dashboard import DashboardScreen
    from tui_trader.tui.setup_form import DEFAULTS, validate

    redraws: list[float] = []
    cpu_per_update: list[float] = []
    state = {"cpu": None, "updates": 0}
    original = DashboardScreen.refresh_desk

    def timed(self, desk, now):
        if desk.version == self._drawn:
            return original(self, desk, now)
        start = time.perf_counter()
        original(self, desk, now)
        redraws.append(time.perf_counter() - start)
        cpu = time.thread_time()
        applied = desk.reports_applied
        if state["cpu"] is not None and applied > state["updates"]:
            cpu_per_update.append((cpu - state["cpu"]) / (applied - state["updates"]))
        state["updates"] = applied
        # whole or not at all: the driver may read it at any moment
        scratch = stats.with_suffix(".tmp")
        scratch.write_text(json.dumps({"redraw": redraws, "cpu_per_update": cpu_per_update}))
        scratch.replace(stats)
        # The next interval starts after this file write: the benchmark's own work is no
        # part of the app's time (everything else the UI thread does until the next redraw is).
        state["cpu"] = time.thread_time()

    DashboardScreen.refresh_desk = timed
    symbols = symbols_of(count)
    settings = LocalSettings(db=db, symbols=symbols, period="30d")
    app = app_module.make_app(
        db, every=every, iterations=0, session_factory=lambda: build_local_session(settings)
    )
    values = dict(DEFAULTS, db=str(db), symbols=",".join(symbols), period="30d")
    plan = validate(values).plan
    assert plan is not None
    app.call_later(lambda: app.start_plan(plan))
    app.run()


def _pane(name: str) -> str:
    """The tmux pane's text."""
    return subprocess.run(
        ["tmux", "capture-pane", "-t", name, "-p"], capture_output=True, text=True
    ).stdout


def _stream(name: str, into: Path) -> None:
    """Copy everything the pane's program writes from now on into ``into``."""
    subprocess.run(["tmux", "pipe-pane", "-t", name, "-O", f"cat >> {into}"], check=True)


def _wait_for_bytes(path: Path, marker: bytes, since: int, limit: float) -> float:
    """Poll ``path`` until ``marker`` appears after offset ``since``; the perf_counter then."""
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        if path.exists():
            with path.open("rb") as fh:
                fh.seek(since)
                if marker in fh.read():
                    return time.perf_counter()
        time.sleep(0.001)
    raise RuntimeError(f"{marker!r} never reached the terminal")


def _tmux(name: str, cmd: str) -> None:
    """A detached 120x36 tmux session running ``cmd``.

    The app reads the bytecode ``tui_bench`` compiled (an empty ``PYTHONDONTWRITEBYTECODE`` is
    unset, whatever the tmux server inherited). When the previous run's session was the
    server's last, the server may still be exiting and refuse the new session ("server exited
    unexpectedly"): then try again.
    """
    args = ["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "36", "-e",
            "TERM=xterm-256color", "-e", "PYTHONDONTWRITEBYTECODE=", cmd]  # fmt: skip
    for attempt in range(5):
        done = subprocess.run(args, capture_output=True, text=True)
        if done.returncode == 0:
            return
        time.sleep(0.2 * (attempt + 1))
    raise RuntimeError(f"tmux would not start a session: {done.stderr.strip()}")


def _name(kind: str, run: int) -> str:
    """A tmux session name no other benchmark run uses (two runs at once on the shared tmux
    server, both naming theirs ``tui-load-0``, ended each other's sessions)."""
    return f"{kind}-{os.getpid()}-{run}"


def _end(name: str) -> None:
    """End the tmux session and the app in it.

    Closing the terminal (SIGHUP) left the app running once it had run a session, so every run
    left a process behind, loading the machine for the runs after it: the app gets a few
    seconds to exit, then it is killed.
    """
    found = subprocess.run(
        ["tmux", "list-panes", "-t", name, "-F", "#{pane_pid}"], capture_output=True, text=True
    )
    pids = _with_descendants([int(p) for p in found.stdout.split() if p.isdigit()])
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    deadline = time.monotonic() + 5
    for pid in pids:
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _with_descendants(roots: list[int]) -> list[int]:
    """The processes and all their descendants (the pane's shell may not exec the app)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(") ", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = list(roots), list(roots)
    while todo:
        pid = todo.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        found.extend(children)
        todo.extend(children)
    return found


def _alive(pid: int) -> bool:
    """Whether the process still exists (and is not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return False


def first_screen(run: int) -> float:
    """Seconds from ``python -m tui_trader`` starting to its setup screen on the terminal."""
    folder = Path(tempfile.mkdtemp(prefix="tui-first-"))
    name, out, started = _name("tui-first", run), folder / "out.bin", folder / "started"
    # The shell writes the wall time and then execs the app; a short pause lets pipe-pane attach.
    cmd = (
        f"sleep 0.3; date +%s.%N > {started}; "
        f"exec {sys.executable} -m tui_trader --db {folder / 'first.db'}"
    )
    _tmux(name, f"sh -c '{cmd}'")
    try:
        _stream(name, out)
        _wait_for_bytes(out, b"NO SESSION", 0, 30)
        shown = time.time()
        return shown - float(started.read_text())
    finally:
        _end(name)
        shutil.rmtree(folder, ignore_errors=True)


def one_run(every: float, run: int, count: int = 50) -> dict:
    """One app in tmux on ``count`` symbols: wait for bars, press ctrl+k, time until HALTED
    reaches the terminal."""
    folder = Path(tempfile.mkdtemp(prefix="tui-load-"))
    db, stats = folder / "load.db", folder / "stats.json"
    name = _name("tui-load", run)
    cmd = (
        f"exec {sys.executable} {Path(__file__).resolve()} --serve --db {db} --stats {stats} "
        f"--every {every} --symbols {count}"
    )
    _tmux(name, cmd)
    out = folder / "out.bin"
    try:
        _stream(name, out)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = _pane(name)
            if "iter " in text and any(f"iter {n}" in text for n in range(6, 400)):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("the session did not reach 6 iterations:\n" + _pane(name))
        since = out.stat().st_size
        pressed = time.perf_counter()
        subprocess.run(["tmux", "send-keys", "-t", name, "C-k"], check=True)
        latency = _wait_for_bytes(out, b"HALTED", since, 10) - pressed
        data = json.loads(stats.read_text())
    finally:
        _end(name)
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "latency": latency,
        "redraw": statistics.median(data["redraw"]),
        "cpu": statistics.median(data["cpu_per_update"] or [0.0]),
        "updates": len(data["redraw"]),
    }


def main() -> None:
    """Parse options; serve, or drive several runs and print medians."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--stats", type=Path)
    parser.add_argument("--every", type=float, default=1.0, help="seconds per bar (1.0)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--symbols", type=int, default=50, help="symbols in the session (50)")
    args = parser.parse_args()
    if args.serve:
        serve(args.db, args.stats, args.every, args.symbols)
        return
    if shutil.which("tmux") is None:
        sys.exit("tmux is needed to measure key-press-to-screen latency")
    results = [one_run(args.every, i, args.symbols) for i in range(args.runs)]
    firsts = [first_screen(i) for i in range(args.runs)]
    ms = lambda key: 1000 * statistics.median(r[key] for r in results)  # noqa: E731
    print(f"{args.symbols} symbols, a bar every {args.every:g} s, {args.runs} runs (medians):")
    print(f"  dashboard redraw on the UI thread: {ms('redraw'):.1f} ms per update")
    print(f"  UI-thread CPU per update (redraw + render + messages): {ms('cpu'):.1f} ms")
    print(f"  ctrl+k to HALTED on the terminal: {ms('latency'):.0f} ms")
    print("  per run:", ", ".join(f"{1000 * r['latency']:.0f} ms" for r in results))
    print(f"  process start to first screen: {statistics.median(firsts):.2f} s")


if __name__ == "__main__":
    main()
