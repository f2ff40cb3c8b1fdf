"""A lab folder as a ``.zip`` (the authoring pages): unpacked safely into a folder of ours, and packed back.

Two layouts are accepted: a zip of the lab's folder (one folder at the top, named as the lab's slug) and a
zip of its contents (``lab.toml`` at the top; the folder then takes the slug that lab.toml gives, so that
``read_lab_folder``'s slug-versus-folder check holds). An upload is hostile until proven otherwise: it is
refused, with nothing written outside the folder given, when it is not a zip, holds too many entries or
too many bytes once unpacked (whatever its headers claim), an absolute path, a ``..``, a link, an
encrypted entry or one name twice.
"""

from __future__ import annotations

import re
import shutil
import stat
import tomllib
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from django.utils.translation import gettext as _

MAX_UNPACKED_BYTES = 200 * 2**20
MAX_ENTRIES = 20_000
CHUNK = 2**20
FALLBACK_FOLDER = "lab"  # a contents zip whose lab.toml names no usable slug (read_lab_folder says why)
JUNK_FOLDERS = ("__MACOSX",)  # what a Mac's "Compress" adds next to the folder
JUNK_FILES = (".DS_Store", "Thumbs.db")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # packed entries carry no clock: the same lab gives the same bytes

Member = tuple[tuple[str, ...], zipfile.ZipInfo]


class ArchiveRefused(ValueError):
    """The upload is not a lab folder's zip that we unpack (the message says why, for the author)."""


def lab_zip_unpack(archive: BinaryIO, into: Path) -> Path:
    """Unpack ``archive`` under ``into`` (an empty folder of ours) and return the lab's folder in it."""
    if not zipfile.is_zipfile(archive):
        raise ArchiveRefused(_("This file is not a .zip archive."))
    archive.seek(0)
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = _members(zipped)
            name, strip = _layout(zipped, members)
            folder = into / name
            budget = MAX_UNPACKED_BYTES
            for parts, info in members:
                budget -= _extract(zipped, info, folder.joinpath(*parts[strip:]), budget)
    except ArchiveRefused:
        raise
    # ValueError: a damaged header can send zipfile seeking before the start ("negative seek value")
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError, ValueError) as exc:
        raise ArchiveRefused(_("The .zip archive is damaged or unreadable (%(error)s).") % {"error": exc}) from exc
    return folder


def _members(zipped: zipfile.ZipFile) -> list[Member]:
    infos = zipped.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ArchiveRefused(_("The .zip archive holds more than %(count)d entries.") % {"count": MAX_ENTRIES})
    if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
        raise ArchiveRefused(_("Unpacked, the .zip archive exceeds %(mb)d MB.") % {"mb": MAX_UNPACKED_BYTES // 2**20})
    members: list[Member] = []
    seen: set[tuple[str, ...]] = set()
    for info in infos:
        parts = _safe_parts(info.filename)
        if not parts or info.filename.endswith("/") or parts[0] in JUNK_FOLDERS or parts[-1] in JUNK_FILES:
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveRefused(_("%(name)s is a symbolic link: only plain files are taken.") % _named(info))
        if info.flag_bits & 0x1:
            raise ArchiveRefused(_("%(name)s is encrypted: upload an archive without a password.") % _named(info))
        if parts in seen:
            raise ArchiveRefused(_("%(name)s appears twice in the archive.") % _named(info))
        seen.add(parts)
        members.append((parts, info))
    if not members:
        raise ArchiveRefused(_("The .zip archive holds no files."))
    return members


def _safe_parts(name: str) -> tuple[str, ...]:
    """The path of an entry, as parts; an absolute path or a ``..`` (a "zip slip") is refused."""
    if "\x00" in name or name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        raise ArchiveRefused(_("%(name)s is an absolute path: only relative paths are taken.") % {"name": name})
    parts = tuple(part for part in re.split(r"[/\\]", name) if part not in ("", "."))
    if ".." in parts:
        raise ArchiveRefused(_("%(name)s climbs out of the folder (..): refused.") % {"name": name})
    return parts


def _named(info: zipfile.ZipInfo) -> dict[str, str]:
    return {"name": info.filename}


def _layout(zipped: zipfile.ZipFile, members: list[Member]) -> tuple[str, int]:
    """The lab folder's name, and how many leading parts of each entry's path to drop."""
    toml = next((info for parts, info in members if parts == ("lab.toml",)), None)
    if toml is not None:
        return _slug_folder(zipped, toml), 0
    tops = {parts[0] for parts, _info in members}
    if len(tops) == 1 and all(len(parts) > 1 for parts, _info in members):
        return tops.pop(), 1
    raise ArchiveRefused(
        _(
            "The .zip archive must hold a lab's folder (one folder at the top) or the folder's contents "
            "(lab.toml at the top); this one holds: %(names)s."
        )
        % {"names": ", ".join(sorted(tops)[:10])}
    )


def _slug_folder(zipped: zipfile.ZipFile, toml: zipfile.ZipInfo) -> str:
    if toml.file_size > 2**20:
        return FALLBACK_FOLDER
    try:
        slug = tomllib.loads(zipped.read(toml).decode("utf-8")).get("slug")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return FALLBACK_FOLDER  # read_lab_folder reports what is wrong with lab.toml
    plain = isinstance(slug, str) and slug not in ("", ".", "..") and not re.search(r"[/\\\x00]", slug)
    return slug if plain and len(slug) <= 200 else FALLBACK_FOLDER


def _extract(zipped: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int) -> int:
    """Copy one entry to ``target``, at most ``budget`` bytes (the headers' sizes may lie); the bytes written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with zipped.open(info) as source, target.open("xb") as sink:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > budget:
                raise ArchiveRefused(
                    _("Unpacked, the .zip archive exceeds %(mb)d MB.") % {"mb": MAX_UNPACKED_BYTES // 2**20}
                )
            sink.write(chunk)
    return written


def lab_zip_pack(folder: Path, sink: BinaryIO) -> None:
    """Write ``folder`` to ``sink`` as a zip of the folder (one folder at the top, named as ``folder``),
    the layout ``lab_zip_unpack`` reads back."""
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(f"{folder.name}/{path.relative_to(folder).as_posix()}", date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            with path.open("rb") as source, zipped.open(info, "w") as target:
                shutil.copyfileobj(source, target, CHUNK)
