"""How deep a JSON text nests, measured without parsing it (so without recursion).

One measure for every JSON that comes in: request bodies (``api.main.JSONDepthLimit``) and
uploaded submission files (``api.ingest.readers``). Python's parsers recurse once per level,
so a text of 100,000 ``[`` would raise RecursionError: it is refused before it is parsed.
"""

import json

import numpy as np

MAX_JSON_DEPTH = 64  # nested arrays/objects in a request body; GeoJSON needs under 10

_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_BRACKET_STEP = np.zeros(256, np.int8)
_BRACKET_STEP[list(b"[{")] = 1
_BRACKET_STEP[list(b"]}")] = -1
_DEPTH_CHUNK = 1 << 22


def json_depth(body: bytes) -> int:
    """How deep arrays and objects nest in a JSON text, without parsing it.

    Iterative and linear (vectorised), so that a body of 100,000 ``[`` costs no recursion:
    escaped backslashes and quotes are dropped, then everything but brackets and quotes;
    a bracket after an odd number of quotes is inside a string and does not count.
    """
    encoding = json.detect_encoding(body)
    if encoding not in ("utf-8", "utf-8-sig"):  # the parsers read UTF-16/32 too
        body = body.decode(encoding, errors="replace").encode()
    skeleton = (
        body.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    )
    deepest = level = quotes = 0
    for start in range(0, len(skeleton), _DEPTH_CHUNK):  # chunks bound the memory
        size = min(_DEPTH_CHUNK, len(skeleton) - start)
        codes = np.frombuffer(skeleton, np.uint8, count=size, offset=start)
        seen = np.cumsum(codes == ord('"'), dtype=np.int64) + quotes
        quotes = int(seen[-1])
        steps = _BRACKET_STEP[codes]
        steps[(seen & 1).astype(bool)] = 0
        levels = np.cumsum(steps, dtype=np.int64) + level
        deepest, level = max(deepest, int(levels.max())), int(levels[-1])
    return deepest
