"""
bench_python: python-can receivers through cand against python-can's own
socketcan backend, on the same vcan in the same run (make bench runs it in
the VM right after bench_can):

  1 flood  one python-can receiver while a sender writes as fast as it can
           (N frames, at most FLOOD_S seconds): socketcan, then cand;
           then what recv() costs with the frames already waiting, and
           what building a can.Message costs by itself
  2 bus    8 python-can receivers on a paced 8000 frames/s bus (the sender
           writes what is due every 500 us) for BUS_S seconds: the same two

Every receiver and the sender are processes of their own, forked after
python-can is imported (procs.py; report.py prints and merges). Receivers are plain python-can code (bus.recv(0.1)
in a loop); frames carry a sequence number and a per-phase tag, so loss,
duplicates and order are counted per receiver. A receiver stops when it
has all the sender sent, or 1 s after the sender finished. Rows (medians
over BENCH_REPEAT runs) are printed in bench_can's columns and merged into
bench/results.json.

    /usr/bin/python3 bench/python/bench_python.py -b BUILDDIR [-o JSON] [-r N] [-q]
"""

import argparse
import importlib
import math
import os
import statistics
import sys

from procs import CAN_ID, QUANTUM, cpu_self, drainer, phase
from report import Report, merge_json, print_table


def summarize(report, rid, results, sent, dcpu, n_rx):
    bad = [r["error"] for r in results if "error" in r]
    for text in bad:
        report.problem(rid, text)
    ok = [r for r in results if "error" not in r]
    if not ok:
        return
    n = sent["sent"]
    lost = [max(0, n - r["received"]) for r in ok]
    received = sum(r["received"] for r in ok)
    rates = [r["rate"] for r in ok if not math.isnan(r["rate"])]
    span = sent["t1"] - sent["t0"]
    v = {
        "frames_per_s": statistics.mean(rates) if rates else math.nan,
        "lost": float(sum(lost)),
        "cpu_us_per_frame": sum(r["cpu"] for r in ok) * 1e6 / received if received else math.nan,
        "sent": float(n),
        "send_frames_per_s": n / span if span > 0 else math.nan,
        "enobufs": float(sent["enobufs"]),
        "duplicates": float(sum(r["dups"] for r in ok)),
        "reordered": float(sum(r["reorder"] for r in ok)),
        "delivered_fraction": received / (n * n_rx) if n else math.nan,
    }
    if n_rx > 1:
        v["lost_max_per_client"] = float(max(lost))
        v["aggregate_frames_per_s"] = sum(rates) if rates else math.nan
    if not math.isnan(dcpu):
        v["daemon_cpu_us_per_frame"] = dcpu * 1e6 / received if received else math.nan
        v["kernel_drops"] = float(sum(r["drops"] for r in ok))
    report.add(rid, v)


def run_variants(args, report, variants, n_rx, n, rate, max_s, rep):
    """One phase per (row id, backend, cand's nice); ratios against the
    first (socketcan): frames/s in a flood, the fraction delivered on a
    paced bus."""
    for i, (rid, kind, nice) in enumerate(variants):
        tag = (rep << 8) | (n_rx << 4) | i | (rate > 0) << 3
        print(f"bench_python: [{rep + 1}/{args.repeat}] {rid}", file=sys.stderr, flush=True)
        try:
            results, sent, dcpu = phase(args, kind, n_rx, n, rate, max_s, tag, nice=nice)
        except RuntimeError as error:
            report.problem(rid, str(error))
            continue
        summarize(report, rid, results, sent, dcpu, n_rx)
        if args.verbose:
            print(f"  sender {sent}\n  daemon cpu {dcpu:.3f} s", file=sys.stderr)
            for r in results:
                print(f"  {r}", file=sys.stderr)
        if rate and sent["sent"] < 0.95 * rate * (sent["t1"] - sent["t0"]):
            report.problem(rid, f"the sender could not keep {rate}/s")
    key = "delivered_fraction" if rate else "frames_per_s"
    runs = [report.runs[rid][-1] if report.runs[rid] else {} for rid, _, _ in variants]
    base = runs[0].get(key, math.nan)
    for r in runs:
        if r:
            r["ratio_to_socketcan"] = r.get(key, math.nan) / base if base else math.nan


