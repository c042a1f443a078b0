"""The ``hybridinpaint`` command."""

from __future__ import annotations

import argparse
import os
import sys


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        metavar="FILE.toml",
        help="settings for this run (sections and names as `hybridinpaint config` prints; others keep defaults)",
    )


def _settings(args):
    from hybridinpaint.settings import Settings

    return Settings.from_toml(args.config) if getattr(args, "config", None) else Settings()


def _add_file_arguments(p: argparse.ArgumentParser, *, overwrite_help: str) -> None:
    """The options `inpaint` and `remove` share (read back by :func:`_file_options`)."""
    p.add_argument("--hallucinate", default="patch", choices=("patch", "fsr", "telea", "ns", "net"))
    p.add_argument("--chunk", type=int, help="frames per chunk (default: 32 for SD, fewer for HD and 4K)")
    p.add_argument("--provenance", metavar="DIR", help="write per-frame provenance maps (PNG) here")
    p.add_argument("--resume", action="store_true", help="require an unfinished run in OUTPUT and continue it")
    p.add_argument("--overwrite", action="store_true", help=overwrite_help)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--backend", default="auto", choices=("auto", "cpu", "cuda"))
    _add_config(p)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hybridinpaint", description="Explainable video inpainting.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command")
    doc = sub.add_parser(
        "doctor",
        help="versions, threads, CUDA device, and a PTX build of every CUDA kernel (sm_80, sm_90)",
    )
    doc.add_argument(
        "--compile",
        action="store_true",
        help="instead of the PTX builds, compile every kernel for this machine into the kernel cache "
        "(once per image or cluster; later runs then start at once)",
    )
    demo = sub.add_parser("demo", help="fill a moving hole in a bundled real clip and write the results")
    demo.add_argument("-o", "--out", default="hybridinpaint-demo", help="folder to create (default: %(default)s)")
    demo.add_argument("--backend", default="auto", choices=("auto", "cpu", "cuda"))
    demo.add_argument("--overwrite", action="store_true", help="replace the folder if it exists")
    ip = sub.add_parser(
        "inpaint",
        help="fill the masked pixels of a video file or frame folder, chunk by chunk (resumable)",
        description="Exit codes: 0 done (also when the mask is empty: the input is copied through); "
        "1 bad input, unreadable or unwritable files, or a refused output; 2 bad command line.",
    )
    ip.add_argument("input", help="video (mp4/mov/mkv/avi) or folder of frames (PNG/JPEG/TIFF/DPX, 8/16-bit)")
    ip.add_argument("--mask", required=True, help="one mask image, a folder of per-frame masks, or a mask video")
    ip.add_argument("-o", "--output", required=True, help="output folder (lossless frames) or video file")
    ip.add_argument("--mask-dilation", type=int, default=0, metavar="N", help="grow the masks by N pixels")
    ip.add_argument("--flow-dilation", type=int, default=8, metavar="N", help="replace flow within N px of holes")
    ip.add_argument("--overlap", type=int, help="frames shared by consecutive chunks (default: a quarter of --chunk)")
    ip.add_argument("--scheduler", metavar="ADDRESS", help="send chunks to a Dask scheduler (tcp://host:8786)")
    ip.add_argument("--workers", type=int, metavar="N", help="start a local Dask cluster of N processes")
    _add_file_arguments(ip, overwrite_help="delete an earlier output first")
    rm = sub.add_parser(
        "remove",
        help="remove an object drawn on one frame: track it through the video, then inpaint (resumable)",
        description="The tracked masks are saved (PNG, white where removed, with tracking.json: per-frame "
        "confidence and the frames to check) before anything is filled. Exit codes as for inpaint.",
    )
    rm.add_argument("input", help="video (mp4/mov/mkv/avi) or folder of frames")
    rm.add_argument("--first-mask", required=True, metavar="M.png", help="the object drawn in white on one frame")
    rm.add_argument("--frame", type=int, default=0, metavar="N", help="the frame it was drawn on (default: 0)")
    rm.add_argument("-o", "--output", required=True, help="output folder (lossless frames) or video file")
    rm.add_argument("--mask-dilation", type=int, default=5, metavar="N", help="grow the tracked masks by N px (5)")
    rm.add_argument("--save-masks", metavar="DIR", help="where the tracked masks go (default: OUTPUT.masks)")
    _add_file_arguments(rm, overwrite_help="replace an earlier output and its masks")
    an = sub.add_parser(
        "anonymize",
        help="find faces, track them, and box, blur or remove (inpaint) their heads; then check the output for leaks",
        description="The masks (OUTPUT.masks/frames/, white where replaced) and a record of every track and leak "
        "(OUTPUT.masks/anonymize.json) are saved before anything is filled. The output is then checked: where the "
        "face detector still finds a face, the frame is listed, and the command exits with 3 unless --allow-leaks. "
        "Other exit codes as for inpaint.",
    )
    an.add_argument("input", help="video (mp4/mov/mkv/avi) or folder of RGB (or grey) frames")
    an.add_argument("-o", "--output", required=True, help="output folder (lossless frames) or video file")
    an.add_argument("--faces", action="store_true", default=True, help="find faces (the default, and the only kind)")
    an.add_argument("--plates", action="store_true", help="licence plates: not available (no detector ships)")
    an.add_argument(
        "--mode",
        default="box",
        choices=("box", "blur", "remove"),
        help="box (the default: black over each head, the mode that leaked least), blur, or remove (inpaint each "
        "head from the background: for small faces with background to copy)",
    )
    an.add_argument("--threshold", type=float, help="detector score a face must reach once (default: 0.4)")
    an.add_argument("--verify-threshold", type=float, help="score of the check on the output (default: 3/4 of it)")
    an.add_argument("--record", metavar="RECORD.json", help="also write the record here")
    an.add_argument(
        "--allow-leaks", action="store_true", help="exit with 0 even when the check still finds a face (listed)"
    )
    an.add_argument("--strict", action="store_true", help=argparse.SUPPRESS)  # the default since issue 27
    an.add_argument(
        "--mask-dilation", type=int, default=0, metavar="N", help="--mode remove: grow the head masks by N px"
    )
    an.add_argument("--save-masks", metavar="DIR", help="where masks and record go (default: OUTPUT.masks)")
    _add_file_arguments(an, overwrite_help="replace an earlier output and its masks")
    rs = sub.add_parser("restore", help="detect and repair dust, dirt and scratches in a scanned film sequence")
    rs.add_argument("scans", help="folder of scanned frames (PNG/TIFF, 8/16-bit; DPX with the dpx extra; grey or RGB)")
    rs.add_argument("-o", "--out", required=True, help="output folder (frames/, provenance/, fixes.json)")
    rs.add_argument("--report", action="store_true", help="also write a self-contained report.html")
    rs.add_argument("--sensitivity", type=float, default=1.0, help="above 1 finds fainter defects")
    rs.add_argument("--min-area", type=int, default=5, help="smallest blotch reported, in pixels (default: 5)")
    rs.add_argument(
        "--deflicker",
        action="store_true",
        help="also correct flicker (a smooth brightness gain per frame), recorded as revertible fixes",
    )
    rs.add_argument(
        "--repair-moving",
        action="store_true",
        help="also repair regions left alone as moving objects or picture edges (listed in the report)",
    )
    rs.add_argument("--backend", default="auto", choices=("auto", "cpu", "cuda"))
    rs.add_argument("--overwrite", action="store_true", help="replace an earlier restore output made otherwise")
    _add_config(rs)
    rv = sub.add_parser("revert", help="put back the scanned pixels of chosen fixes of a restore output")
    rv.add_argument("out", help="a `hybridinpaint restore` output folder")
    rv.add_argument("--ids", required=True, help="comma-separated fix ids (see fixes.json or report.html)")
    rv.add_argument(
        "--original",
        help="the scans folder the output was made from (default: the one recorded in fixes.json); "
        "every scan must match the checksum recorded at restore time",
    )
    st = sub.add_parser(
        "stream",
        help="fill a live stream: raw RGB24 frames on stdin, filled frames on stdout (an ffmpeg pipe)",
    )
    st.add_argument("--size", required=True, help="frame size WIDTHxHEIGHT, e.g. 432x240")
    st.add_argument("--mask", required=True, help="mask image (white where missing), one for every frame")
    st.add_argument("--lookahead", type=int, default=4, help="frames each frame waits for (latency, default 4)")
    st.add_argument("--backend", default="auto", choices=("auto", "cpu", "cuda"))
    _add_config(st)
    so = sub.add_parser(
        "studio",
        help="a local web app: draw a mask, track it, preview, run, review restore fixes (needs the studio extra)",
    )
    so.add_argument("path", nargs="?", default=".", help="folder to serve (only files under it), or a video to open")
    so.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default: %(default)s)")
    so.add_argument("--no-browser", action="store_true", help="do not open a browser")
    ev = sub.add_parser("evaluate", help="PSNR, SSIM, warp error and temporal consistency against the truth")
    ev.add_argument("result", help="the result: a video or a frame folder")
    ev.add_argument("truth", help="the truth, the same size and length")
    ev.add_argument("--mask", help="also PSNR/SSIM inside this mask, and steadiness only there (image, folder, video)")
    ev.add_argument("--json", metavar="FILE", help="also write the numbers to FILE (JSON)")
    cf = sub.add_parser(
        "config",
        help="print the settings (every tunable, with the measurement that chose it) as a TOML file for --config",
    )
    _add_config(cf)
    sub.add_parser(
        "train",
        add_help=False,
        help="train the never-seen-pixel network on a folder of photos (see `hybridinpaint train --help`)",
    )
    return p


