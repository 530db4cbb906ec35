"""Unpacking uploaded archives (zipped shapefiles, KMZ) without trusting them.

Refused, before anything is written: absolute paths and ``..`` components (zip slip), links,
more than ``max_entries`` members, and a declared size over ``max_bytes``. While unpacking, the
bytes actually written are counted, so an archive that lies about its sizes (a zip bomb) is
stopped at ``max_bytes`` or at a compression ratio above ``max_ratio``.
"""

import stat
import zipfile
from pathlib import Path, PurePosixPath


class UnsafeArchive(ValueError):
    """An archive was refused; the message says why."""


def extract(
    archive: Path,
    dest: Path,
    *,
    max_bytes: int,
    max_ratio: int = 200,
    max_entries: int = 1000,
) -> list[Path]:
    """Unpack ``archive`` into ``dest`` and return the files written."""
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise UnsafeArchive(f"not a readable zip archive: {exc}") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > max_entries:
            raise UnsafeArchive(
                f"the archive holds {len(infos)} members; the limit is {max_entries}"
            )
        declared = 0
        for info in infos:
            path = PurePosixPath(info.filename.replace("\\", "/"))
            if (
                path.is_absolute()
                or ".." in path.parts
                or (path.parts and ":" in path.parts[0])
            ):
                raise UnsafeArchive(
                    f"the archive member {info.filename!r} points outside the archive"
                )
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UnsafeArchive(f"the archive member {info.filename!r} is a link")
            declared += info.file_size
        if declared > max_bytes:
            raise UnsafeArchive(
                f"the archive unpacks to {declared} bytes; the limit is {max_bytes}"
            )
        written: list[Path] = []
        total = 0
        for info in infos:
            if info.is_dir():
                continue
            target = dest / PurePosixPath(info.filename.replace("\\", "/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            size = 0
            with zf.open(info) as src, target.open("wb") as out:
                while chunk := src.read(1 << 20):
                    size += len(chunk)
                    total += len(chunk)
                    if total > max_bytes:
                        raise UnsafeArchive(
                            f"the archive unpacks to more than {max_bytes} bytes (zip bomb?)"
                        )
                    if size > 1 << 20 and size > max_ratio * max(info.compress_size, 1):
                        raise UnsafeArchive(
                            f"the archive member {info.filename!r} expands more than "
                            f"{max_ratio} times (zip bomb?)"
                        )
                    out.write(chunk)
            written.append(target)
        return written
