"""Saving fitted models as plain JSON and ``.npz`` files, never pickle.

Contract: :func:`write_model` writes ``model.json`` (parameters, vocabularies, ids)
and ``arrays.npz`` (numbers only, loaded with ``allow_pickle=False``) into a
directory.  Each file is written to a temporary file in the same directory and
moved into place with :func:`os.replace`, so a reader sees the old or the new
file, never half of one; ``model.json`` goes last and names the format version.
:func:`read_model` refuses directories written by another format version.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
from scipy import sparse

FORMAT = "neuvo-suggest/3"


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def pack_sparse(name: str, M: sparse.spmatrix, arrays: dict[str, np.ndarray]) -> None:
    """Store a CSR matrix as four plain arrays under ``name``."""
    M = sparse.csr_matrix(M)
    arrays[f"{name}.data"] = M.data
    arrays[f"{name}.indices"] = M.indices
    arrays[f"{name}.indptr"] = M.indptr
    arrays[f"{name}.shape"] = np.asarray(M.shape, dtype=np.int64)


def unpack_sparse(name: str, arrays) -> sparse.csr_matrix:
    """Rebuild a CSR matrix stored by :func:`pack_sparse`."""
    shape = tuple(int(x) for x in arrays[f"{name}.shape"])
    return sparse.csr_matrix((arrays[f"{name}.data"], arrays[f"{name}.indices"], arrays[f"{name}.indptr"]),
                             shape=shape)


def write_model(directory: str | os.PathLike, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write ``meta`` (JSON-able) and ``arrays`` into ``directory`` atomically per file."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    _atomic_write(path / "arrays.npz", lambda fh: np.savez_compressed(fh, **arrays))
    payload = json.dumps({"format": FORMAT, **meta}, ensure_ascii=False).encode("utf-8")
    _atomic_write(path / "model.json", lambda fh: fh.write(payload))


def read_model(directory: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """Read what :func:`write_model` wrote; raises ``ValueError`` on another format."""
    path = Path(directory)
    meta = json.loads((path / "model.json").read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} model (format {meta.get('format')!r})")
    with np.load(path / "arrays.npz", allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    return meta, arrays
