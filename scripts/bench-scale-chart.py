#!/usr/bin/env python3
"""Draws `make bench-scale`'s chart from its result lines: ozmapd's initial load time (and the
transfer floor measured in the same run) and its peak RSS, against the network's size.
Usage: bench-scale-chart.py RESULTS.txt CHART.png. For each size the latest line counts."""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(results_path, chart_path):
    runs = {}
    with open(results_path) as results:
        for line in results:
            fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
            if "boxes" in fields:
                runs[int(fields["boxes"])] = fields
    sizes = sorted(runs)
    if not sizes:
        sys.exit(f"no result lines in {results_path}")
    figure, load_axis = plt.subplots(figsize=(8, 4.5))
    load_axis.plot(sizes, [float(runs[s]["load_s"]) for s in sizes], "o-", color="tab:blue", label="ozmapd initial load (s)")
    load_axis.plot(sizes, [float(runs[s]["floor_s"]) for s in sizes], "o--", color="tab:cyan", label="transfer floor, same run (s)")
    load_axis.set_xlabel("boxes connected to an OLT")
    load_axis.set_ylabel("seconds")
    rss_axis = load_axis.twinx()
    rss_axis.plot(sizes, [float(runs[s]["peak_rss_mib"]) for s in sizes], "s-", color="tab:red", label="ozmapd peak RSS (MiB)")
    rss_axis.set_ylabel("MiB")
    load_axis.set_ylim(bottom=0)
    rss_axis.set_ylim(bottom=0)
    lines = load_axis.get_lines() + rss_axis.get_lines()
    load_axis.legend(lines, [line.get_label() for line in lines], loc="upper left")
    loads = ", ".join(f"{s // 1000}k: {runs[s].get('loadavg', '?')}" for s in sizes)
    load_axis.set_title(f"make bench-scale (release, 2 cores; load average {loads})", fontsize=9)
    figure.tight_layout()
    figure.savefig(chart_path, dpi=110)
    print(f"== drew {chart_path} from {len(sizes)} sizes")


if __name__ == "__main__":
    main(*sys.argv[1:3])
