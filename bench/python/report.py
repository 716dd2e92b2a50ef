"""
bench_python's rows: every figure per repetition, the medians printed in
bench_can's columns and merged into its results.json.
"""

import json
import math
import statistics
import sys

# Row ids, labels and fixed notes, in print order.
ROWS = {
    "py_flood_socketcan_1": ("py1 flood: socketcan x1", "python-can socketcan, recv(0.1)"),
    "py_flood_cand_1": ("py1 flood: cand x1", "python-can cand; ratio vs socketcan"),
    "py_cost_socketcan": ("py1 recv() queued: socketcan", "CPU of recv(0) with frames waiting"),
    "py_cost_cand": ("py1 recv() queued: cand", "the same; ratio = CPU vs socketcan's"),
    "py_message": ("py1: can.Message() only", "one Message(**fields), as socketcan builds it"),
    "py_bus8000_socketcan_8": ("py2 8000/s: socketcan x8", "per-receiver mean"),
    "py_bus8000_cand_8": ("py2 8000/s: cand x8", "ratio = fraction delivered vs socketcan's"),
    "py_bus8000_cand_8_nice": (
        "py2 8000/s: cand x8, nice -10",
        "cand above its 8 busy clients, as the kernel is above socketcan's",
    ),
}


class Report:
    def __init__(self):
        self.runs = {rid: [] for rid in ROWS}
        self.problems = {rid: [] for rid in ROWS}

    def add(self, rid, values):
        self.runs[rid].append(values)

    def problem(self, rid, text):
        if text not in self.problems[rid]:
            self.problems[rid].append(text)
        print(f"bench_python: {rid}: {text}", file=sys.stderr)

    def median(self, rid, key):
        vals = [r[key] for r in self.runs[rid] if key in r and not math.isnan(r[key])]
        return statistics.median(vals) if vals else math.nan

    def rows(self):
        for rid, (label, note) in ROWS.items():
            if not self.runs[rid] and not self.problems[rid]:
                continue
            keys = sorted({k for r in self.runs[rid] for k in r})
            median = {k: self.median(rid, k) for k in keys}
            yield rid, label, self.note(rid, note, median), median

    def note(self, rid, note, median):
        extra = []
        for key, fmt in (
            ("lost_max_per_client", "max {:.0f}/client"),
            ("aggregate_frames_per_s", "sum {:.0f} f/s"),
            ("daemon_cpu_us_per_frame", "cand daemon {:.2f} us/f"),
            ("sent", "sent {:.0f}"),
            ("send_frames_per_s", "at {:.0f} f/s"),
            ("kernel_drops", "kernel drops {:.0f}"),
            ("duplicates", "DUPLICATES {:.0f}"),
            ("reordered", "reordered {:.0f}"),
            ("enobufs", "ENOBUFS {:.0f}"),
        ):
            v = median.get(key, math.nan)
            if not math.isnan(v) and (v or key in ("sent",)):
                extra.append(fmt.format(v))
        text = ", ".join([note] + extra)
        if self.problems[rid]:
            text += "; !! " + "; ".join(self.problems[rid])
        return text


def cell(v, width, prec):
    return f" {'-':>{width}}" if v is None or math.isnan(v) else f" {v:{width}.{prec}f}"


def print_table(report, repeat):
    print(f"\npython-can: cand vs the socketcan backend, median of {repeat} run(s)")
    print(
        f"{'scenario':<38} {'frames/s':>10} {'lost':>9} {'p50 us':>8} {'p99 us':>8} "
        f"{'CPU us/f':>9} {'ratio':>6}  note"
    )
    for _rid, label, note, m in report.rows():
        print(
            f"{label:<38}"
            + cell(m.get("frames_per_s"), 10, 0)
            + cell(m.get("lost"), 9, 0)
            + cell(None, 8, 1)
            + cell(None, 8, 1)
            + cell(m.get("cpu_us_per_frame"), 9, 2)
            + cell(m.get("ratio_to_socketcan"), 6, 2)
            + f"  {note}"
        )


def clean(v):
    return None if isinstance(v, float) and (math.isnan(v) or math.isinf(v)) else v


def merge_json(report, args, quantum):
    """Our rows into bench_can's results.json (replacing earlier ones)."""
    try:
        with open(args.json) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        doc = {"bench": "bench_python", "rows": []}
    doc["rows"] = [r for r in doc.get("rows", []) if r.get("id") not in ROWS]
    for rid, label, note, median in report.rows():
        doc["rows"].append(
            {
                "id": rid,
                "scenario": label,
                "note": note,
                "median": {k: clean(v) for k, v in median.items() if clean(v) is not None},
                "runs": [{k: clean(v) for k, v in r.items()} for r in report.runs[rid]],
            }
        )
    doc["python"] = {
        "bench": "bench_python",
        "python": sys.version.split()[0],
        "python_can": __import__("can").__version__,
        "repeat": args.repeat,
        "flood_frames": args.flood_n,
        "flood_max_seconds": args.flood_s,
        "bus_seconds": args.bus_s,
        "pace_quantum_us": int(quantum * 1e6),
        "cpu_us_per_frame": "the python-can receivers' own CPU per delivered frame",
    }
    with open(args.json, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
