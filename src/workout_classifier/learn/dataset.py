"""Dataset layout: `<root>/<exercise>/<clip>` with the folder name as the label.

Every clip also gets a *group* so that cross-validation can keep near-twins on
one side of a split: UCF101 names `v_<Class>_gGG_cCC` share a group per source
video GG within their class; a `groups.csv` (columns clip, group) in the root
overrides; any other clip is its own group.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

VIDEO_EXTS = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}
_UCF = re.compile(r"^v_(?P<cls>[A-Za-z0-9]+)_g(?P<g>\d+)_c(?P<c>\d+)$")
# Order matters: `squat_correct_3` is kaiakol's, not a Kaggle `<exercise>_N`.
_SOURCES = (
    ("ucf101", _UCF),
    ("pushfit", re.compile(r"^pushfit-", re.I)),
    ("kaiakol", re.compile(r"_(correct|incorrect)_\d+$", re.I)),
    ("kaggle", re.compile(r"^[a-z][a-z \-_]*_\d+$|videoplayback", re.I)),
)
SOURCES = (*(name for name, _ in _SOURCES), "other")
# `<owner>__<file>`: a clip taken from someone's repository or channel (../shared/data's new
# sources); each owner is a source of its own, so leave-source-out tests on people, rooms and
# cameras nothing else comes from.
_OWNER = re.compile(r"^(?P<owner>[A-Za-z0-9][\w.-]*?)__.")


class DatasetError(Exception):
    """The dataset folder cannot be used (missing, empty, no exercise folders)."""


@dataclass(frozen=True)
class Clip:
    path: Path
    label: str
    group: str
    source: str = "other"

    @property
    def name(self) -> str:
        return f"{self.label}/{self.path.name}"


def is_video_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in VIDEO_EXTS and not path.name.startswith(".")


def default_group(label: str, path: Path) -> str:
    m = _UCF.match(path.stem)
    if m:
        return f"{label}/ucf:{m['cls']}_g{m['g']}"
    return f"{label}/{path.name}"


def default_source(path: Path) -> str:
    """Where a clip comes from, by its file name (see the module docstring); `other` when no rule fits."""
    m = _OWNER.match(path.stem)
    if m:
        return f"owner:{m['owner']}"
    for name, rule in _SOURCES:
        if rule.search(path.stem):
            return name
    return "other"


def _read_groups_csv(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """({clip: group}, {clip: source}) from `groups.csv`; either column may be empty."""
    f = root / "groups.csv"
    if not f.is_file():
        return {}, {}
    groups: dict[str, str] = {}
    sources: dict[str, str] = {}
    with f.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            clip = (row.get("clip") or "").strip().replace("\\", "/")
            group, source = (row.get("group") or "").strip(), (row.get("source") or "").strip()
            if clip and group:
                groups[clip] = group
            if clip and source:
                sources[clip] = source
    return groups, sources


def scan_dataset(root: str | Path) -> tuple[list[Clip], list[dict]]:
    """Return (clips sorted by label then name, problems) for a dataset root.

    Problems are non-fatal findings: empty exercise folders, files that are not
    videos by extension. Raises DatasetError when nothing usable is there.
    """
    root = Path(root)
    if not root.exists():
        raise DatasetError(f"dataset folder does not exist: {root}")
    if not root.is_dir():
        raise DatasetError(f"dataset path is not a folder: {root}")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise DatasetError(f"no exercise folders in {root} (expected <root>/<exercise>/<clip>.mp4)")
    overrides, source_of = _read_groups_csv(root)
    clips: list[Clip] = []
    problems: list[dict] = []
    for folder in folders:
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        videos = [p for p in files if p.suffix.lower() in VIDEO_EXTS]
        for p in files:
            if p.suffix.lower() not in VIDEO_EXTS:
                problems.append({"file": str(p), "reason": "not a video file (extension)"})
        if not videos:
            problems.append({"file": str(folder), "reason": "empty folder (no video clips)"})
            continue
        for p in videos:
            rel = f"{folder.name}/{p.name}"
            group = overrides.get(rel) or overrides.get(p.name) or default_group(folder.name, p)
            source = source_of.get(rel) or source_of.get(p.name) or default_source(p)
            clips.append(Clip(path=p, label=folder.name, group=group, source=source))
    if not clips:
        raise DatasetError(f"no video clips found under {root}")
    return clips, problems
