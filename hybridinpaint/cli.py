"""The ``hybridinpaint`` command."""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hybridinpaint", description="Explainable video inpainting.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command")
    sub.add_parser(
        "doctor",
        help="versions, threads, CUDA device, and a PTX build of every CUDA kernel (sm_80, sm_90)",
    )
    return p


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from hybridinpaint import __version__

        print(__version__)
        return 0
    if args.command == "doctor":
        from hybridinpaint.doctor import report

        return report()
    parser.print_help()
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
