"""results.npz: the large arrays of a result, in a compressed binary file beside its results.json.

A result's `to_dict(arrays={})` moves the fields that grow faster than one value per model
(each result class's `SIDECAR`: `rank_probs` (M, M), `survival` and
`expected_score_by_round` (M, K), `replicate_scores` (B, M), in the result and in the
results inside it) out of the JSON into `arrays`, and leaves a reference in their place,
`{"sidecar": KEY, "shape": [...], "dtype": "<f8"}`. `describe` adds the top-level
`"sidecar": {"file": "results.npz", "arrays": [KEY, ...]}` that names the file and its
arrays. `pack` writes the arrays into one compressed `.npz` (`numpy.load` reads it); a 2-D
array that is mostly zeros, as a rank distribution is, is kept as its nonzero entries (rows
as in CSR: `KEY#indptr`, `KEY#indices`, `KEY#data`, `KEY#shape`). `unpack` gives every
array back bit for bit, in its own dtype. `save` / `load` write and read the pair.

The rule: every results.json that csd writes (`csd-run`, `result.save`, `csd.report`) keeps
those fields in its sidecar (results.npz; `save("x.json")` writes x.npz), whatever the
table's size, so one reader serves every file;
`to_dict()` without `arrays` keeps everything inline. A results.json with the arrays inline
(written before the sidecar existed) loads as before.

Example:
  >>> import numpy as np
  >>> arrays = {"rank_probs": np.array([[0.75, 0.25, 0.0], [0.25, 0.75, 0.0], [0.0, 0.0, 1.0]])}
  >>> again = unpack(pack(arrays))
  >>> again["rank_probs"].dtype, np.array_equal(again["rank_probs"], arrays["rank_probs"])
  (dtype('float64'), True)
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from csd._src.outputs import atomic_write, to_json

FILE = "results.npz"  # the sidecar's name, beside results.json
_PART = "#"  # KEY#indptr, ...: the parts of an array kept sparse


def stash(arrays: dict, key: str, array) -> dict:
    """Puts `array` into `arrays` under `key`; returns the reference that stands in its
    place in the JSON."""
    array = np.asarray(array)
    arrays[key] = array
    return {"sidecar": key, "shape": list(array.shape), "dtype": array.dtype.str}


def is_reference(value) -> bool:
    """Whether a JSON value is a reference `stash` left."""
    return isinstance(value, dict) and "sidecar" in value


def fetch(arrays: Mapping[str, np.ndarray] | None, reference: dict) -> np.ndarray:
    """The array a reference stands for.

    Raises:
      ValueError: without `arrays`, or when they lack the array or hold another shape.
    """
    key = reference["sidecar"]
    if arrays is None:
        raise ValueError(f"{key} is in the sidecar (.npz) that the JSON names: read both with load(path), "
                         "or pass arrays=")
    if key not in arrays:
        raise ValueError(f"{key} is not in the sidecar (.npz) that the JSON names")
    array = arrays[key]
    if list(array.shape) != list(reference["shape"]):
        raise ValueError(f"{key} in the sidecar has shape {list(array.shape)}, the JSON says "
                         f"{reference['shape']}: the two files are not from one run")
    return array


def describe(data: dict, arrays: Mapping[str, np.ndarray], file: str = FILE) -> dict:
    """`data` with the top-level entry that names the sidecar `file` and its arrays
    (unchanged when there are none)."""
    if not arrays:
        return data
    return {**data, "sidecar": {"file": file, "arrays": sorted(arrays)}}


def pack(arrays: Mapping[str, np.ndarray]) -> bytes:
    """The bytes of a compressed .npz holding `arrays`; a 2-D array with fewer nonzero
    entries than half its size is kept as its rows' nonzero entries."""
    parts: dict[str, np.ndarray] = {}
    for key, array in arrays.items():
        if _PART in key:
            raise ValueError(f"array name {key!r}: {_PART!r} is reserved")
        parts.update(_sparse(key, array) if _mostly_zero(array) else {key: array})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, part in parts.items():  # as numpy.savez_compressed, with a fixed date: same arrays, same bytes
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(entry, "w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.asanyarray(part), allow_pickle=False)
    return buffer.getvalue()


def unpack(source: str | os.PathLike | bytes) -> dict[str, np.ndarray]:
    """The arrays `pack` wrote, from a path or the bytes."""
    with np.load(io.BytesIO(source) if isinstance(source, bytes) else source, allow_pickle=False) as stored:
        parts = {name: stored[name] for name in stored.files}
    arrays = {key: value for key, value in parts.items() if _PART not in key}
    for key in {name.split(_PART)[0] for name in parts if _PART in name}:
        arrays[key] = _dense(*(parts[f"{key}{_PART}{part}"] for part in ("shape", "indptr", "indices", "data")))
    return arrays


def save(path: str | os.PathLike, data: dict, arrays: Mapping[str, np.ndarray]) -> tuple[Path, ...]:
    """Writes `data` as JSON to `path` and, when there are `arrays`, the sidecar beside it,
    named as `path` with `.npz` (results.json: results.npz), first, so a JSON file never
    names a sidecar that is not there yet; each file atomically. Returns the paths written."""
    path = Path(path)
    npz = path.with_suffix(".npz")
    written = (atomic_write(npz, pack(arrays)),) if arrays else ()
    return written + (atomic_write(path, to_json(describe(data, arrays, npz.name))),)


def load(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray] | None]:
    """(data, arrays) of a results.json and the sidecar it names (None when it names none).

    Raises:
      OSError: when a file cannot be read; ValueError when it is not JSON or an npz.
    """
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    return data, arrays_of(path, data)


