#!/usr/bin/env python
"""PDF renders per second and CPU per render, with DejaVu Sans parsed once per process
(``documents.pdf_fonts``) against fpdf2's ``add_font`` parsing it at every document (the
baseline, ``pdf_fonts.uncached()``), in one process, in the same run.

    python bench/bench_pdf.py [--seconds 4] [--rounds 3] [--threads 1,2,4] [--signed] [--instructions 5]

Two documents, as the app renders them (no database):

- an approval's result: ``documents.render.render_pdf`` with the arguments
  ``documents.services.issue_signed_result`` gives it (one A4 page, QR code); eight of them with
  different names, so each thread renders different documents;
- a working-group report: ``workgroups.render.render_pdf`` of a frozen snapshot (landscape,
  three tables, both faces) — ``tests.documents.helpers.report_snapshot``.

Each row renders for ``--seconds`` per round in 1, 2 and 4 threads (``--threads``); the rounds
alternate cached and uncached so that other load on the machine falls on both. renders/s is
wall-clock; CPU ms/render is the process's CPU time (all threads) over the renders. Every PDF is
compared with the same document rendered alone with fpdf2's own ``add_font`` before the run:
"wrong" counts those that differ (must be 0). ``--signed`` adds the result signed PAdES
(``documents.signing.sign_pdf``: what an approval really costs; the development CA under
``DANCU_DATA_DIR``).

``--instructions N`` also counts the CPU instructions of a render, which other load on the
machine does not change (timings on a shared 2-CPU machine do): each document rendered N times
in a child process under valgrind (``cachegrind``, no cache simulation), cached and uncached,
and once with 0 renders; instructions per render = (count with N − count with 0) / N. Slow
(Python runs ~40× slower under valgrind: a few minutes per document).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dancu.settings")
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    import django

    django.setup()


RESULT, REPORT, SIGNED = (
    "approval result (1 page, QR)",
    "working-group report (landscape, tables)",
    "approval result, signed PAdES",
)


def documents(signed: bool) -> dict[str, list[Callable[[], bytes]]]:
    from tests.documents.helpers import report_snapshot

    from dancu.documents import render, services, signing
    from dancu.workgroups import render as report_render

    issued_at = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)

    def result(i: int) -> Callable[[], bytes]:
        return lambda: render.render_pdf(
            code=f"AB23CD45EF{i:02d}",
            title="Xác nhận đăng ký tạm trú",
            issuer="Công an Phường Hạc Thành",
            heading=services.NATIONAL_HEADING,
            reference=f"DC-20261207-{i:06d}",
            issued_at=issued_at,
            labels=services.PDF_LABELS,
            lines=[
                ("Họ và tên", f"Nguyễn Thị Hoà {'ĂÂĐÊÔƠƯ'[i % 7] * (i + 1)}"),
                ("Nơi tạm trú", f"{i + 12} Lê Lợi, Phường Hạc Thành, Tỉnh Thanh Hóa"),
                ("Thời hạn tạm trú", "đến 06/12/2028"),
            ],
        )

    snapshot = report_snapshot()
    out: dict[str, list[Callable[[], bytes]]] = {
        RESULT: [result(i) for i in range(8)],
        REPORT: [lambda: report_render.render_pdf(snapshot)],
    }
    if signed:
        out[SIGNED] = [
            (lambda r=r: signing.sign_pdf(r(), signer_name="Công an Phường Hạc Thành", reason="Thử"))
            for r in out[RESULT]
        ]
    return out


def child(spec: str) -> None:
    """``--child DOC:CACHED:N`` (under valgrind): warm both ways, then N renders of DOC."""
    name, cached, n = spec.split(":")
    setup()
    from dancu.documents import pdf_fonts

    renders = documents(signed=name == SIGNED)[name]
    for r in renders:
        r()
        with pdf_fonts.uncached():
            r()
    with contextlib.nullcontext() if cached == "1" else pdf_fonts.uncached():
        for i in range(int(n)):
            renders[i % len(renders)]()


def instructions(name: str, cached: bool, n: int) -> int:
    out = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--child",
            f"{name}:{int(cached)}:{n}",
        ],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, PYTHONHASHSEED="0"),  # the same dict layouts in every child
    ).stderr
    found = re.search(r"I\s+refs:\s+([\d,]+)", out)
    if found is None:
        sys.exit(f"valgrind gave no instruction count:\n{out[-2000:]}")
    return int(found.group(1).replace(",", ""))


def run(
    renders: list[Callable[[], bytes]],
    expected: list[bytes] | None,
    threads: int,
    seconds: float,
    cached: bool,
) -> tuple[int, float, float, int]:
    """Renders done, wall seconds, CPU seconds (whole process) and wrong PDFs, ``threads``
    threads rendering for ``seconds``."""
    from dancu.documents import pdf_fonts

    counts = [0] * threads
    wrong = [0] * threads
    barrier = threading.Barrier(threads + 1)
    deadline = [0.0]

    def work(t: int) -> None:
        with contextlib.nullcontext() if cached else pdf_fonts.uncached():
            barrier.wait()
            i = t
            while time.perf_counter() < deadline[0]:
                pdf = renders[i % len(renders)]()
                if expected is not None and pdf != expected[i % len(renders)]:
                    wrong[t] += 1
                counts[t] += 1
                i += threads

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    deadline[0] = time.perf_counter() + seconds
    cpu0, wall0 = time.process_time(), time.perf_counter()
    barrier.wait()
    for th in pool:
        th.join()
    return sum(counts), time.perf_counter() - wall0, time.process_time() - cpu0, sum(wrong)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=4.0, help="per row and round (default 4)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", default="1,2,4")
    p.add_argument("--signed", action="store_true", help="also the result signed PAdES")
    p.add_argument("--instructions", type=int, default=0, metavar="N", help="valgrind: N renders (e.g. 5)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child)
        return
    setup()
    import fpdf
    from fontTools import version as fonttools_version

    from dancu.documents import pdf_fonts

    threads = [int(x) for x in args.threads.split(",")]
    docs = documents(args.signed)
    load0 = os.getloadavg()[0]
    totals: dict[tuple[str, bool, int], list[float]] = {}
    for name, renders in docs.items():
        with pdf_fonts.uncached():  # the reference bytes: each document alone, fpdf2's add_font
            expected = None if name == SIGNED else [r() for r in renders]
        for r in renders:  # warm: templates made, modules imported, the signer loaded
            r()
        for _round in range(args.rounds):
            for n in threads:
                for cached in (False, True):
                    done, wall, cpu, bad = run(renders, expected, n, args.seconds, cached)
                    acc = totals.setdefault((name, cached, n), [0, 0.0, 0.0, 0])
                    for k, v in enumerate((done, wall, cpu, bad)):
                        acc[k] += v
    load1 = os.getloadavg()[0]

    print(
        f"\nfpdf2 {fpdf.__version__}, fontTools {fonttools_version}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPU, load {load0:.1f} → {load1:.1f}; {args.rounds} rounds × {args.seconds:g} s "
        f"per row\n"
    )
    if args.rounds:  # --rounds 0: the instruction counts only
        print("| document | fonts | threads | renders | renders/s | CPU ms/render | wrong PDFs |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for name in docs:
            for n in threads:
                base = totals[(name, False, n)]
                for cached in (False, True):
                    done, wall, cpu, bad = totals[(name, cached, n)]
                    label = "parsed once per process" if cached else "baseline: parsed per document"
                    ratio, wrong = "", "—" if name == SIGNED else f"{bad:.0f}"
                    if cached and done and base[0]:
                        ratio = f" ({cpu / done / (base[2] / base[0]) - 1:+.0%})"
                    print(
                        f"| {name} | {label} | {n} | {done:.0f} | {done / wall:.1f} | "
                        f"{cpu * 1000 / max(done, 1):.1f}{ratio} | {wrong} |"
                    )
    if not args.instructions:
        return
    print(
        f"\nInstructions per render (valgrind cachegrind, {args.instructions} renders − 0 renders, one "
        f"thread):\n"
    )
    print("| document | baseline: parsed per document | parsed once per process | change |")
    print("|---|---:|---:|---:|")
    for name in docs:
        zero = instructions(name, True, 0)
        per = {
            cached: (instructions(name, cached, args.instructions) - zero) / args.instructions
            for cached in (False, True)
        }
        print(
            f"| {name} | {per[False] / 1e6:,.0f} M | {per[True] / 1e6:,.0f} M | "
            f"{per[True] / per[False] - 1:+.0%} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
