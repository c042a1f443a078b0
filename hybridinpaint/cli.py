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
    demo = sub.add_parser("demo", help="fill a moving hole in a bundled real clip and write the results")
    demo.add_argument("--out", default="hybridinpaint-demo", help="folder to create (default: %(default)s)")
    demo.add_argument("--backend", default="auto", choices=("auto", "cpu", "cuda"))
    demo.add_argument("--overwrite", action="store_true", help="replace the folder if it exists")
    sub.add_parser(
        "train",
        add_help=False,
        help="train the never-seen-pixel network on a folder of photos (see `hybridinpaint train --help`)",
    )
    return p


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["train"]:
        from hybridinpaint.train import main as train_main

        return train_main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from hybridinpaint import __version__

        print(__version__)
        return 0
    if args.command == "doctor":
        from hybridinpaint.doctor import report

        return report()
    if args.command == "demo":
        from hybridinpaint.demo import run

        try:
            out = run(args.out, backend=args.backend, overwrite=args.overwrite)
        except FileExistsError as exc:
            print(f"hybridinpaint demo: {exc}", file=sys.stderr)
            return 1
        print(f"hybridinpaint demo: wrote {out}/ (side_by_side/ shows input | result | provenance)")
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
