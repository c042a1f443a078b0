"""One engine for file runs: the run record, resume and refusal, atomic chunks, progress.

Every file command (``inpaint``, ``remove``, ``anonymize``, ``restore``)
writes its output as a *run*: a folder holding the output and a record,
``hybridinpaint-run.json`` (for a video output, the folder ``OUTPUT.parts``
until the video is encoded). The record says what made the output::

    {"schema": "hybridinpaint.run", "version": 3, "command": "inpaint",
     "inputs": {"input": {"path": ..., "listing": ...}, "mask": {...}},
     "frames": 120, "options": {...}, "settings": {<Settings.to_dict()>},
     "plan": [[0, 32], [24, 56], ...], "done": 2}

A run is cut into the chunks of ``plan``; each finished chunk's files are
written atomically, then the record's ``done`` is raised (the record itself
is replaced atomically), so a killed run loses no finished chunk. Started
again on the same output, :func:`start` compares the record with the new
run: the same inputs, options and settings continue after the last finished
chunk (a finished run has nothing left to do); anything else is refused
with a message naming what differs, unless ``overwrite`` starts again. A run
that fails before its first chunk is finished leaves nothing behind
(:meth:`Run.abandon`), so a corrected rerun is not refused.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hybridinpaint.runs import io, media
from hybridinpaint.settings import Settings

__all__ = ["RECORD", "SCHEMA", "VERSION", "Run", "start", "fingerprint", "visible", "progress_bar"]

RECORD = "hybridinpaint-run.json"
SCHEMA = "hybridinpaint.run"
VERSION = 3  # 3: one record for every file command; 2: settings recorded; 1: inpaint only


def visible(folder: Path):
    """Entries of ``folder`` but hidden ones (.DS_Store, our temp files): what a user put there."""
    return (p for p in Path(folder).iterdir() if not p.name.startswith("."))


def fingerprint(path) -> dict:
    """Path and a hash of the names and sizes of a file or folder's visible files: what a resumed run must match."""
    path = Path(path).resolve()
    if path.is_dir():
        # Hidden files (a .DS_Store appearing, temp files) are not the input.
        files = sorted(p for p in visible(path) if p.is_file())
        h = hashlib.sha256("\n".join(f"{p.name}:{p.stat().st_size}" for p in files).encode()).hexdigest()[:16]
    else:
        h = hashlib.sha256(f"{path.name}:{path.stat().st_size}".encode()).hexdigest()[:16]
    return {"path": str(path), "listing": h}


