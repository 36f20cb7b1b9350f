"""Finding the participant CSVs of a bulk load in zips and folders, and checking their headers before staging.

Staging key of a file: ``<group>/sw1.pN.csv``. The group is the zip's stem for a file inside a zip; for a loose
CSV it is the first folder under the given source folder (or the source folder's own name when the CSV lies
directly in it).
"""

from __future__ import annotations

import fnmatch
import logging
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from watchlake.casas.format import FILE_GLOB, check_header, participant_from_path
from watchlake.errors import FormatError, IngestError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceFile:
    """One participant CSV to stage; ``open`` gives a fresh binary stream each call (a context manager)."""

    group: str
    name: str
    size: int
    origin: str
    open: Callable[[], AbstractContextManager[BinaryIO]]

    @property
    def key(self) -> str:
        return f"{self.group}/{self.name}"

    @property
    def participant(self) -> str:
        return participant_from_path(self.name)


def _zip_opener(archive: Path, member: str) -> Callable[[], AbstractContextManager[BinaryIO]]:
    @contextmanager
    def opener() -> Iterator[BinaryIO]:
        with zipfile.ZipFile(archive) as zipped, zipped.open(member) as stream:
            yield stream  # type: ignore[misc]

    return opener


def _file_opener(path: Path) -> Callable[[], AbstractContextManager[BinaryIO]]:
    @contextmanager
    def opener() -> Iterator[BinaryIO]:
        with open(path, "rb") as stream:
            yield stream

    return opener


def files_in_zip(archive: Path) -> list[SourceFile]:
    """The ``**/sw1.p*.csv`` members of a zip (any folder depth), grouped under the zip's stem."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            infos = [info for info in zipped.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as error:
        raise IngestError(
            f"{archive}: not a readable zip archive ({error}); delete it and download again"
        ) from None
    found = []
    for info in infos:
        name = PurePosixPath(info.filename).name
        if fnmatch.fnmatch(name, FILE_GLOB):
            participant_from_path(name)  # a stray name is an error, not a silent skip
            origin = f"{archive}:{info.filename}"
            found.append(
                SourceFile(archive.stem, name, info.file_size, origin, _zip_opener(archive, info.filename))
            )
    return found


def files_in_folder(folder: Path) -> list[SourceFile]:
    """Zips under ``folder`` (recursively) and loose ``sw1.p*.csv`` files outside them."""
    found: list[SourceFile] = []
    for archive in sorted(folder.rglob("*.zip")):
        found += files_in_zip(archive)
    for path in sorted(folder.rglob(FILE_GLOB)):
        participant_from_path(path)
        relative = path.relative_to(folder)
        group = relative.parts[0] if len(relative.parts) > 1 else folder.name
        found.append(SourceFile(group, path.name, path.stat().st_size, str(path), _file_opener(path)))
    return found


def collect(paths: list[Path]) -> list[SourceFile]:
    """All participant CSVs of the given zips, folders and CSV files; duplicates or nothing found are errors."""
    found: list[SourceFile] = []
    for path in paths:
        if path.is_dir():
            found += files_in_folder(path)
        elif path.suffix == ".zip":
            found += files_in_zip(path)
        elif path.is_file() and fnmatch.fnmatch(path.name, FILE_GLOB):
            found.append(
                SourceFile(path.parent.name, path.name, path.stat().st_size, str(path), _file_opener(path))
            )
        else:
            raise IngestError(f"{path}: not a folder, a zip or a sw1.pN.csv file; give --source one of those")
    if not found:
        raise IngestError(f"no {FILE_GLOB} files found in {', '.join(map(str, paths))}")
    seen: dict[str, str] = {}
    for source in found:
        if source.key in seen:
            raise IngestError(
                f"{source.key} comes from both {seen[source.key]} and {source.origin}; keep one"
            )
        seen[source.key] = source.origin
    return sorted(found, key=lambda source: source.key)


@dataclass(frozen=True)
class SetAside:
    """A source file that failed the CASAS header check: not staged, listed with its reason."""

    source: SourceFile
    reason: str


def split_checked(sources: list[SourceFile]) -> tuple[list[SourceFile], list[SetAside]]:
    """(files whose two header rows are right, files set aside with the reason), each in input order."""
    good: list[SourceFile] = []
    bad: list[SetAside] = []
    for source in sources:
        try:
            with source.open() as stream:
                check_header(stream, source.origin)
        except FormatError as error:
            bad.append(SetAside(source, str(error)))
        else:
            good.append(source)
    log.info("ingest: headers of %d files checked, %d set aside", len(sources), len(bad))
    return good, bad
