#!/usr/bin/env python3
"""Process-tree figures for run.sh, summed over every process of a session.

Targets are started with setsid, so a session id (= the leader's PID) names
the whole tree (nginx master + worker, or one gateway process).

  proc.py ticks SID   utime+stime in clock ticks
  proc.py rss SID     VmRSS in KiB
  proc.py hwm SID     VmHWM (peak RSS) in KiB
  proc.py clk         clock ticks per second
"""
import os
import sys


def session_pids(sid):
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # Fields after the parenthesised command name; session is field 6.
        rest = stat[stat.rfind(")") + 2:].split()
        if int(rest[3]) == sid:
            yield int(entry), rest


def ticks(sid):
    # utime and stime are fields 14 and 15 (rest[11], rest[12]).
    return sum(int(r[11]) + int(r[12]) for _, r in session_pids(sid))


def status_kib(sid, key):
    total = 0
    for pid, _ in session_pids(sid):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def main():
    what = sys.argv[1]
    if what == "clk":
        print(os.sysconf("SC_CLK_TCK"))
        return
    sid = int(sys.argv[2])
    if what == "ticks":
        print(ticks(sid))
    elif what == "rss":
        print(status_kib(sid, "VmRSS"))
    elif what == "hwm":
        print(status_kib(sid, "VmHWM"))
    else:
        sys.exit(f"unknown query {what}")


if __name__ == "__main__":
    main()
