"""GDAL made safe for untrusted uploads: no network, no virtual datasets, no external access.

GDAL opens a file by what it holds, not by its name: a ``.geojson`` that is really an OGR VRT
would be opened as one, and its ``SrcDataSource`` may name any local file or URL; a GeoJSON
``crs`` of type ``link`` makes GDAL fetch the named address. ``install`` (run when the readers
are imported, so in the server and in the worker alike) closes these doors for the whole
process:

* the VRT drivers (``OGR_VRT``, ``VRT``) are deregistered: nothing here needs them;
* every HTTP fetch GDAL makes through ``CPLHTTPFetch`` (CRS links, remote services) is
  answered by a callback that refuses it without touching the network;
* the curl-based virtual file systems (``/vsicurl/``, ``/vsis3/``...) accept no file name;
* SQLite/GeoPackage files may not reach other datasources (``VirtualOGR``), and no remote
  resource may point at a local file.

``watch`` tells the caller whether GDAL tried to fetch something while it opened a file, so the
reader can refuse such a file with a clear message instead of quietly ignoring what it asked.
"""

import contextlib
import ctypes
import ctypes.util
import glob
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pyogrio

logger = logging.getLogger(__name__)

CONFIG = {
    # /vsicurl/ and the other network file systems open only names ending so (none do)
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".safeground-network-disabled",
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/safeground-network-disabled",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
    "GDAL_ALLOW_REMOTE_RESOURCE_TO_ACCESS_LOCAL_FILE": "NO",
}
REMOVED_DRIVERS = (b"OGR_VRT", b"VRT")

_FETCH = ctypes.CFUNCTYPE(
    ctypes.c_void_p,  # CPLHTTPResult*
    ctypes.c_char_p,  # URL
    ctypes.c_void_p,  # options
    ctypes.c_void_p,  # progress function
    ctypes.c_void_p,  # progress argument
    ctypes.c_void_p,  # write function
    ctypes.c_void_p,  # write argument
    ctypes.c_void_p,  # user data
)


class _HTTPResult(ctypes.Structure):
    """The head of GDAL's ``CPLHTTPResult`` (the rest stays zeroed)."""

    _fields_ = [
        ("nStatus", ctypes.c_int),
        ("pszContentType", ctypes.c_void_p),
        ("nDataLen", ctypes.c_int),
        ("nDataAlloc", ctypes.c_int),
        ("pabyData", ctypes.c_void_p),
        ("pszErrBuf", ctypes.c_void_p),
    ]


_lock = threading.Lock()
_local = threading.local()
_state: dict = {"installed": False}


def _libgdal() -> ctypes.CDLL:
    """The GDAL library pyogrio uses (its wheel's copy, or the system's)."""
    here = Path(pyogrio.__file__).parent
    candidates = [
        *glob.glob(str(here.parent / "pyogrio.libs" / "libgdal*")),
        *glob.glob(str(here / ".dylibs" / "libgdal*")),
    ]
    system = ctypes.util.find_library("gdal")
    if system:
        candidates.append(system)
    if not candidates:
        raise RuntimeError("cannot find the GDAL library to make it safe for uploads")
    return ctypes.CDLL(candidates[0])


def install() -> None:
    """Make this process's GDAL safe for untrusted files (idempotent)."""
    with _lock:
        if _state["installed"]:
            return
        pyogrio.set_gdal_config_options(CONFIG)
        lib = _libgdal()
        lib.CPLCalloc.restype = ctypes.c_void_p
        lib.CPLCalloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
        lib.CPLStrdup.restype = ctypes.c_void_p
        lib.CPLStrdup.argtypes = [ctypes.c_char_p]
        lib.GDALGetDriverByName.restype = ctypes.c_void_p
        lib.GDALGetDriverByName.argtypes = [ctypes.c_char_p]
        lib.GDALDeregisterDriver.argtypes = [ctypes.c_void_p]
        lib.CPLHTTPSetFetchCallback.argtypes = [_FETCH, ctypes.c_void_p]

        @_FETCH
        def refuse(url, _opts, _pf, _pa, _wf, _wa, _user):
            tried = getattr(_local, "tried", None)
            if tried is not None:
                tried.append((url or b"").decode("utf-8", "replace"))
            # a result GDAL owns and frees: an error, no data
            result = lib.CPLCalloc(1, 512)
            head = _HTTPResult.from_address(result)
            head.nStatus = 1
            head.pszErrBuf = lib.CPLStrdup(b"network access is disabled for imports")
            return result

        lib.CPLHTTPSetFetchCallback(refuse, None)
        for name in REMOVED_DRIVERS:
            driver = lib.GDALGetDriverByName(name)
            if driver:
                lib.GDALDeregisterDriver(driver)
        _state.update(
            installed=True, lib=lib, callback=refuse
        )  # keep the callback alive
        logger.info("GDAL: network, VRT and external access disabled for imports")


@contextlib.contextmanager
def watch() -> Iterator[list[str]]:
    """Collect, in the list yielded, the URLs GDAL tried (and was refused) in this thread."""
    install()
    outer = getattr(_local, "tried", None)
    _local.tried = []
    try:
        yield _local.tried
    finally:
        if outer is not None:
            outer.extend(_local.tried)
        _local.tried = outer