def arrays_of(path: str | os.PathLike, data: dict) -> dict[str, np.ndarray] | None:
    """The arrays of the sidecar that the results.json at `path` (read as `data`) names,
    or None when it names none.

    Raises:
      OSError: when the sidecar cannot be read; ValueError when it is not an npz.
    """
    entry = data.get("sidecar") if isinstance(data, dict) else None
    if not isinstance(entry, dict) or "file" not in entry:
        return None
    sidecar = Path(path).with_name(str(entry["file"]))
    try:
        return unpack(sidecar)
    except FileNotFoundError:
        raise FileNotFoundError(f"{sidecar}: the sidecar that {Path(path).name} names is missing") from None
    except (EOFError, KeyError, ValueError, zipfile.BadZipFile) as err:
        raise ValueError(f"{sidecar}: cannot read it as the sidecar of {Path(path).name} ({err})") from None


def _mostly_zero(array: np.ndarray) -> bool:
    return array.ndim == 2 and array.dtype.kind in "fiu" and 2 * np.count_nonzero(_kept(array)) < array.size


def _kept(array: np.ndarray) -> np.ndarray:
    """(R, C) bool: the entries a sparse copy keeps (-0.0 too, so every bit comes back)."""
    return (array != 0) | np.signbit(array) if array.dtype.kind == "f" else array != 0


def _sparse(key: str, array: np.ndarray) -> dict[str, np.ndarray]:
    kept = _kept(array)
    _, columns = np.nonzero(kept)  # row-major: the rows' entries in order
    index = np.uint16 if array.shape[1] <= np.iinfo(np.uint16).max + 1 else np.int64
    return {
        f"{key}{_PART}shape": np.array(array.shape, dtype=np.int64),
        f"{key}{_PART}indptr": np.concatenate([[0], np.cumsum(kept.sum(axis=1))]).astype(np.int64),
        f"{key}{_PART}indices": columns.astype(index),
        f"{key}{_PART}data": array[kept],
    }


def _dense(shape: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> np.ndarray:
    array = np.zeros(tuple(int(n) for n in shape), dtype=data.dtype)
    rows = np.repeat(np.arange(array.shape[0]), np.diff(indptr))
    array[rows, indices] = data
    return array