@dataclass
class Run:
    """A started run: its folder, its record, and how many chunks of its plan are finished."""

    folder: Path
    record: dict
    done: int
    created: bool = False  # this call made the folder (abandon may remove it)
    started: float = field(default_factory=time.perf_counter)

    @property
    def plan(self) -> list[tuple[int, int]]:
        return [tuple(p) for p in self.record["plan"]]

    @property
    def finished(self) -> bool:
        return self.done >= len(self.record["plan"])

    def chunk_done(self, i: int) -> None:
        """Record chunk ``i`` (0-based) as finished; its files must already be in place."""
        self.done = i + 1
        self.record["done"] = self.done
        io.write_json(self.folder / RECORD, self.record)

    @contextmanager
    def building(self):
        """A temporary folder beside the run's folder in which to build a one-chunk output whole.

        On success it replaces the run's folder whole, holding the record with
        the run done; on any failure it is deleted and the run abandoned, so
        the output is the old one or the new one, never a mix.
        """
        try:
            tmp = io.temp_dir(self.folder)
        except BaseException:
            self.abandon()
            raise
        try:
            yield tmp
            io.write_json(tmp / RECORD, {**self.record, "done": len(self.record["plan"])})
            io.replace_dir(tmp, self.folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            self.abandon()
            raise
        self.done = self.record["done"] = len(self.record["plan"])

    def abandon(self) -> None:
        """Forget a run that failed before writing anything: its record goes (and its folder, if this run made it).

        A run that wrote files keeps its record, so a rerun continues over them.
        """
        if self.done or not self.folder.is_dir() or any(p.name != RECORD for p in visible(self.folder)):
            return
        (self.folder / RECORD).unlink(missing_ok=True)
        if self.created:
            shutil.rmtree(self.folder, ignore_errors=True)


def start(
    folder,
    *,
    command: str,
    inputs: dict,
    frames: int,
    options: dict,
    settings: Settings,
    plan,
    resume=None,
    overwrite=False,
    video=None,
    others: dict | None = None,
) -> Run:
    """Start, continue or refuse the run that writes into ``folder``.

    Parameters
    ----------
    folder : path
        Where the output's files and the record go.
    command : str
        The command (``"inpaint"``, ``"restore"``, ...): a record of another is refused.
    inputs : dict of str to path
        What the run reads, by name; they are fingerprinted (:func:`fingerprint`)
        and no output may be one of them, or inside or around one.
    frames, options, plan
        The run's length, its options (JSON values) and its chunks ``(start, stop)``.
    settings : Settings
        Recorded whole; a resume with other values is refused, naming them.
    resume : bool or None
        None: continue a recorded run if there is one, else start; True: there
        must be one; False: refuse a folder that holds one.
    overwrite : bool
        Delete an earlier output first: only a folder holding our record
        (or an empty one), or a video file hybridinpaint wrote (``video``).
    video : path, optional
        The video file this run encodes at the end (``folder`` is then its
        work folder).
    others : dict of str to path, optional
        Further paths the run writes (checked against ``inputs`` too).
    """
    folder = Path(folder)
    io.check_apart(
        {k: Path(v) for k, v in inputs.items()},
        {"output": Path(video) if video else folder, "output work folder": folder, **(others or {})},
    )
    io.clean_stale(Path(video) if video else folder)
    if overwrite:
        if folder.is_dir():
            if any(visible(folder)) and not (folder / RECORD).exists():
                raise ValueError(f"{folder} holds no {RECORD}: not a hybridinpaint output, refusing to delete it")
            shutil.rmtree(folder)
        if video and Path(video).is_file():
            if not media.written_by_hybridinpaint(video):
                raise ValueError(
                    f"{video} was not written by hybridinpaint (or cannot be shown to be): refusing to delete it; "
                    "remove it yourself or choose another output"
                )
            Path(video).unlink()
    elif video and Path(video).exists() and not folder.exists():
        raise FileExistsError(f"{video} exists; pass --overwrite to replace it")
    expect = {
        "command": command,
        "inputs": {k: fingerprint(v) for k, v in inputs.items()},
        "frames": int(frames),
        "options": options,
        "settings": settings.to_dict(),
        "plan": [list(p) for p in plan],
    }
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"output {folder} exists and is not a folder")
    if folder.is_dir() and any(visible(folder)) and not (folder / RECORD).exists():
        raise ValueError(f"{folder} is not empty and holds no {RECORD}: refusing to write into it")
    had_record = (folder / RECORD).exists()
    done = _recorded(folder, expect, settings) if had_record else 0
    if resume is False and had_record:
        raise FileExistsError(f"{folder} holds a run; resume it or pass --overwrite")
    if resume is True and not had_record:
        raise FileNotFoundError(f"resume: {folder} holds no run to continue ({RECORD} not found)")
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    record = {"schema": SCHEMA, "version": VERSION, **expect, "done": done}
    io.write_json(folder / RECORD, record)
    return Run(folder, record, done, created)


def _recorded(folder: Path, expect: dict, settings: Settings) -> int:
    """Chunks already done in ``folder`` for the run described by ``expect``."""
    path = folder / RECORD
    try:
        doc = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is corrupt ({exc}); delete it (or the output) to start again") from exc
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ValueError(f"{path} is not a hybridinpaint run record; refusing to write into {folder}")
    if doc.get("version") != VERSION:
        raise ValueError(
            f"{path} has version {doc.get('version')!r}, this hybridinpaint writes {VERSION}; pass --overwrite"
        )
    if doc.get("command") != expect["command"]:
        raise ValueError(
            f"{folder} holds a `{doc.get('command')}` run, not `{expect['command']}`; choose another output"
        )
    if doc.get("settings") != expect["settings"]:
        names = settings.differences(doc.get("settings") or {})
        raise ValueError(
            f"{folder} holds a run made with other settings ({', '.join(names)}); run it again with the settings "
            "it was started with, or pass --overwrite to start again"
        )
    differ = []
    for k in expect:
        was, now = doc.get(k), expect[k]
        if was == now:
            continue
        if isinstance(was, dict) and isinstance(now, dict):  # name the option or input that changed
            differ += [f"{k}.{n}" for n in sorted(set(was) | set(now)) if was.get(n) != now.get(n)]
        else:
            differ.append(k)
    if differ:
        raise ValueError(
            f"{folder} holds a run with a different {', '.join(differ)}; use another output, or --overwrite to start "
            "again"
        )
    done = doc.get("done")
    if not isinstance(done, int) or not 0 <= done <= len(doc["plan"]):
        raise ValueError(f"{path} is corrupt (done = {done!r})")
    return done


def progress_bar(total: int, *, desc: str, unit: str = "frame", initial: int = 0, enabled: bool = True):
    """The progress bar of a run (tqdm on stderr), started only once the work starts.

    Start it after compiling (``kernels.warm_up``) and after any set-up, so
    its rate and time left measure the work; ``smoothing=0.1`` keeps one slow
    first chunk from promising hours.
    """
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit=unit, desc=desc, disable=not enabled, smoothing=0.1)