def recv_cost(args, report, rep):
    """python-can's recv() on each backend with the frames already there."""
    n = 5000
    for i, (kind, rid) in enumerate((("socketcan", "py_cost_socketcan"), ("cand", "py_cost_cand"))):
        print(f"bench_python: [{rep + 1}/{args.repeat}] {rid}", file=sys.stderr, flush=True)
        try:
            results, sent, _ = phase(args, kind, 1, n, 0, 10, 0x80 | rep << 8 | i, drainer)
        except RuntimeError as error:
            report.problem(rid, str(error))
            continue
        r = results[0]
        if "error" in r or not r["received"]:
            report.problem(rid, r.get("error", "nothing received"))
            continue
        if r["received"] < sent["sent"]:
            report.problem(rid, f"{sent['sent'] - r['received']} frames lost")
        report.add(
            rid, {"cpu_us_per_frame": r["cpu"] * 1e6 / r["received"], "sent": float(sent["sent"])}
        )
    base, cand = (
        report.runs[r][-1] if report.runs[r] else {} for r in ("py_cost_socketcan", "py_cost_cand")
    )
    if base and cand:
        base["ratio_to_socketcan"] = 1.0
        cand["ratio_to_socketcan"] = cand["cpu_us_per_frame"] / base["cpu_us_per_frame"]


def message_cost(report):
    """What building a received Message costs by itself, here."""
    import can  # pylint: disable=import-outside-toplevel

    data = bytearray(8)
    n = 20000
    c0 = cpu_self()
    for _ in range(n):
        can.Message(
            timestamp=1.0,
            arbitration_id=CAN_ID,
            is_extended_id=False,
            channel="vcan0",
            dlc=8,
            data=data,
        )
    report.add("py_message", {"cpu_us_per_frame": (cpu_self() - c0) * 1e6 / n})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-b", "--build", required=True)
    ap.add_argument("-i", "--iface", default="vcan0")
    ap.add_argument("-s", "--socket", default="/run/cand-pybench.sock")
    ap.add_argument("-o", "--json", default="bench/results.json")
    ap.add_argument(
        "-r", "--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "1") or 1)
    )
    ap.add_argument("-t", "--only", default="12", help="scenarios: 1 flood, 2 bus (rows py1, py2)")
    ap.add_argument("-q", "--quick", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="every process's figures")
    ap.add_argument("--log", default="/tmp/cand-pybench.log")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    args.flood_n, args.flood_s, args.bus_s = (20000, 3, 2) if args.quick else (100000, 5, 5)
    sys.path.insert(0, os.path.join(args.build, "python"))
    # Imported before forking, so the receivers start at once.
    importlib.import_module("can")
    importlib.import_module("can_cand")

    report = Report()
    for rep in range(args.repeat):
        if "1" in args.only:
            flood = [("py_flood_socketcan_1", "socketcan", 0), ("py_flood_cand_1", "cand", 0)]
            run_variants(args, report, flood, 1, args.flood_n, 0, args.flood_s, rep)
            recv_cost(args, report, rep)
            message_cost(report)
        if "2" in args.only:
            bus = [
                ("py_bus8000_socketcan_8", "socketcan", 0),
                ("py_bus8000_cand_8", "cand", 0),
                ("py_bus8000_cand_8_nice", "cand", -10),
            ]
            run_variants(args, report, bus, 8, 8000 * args.bus_s, 8000, args.bus_s, rep)
    print_table(report, args.repeat)
    merge_json(report, args, QUANTUM)
    print(f"\nmerged into {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