def main(argv=None) -> int:
    """Run the command line; returns the exit code (0 done, 1 refused or failed, 2 bad command line).

    A failure is one line on stderr naming the command; no traceback reaches
    the user unless ``HYBRIDINPAINT_DEBUG=1`` asks for it.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), "")
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print(f"hybridinpaint {command}: interrupted; finished work is kept, run again to continue", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place a failure becomes a message
        if os.environ.get("HYBRIDINPAINT_DEBUG") == "1":
            raise
        known = isinstance(exc, (OSError, ValueError, ImportError, RuntimeError))
        what = str(exc) if known else f"internal error {type(exc).__name__}: {exc} (HYBRIDINPAINT_DEBUG=1 shows where)"
        print(f"hybridinpaint {command}: {what}".rstrip(), file=sys.stderr)
        return 1


def _ids(text: str) -> list[int]:
    parts = [x.strip() for x in text.split(",") if x.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise ValueError(f"--ids must be comma-separated fix ids (positive integers), got {text!r}")
    return [int(p) for p in parts]


def _main(argv) -> int:
    if argv[:1] == ["train"]:
        from hybridinpaint.completion.train import main as train_main

        return train_main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from hybridinpaint import __version__

        print(__version__)
        return 0
    if args.command == "doctor":
        from hybridinpaint.interfaces.doctor import report

        return report(compile=args.compile)
    if args.command == "config":
        sys.stdout.write(_settings(args).to_toml())
        return 0
    if args.command == "demo":
        from hybridinpaint.interfaces.demo import run

        out = run(args.out, backend=args.backend, overwrite=args.overwrite)
        print(f"hybridinpaint demo: wrote {out}/ (side_by_side/ shows input | result | provenance)")
        return 0
    if args.command == "inpaint":
        return _inpaint(args)
    if args.command == "remove":
        return _remove(args)
    if args.command == "studio":
        try:
            import uvicorn  # noqa: F401

            from hybridinpaint.interfaces.studio import serve
        except ImportError as exc:
            raise ImportError(f"the studio needs its extra: pip install 'hybridinpaint[studio]' ({exc})") from exc
        serve(args.path, port=args.port, open_browser=not args.no_browser)
        return 0
    if args.command == "anonymize":
        return _anonymize(args)
    if args.command == "restore":
        from hybridinpaint.runs.restore import restore_dir

        doc = restore_dir(
            args.scans,
            args.out,
            sensitivity=args.sensitivity,
            min_area=args.min_area,
            deflicker=args.deflicker,
            repair_moving=args.repair_moving,
            report=args.report,
            backend=args.backend,
            settings=_settings(args),
            overwrite=args.overwrite,
        )
        totals = ", ".join(f"{n} {k}" for k, n in sorted(doc["totals"].items())) or "nothing"
        spared = len(doc.get("spared") or [])
        left = (
            f"; {spared} left alone as moving objects or picture edges (--repair-moving repairs them)" if spared else ""
        )
        print(
            f"hybridinpaint restore: {len(doc['fixes'])} fixes ({totals}) in {len(doc['frames'])} frames{left} "
            f"-> {args.out}"
        )
        return 0
    if args.command == "stream":
        from hybridinpaint.runs.pipe import stream_pipe

        try:
            n = stream_pipe(
                args.size, args.mask, lookahead=args.lookahead, backend=args.backend, settings=_settings(args)
            )
        except BrokenPipeError:  # the reader went away (ffplay closed): not a failure
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        print(f"hybridinpaint stream: {n} frames", file=sys.stderr)
        return 0
    if args.command == "evaluate":
        from hybridinpaint.runs import io
        from hybridinpaint.runs.evaluate import evaluate_files, format_table

        doc = evaluate_files(args.result, args.truth, args.mask)
        print(format_table(doc))
        if args.json:
            io.write_json(args.json, doc)
        return 0
    if args.command == "revert":
        from hybridinpaint.runs.restore import revert_dir

        done = revert_dir(args.out, _ids(args.ids), args.original)
        print(f"hybridinpaint revert: reverted fixes {done} in {args.out}")
        return 0
    parser.print_help()
    return 2


def _file_options(args) -> dict:
    """The options `inpaint` and `remove` share, from their command lines."""
    return {
        "chunk": args.chunk,
        "provenance": args.provenance,
        "resume": True if args.resume else None,
        "overwrite": args.overwrite,
        "progress": not args.quiet,
        "mask_dilation": args.mask_dilation,
        "hallucinate": args.hallucinate,
        "backend": args.backend,
        "settings": _settings(args),
    }


def _inpaint(args) -> int:
    from hybridinpaint.runs.stream import inpaint_file

    summary = inpaint_file(
        args.input,
        args.mask,
        args.output,
        overlap=args.overlap,
        scheduler=args.scheduler,
        workers=args.workers,
        flow_dilation=args.flow_dilation,
        **_file_options(args),
    )
    if summary["empty_mask"] and not summary["resumed_chunks"]:
        print(f"hybridinpaint inpaint: the mask {args.mask} is empty; the input was copied through", file=sys.stderr)
    filled = ", ".join(f"{n} {name}" for name, n in summary["pixels"].items() if n) or "nothing filled"
    resumed = f", {summary['resumed_chunks']} chunks from an earlier run" if summary["resumed_chunks"] else ""
    print(
        f"hybridinpaint inpaint: {summary['frames']} frames in {summary['chunks']} chunks{resumed}; "
        f"pixels: {filled}; {summary['seconds']:.1f} s -> {summary['output']}"
    )
    return 0


def _remove(args) -> int:
    from hybridinpaint.runs.remove import remove_file

    summary = remove_file(
        args.input, args.first_mask, args.output, frame=args.frame, save_masks=args.save_masks, **_file_options(args)
    )
    how = "tracked" if summary["tracked"] else "reused from the earlier run"
    check = summary["unsure"][:10]
    more = f" (and {len(summary['unsure']) - 10} more)" if len(summary["unsure"]) > 10 else ""
    note = f"; check frames {check}{more}" if check else ""
    print(
        f"hybridinpaint remove: masks {how} -> {summary['masks']}{note}; {summary['frames']} frames filled in "
        f"{summary['seconds']:.1f} s -> {summary['output']}"
    )
    return 0


_DONE = {"remove": "removed", "blur": "blurred", "box": "boxed"}


def _anonymize(args) -> int:
    import warnings

    from hybridinpaint.privacy import LeakWarning
    from hybridinpaint.runs.anonymize import anonymize_file

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LeakWarning)  # the command lists the leaks itself
        summary = anonymize_file(
            args.input,
            args.output,
            faces=args.faces,
            plates=args.plates,
            mode=args.mode,
            **({} if args.threshold is None else {"threshold": args.threshold}),
            verify_threshold=args.verify_threshold,
            record=args.record,
            save_masks=args.save_masks,
            **_file_options(args),
        )
    return _anonymize_report(args, summary)


def _anonymize_report(args, summary) -> int:
    from hybridinpaint.privacy import NOTHING_TO_COPY

    leaks = summary["leaks"]
    frames = summary["leaked_frames"]
    check = (
        f"; LEAKS: a face is still found in {len(frames)} frames {frames[:10]}{' ...' if len(frames) > 10 else ''}"
        if leaks
        else "; check: no face found in the output"
    )
    how = "reused" if summary["reused"] else "found"
    print(
        f"hybridinpaint anonymize: {summary['tracks']} face tracks {how} in {summary['frames']} frames, "
        f"{_DONE[args.mode]}{check}; record {summary['record']}; {summary['seconds']:.1f} s -> {summary['output']}"
    )
    for tr in summary["track_report"]:
        unseen = "" if tr["unseen"] is None else f", {tr['unseen']:.0%} of the head never seen in another frame"
        if tr["unseen"] is not None and tr["unseen"] > NOTHING_TO_COPY:
            unseen += " (nothing to copy: made up from around it; --mode box hides it for certain)"
        print(
            f"  track {tr['id']}: frames {tr['frames'][0]}-{tr['frames'][-1]}, detected on {tr['detected']}, "
            f"carried on {len(tr['carried'])}{unseen}{', LEAKED on ' + str(tr['leaks']) if tr['leaks'] else ''}"
        )
    if summary.get("unseen") is not None:
        print(
            f"  {summary['unseen']:.0%} of the removed pixels were never seen in another frame"
            + (
                " (nothing to copy: made up from around them; --mode box hides them for certain)"
                if summary["unseen"] > NOTHING_TO_COPY
                else ""
            )
        )
    if summary["checked"]:
        print(f"  the check found and boxed {len(summary['checked'])} more face(s) before writing")
    for leak in leaks[:20]:
        print(f"  leak: frame {leak['frame']}, box {leak['box']}, score {leak['score']}: {leak['why']}")
    if leaks and not args.allow_leaks:
        print(
            "hybridinpaint anonymize: faces are still found in the output (listed above and in the record); "
            "look at those frames, try --mode box or a lower --threshold, or pass --allow-leaks to accept them",
            file=sys.stderr,
        )
        return 3
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
