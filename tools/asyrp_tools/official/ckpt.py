"""Read torch.save checkpoints without executing pickled code.

torch.load unpickles arbitrary objects (a checkpoint can run any code), and
torch 1.13's weights_only loader refuses the released Asyrp files (opcode
BINFLOAT in the scheduler entry; checkpoint-keys README note 8).  This reader
interprets the pickle with an Unpickler whose find_class admits only:

  collections.OrderedDict         (state_dict containers)
  torch._utils._rebuild_tensor_v2 (every tensor; rebuilt here from raw bytes)
  torch.<Type>Storage             (only as the storage tag in persistent ids)

plus the plain containers and scalars pickle builds without a GLOBAL.  Any
other GLOBAL (os.system, builtins.eval, torch._utils._rebuild_parameter, ...)
raises UnsafeCheckpoint.  Both container formats are read: the zip archive of
torch >= 1.6 (<name>/data.pkl + <name>/data/<key>) and the legacy stream
(magic, protocol, sys_info, pickle, storage keys, raw storages).
"""
from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from typing import Any, Callable, Dict

import numpy as np
import torch

STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
    "BFloat16Storage": None,  # no numpy dtype: read as uint16 and widened below
}
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class UnsafeCheckpoint(pickle.UnpicklingError):
    pass


class _StorageTag:
    """Stands for torch.<Type>Storage in a persistent id; never called."""

    def __init__(self, name: str):
        self.name = name


class _Storage:
    def __init__(self, tag: _StorageTag, read: Callable[[], bytes]):
        self.tag, self._read, self._array = tag, read, None

    def array(self) -> np.ndarray:
        if self._array is None:
            raw = self._read()
            if self.tag.name == "BFloat16Storage":
                u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
                self._array = u.view(np.float32)
            else:
                self._array = np.frombuffer(raw, dtype=np.dtype(STORAGE_DTYPES[self.tag.name]).newbyteorder("<"))
        return self._array


class _PendingTensor:
    """A tensor whose bytes may not be readable yet: the legacy format stores
    the raw storages after the pickle, so tensors are built once it is read."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def build(self) -> torch.Tensor:
        arr = self.storage.array()
        item = arr.itemsize
        extent = 1 + sum((s - 1) * st for s, st in zip(self.size, self.stride)) if all(self.size) else 0
        if self.offset + extent > arr.size:
            raise pickle.UnpicklingError(f"tensor view {list(self.size)} at offset {self.offset} "
                                         f"exceeds its storage ({arr.size} elements)")
        view = np.lib.stride_tricks.as_strided(arr[self.offset:], shape=self.size,
                                               strides=tuple(s * item for s in self.stride))
        return torch.from_numpy(np.array(view, copy=True))


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, *rest):
    if not isinstance(storage, _Storage):
        raise UnsafeCheckpoint("_rebuild_tensor_v2 called on something that is not a storage")
    return _PendingTensor(storage, storage_offset, size, stride)


def _materialize(obj):
    """Replace every _PendingTensor in the (plain) object tree by a tensor."""
    if isinstance(obj, _PendingTensor):
        return obj.build()
    if isinstance(obj, dict):
        out = type(obj)() if isinstance(obj, collections.OrderedDict) else {}
        for k, v in obj.items():
            out[k] = _materialize(v)
        return out
    if isinstance(obj, list):
        return [_materialize(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_materialize(v) for v in obj)
    return obj


class _AllowListUnpickler(pickle.Unpickler):
    def __init__(self, f, storage_reader: Callable[[str, _StorageTag, int], Callable[[], bytes]]):
        super().__init__(f)
        self._storage_reader = storage_reader
        self._storages: Dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageTag(name)
        raise UnsafeCheckpoint(f"checkpoint refers to {module}.{name}, which is not on the allow-list "
                               "(OrderedDict, _rebuild_tensor_v2, torch storages); refusing to load it")

    def persistent_load(self, pid):
        # ('storage', <StorageTag>, key, location, numel[, view_metadata])
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage" and isinstance(pid[1], _StorageTag)):
            raise UnsafeCheckpoint(f"unsupported persistent id {pid!r:.80}")
        tag, key, numel = pid[1], str(pid[2]), int(pid[4])
        if len(pid) > 5 and pid[5] is not None:
            raise UnsafeCheckpoint("storage views (legacy view_metadata) are not supported")
        if key not in self._storages:
            self._storages[key] = _Storage(tag, self._storage_reader(key, tag, numel))
        return self._storages[key]


def _itemsize(tag: _StorageTag) -> int:
    return 2 if tag.name == "BFloat16Storage" else np.dtype(STORAGE_DTYPES[tag.name]).itemsize


def _load_zip(path: str):
    zf = zipfile.ZipFile(path)
    pkl = [n for n in zf.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pkl) != 1:
        raise pickle.UnpicklingError(f"{path}: zip checkpoint without exactly one <name>/data.pkl")
    root = pkl[0][: -len("data.pkl")]

    def reader(key, tag, numel):
        def read():
            raw = zf.read(f"{root}data/{key}")
            n = numel * _itemsize(tag)
            if len(raw) < n:
                raise pickle.UnpicklingError(f"{path}: storage {key} is truncated")
            return raw[:n]
        return read

    return _AllowListUnpickler(io.BytesIO(zf.read(pkl[0])), reader).load()


def _load_legacy(path: str):
    with open(path, "rb") as f:
        data = f.read()
    bio = io.BytesIO(data)

    def safe(obj_stream):
        return _AllowListUnpickler(obj_stream, lambda *a: (lambda: b"")).load()

    if safe(bio) != LEGACY_MAGIC:
        raise pickle.UnpicklingError(f"{path}: not a torch checkpoint (bad magic number)")
    safe(bio)  # protocol version
    safe(bio)  # sys_info (plain dict)
    tags: Dict[str, _StorageTag] = {}
    numels: Dict[str, int] = {}
    offsets: Dict[str, int] = {}

    def reader(key, tag, numel):
        tags[key], numels[key] = tag, numel
        return lambda: data[offsets[key]: offsets[key] + numels[key] * _itemsize(tag)]

    result = _AllowListUnpickler(bio, reader).load()
    keys = safe(bio)
    pos = bio.tell()
    # Each storage: int64 element count, then the raw little-endian elements.
    for key in keys:
        (n,) = struct.unpack("<q", data[pos:pos + 8])
        offsets[key] = pos + 8
        pos += 8 + n * _itemsize(tags[key])
        if pos > len(data):
            raise pickle.UnpicklingError(f"{path}: storage {key} is truncated")
    return result


def load_checkpoint(path: str):
    """The checkpoint's object tree: dicts, lists, tuples, scalars, strings and
    torch tensors (on CPU, in their stored dtype)."""
    if zipfile.is_zipfile(path):
        return _materialize(_load_zip(path))
    return _materialize(_load_legacy(path))


def state_dict_of(obj, path: str = "checkpoint") -> Dict[str, torch.Tensor]:
    """A flat {name: tensor} dict from a backbone checkpoint (a bare state_dict,
    which is what every official backbone is; manifest note 1)."""
    if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return dict(obj)
    kinds = type(obj).__name__ + (f" with keys {list(obj)[:6]}" if isinstance(obj, dict) else "")
    raise ValueError(f"{path}: expected a flat state_dict of tensors, got a {kinds}")


def load_direction_block(path: str) -> Dict[str, torch.Tensor]:
    """The DeltaBlock weights of a released Asyrp direction: entry "0" of the
    {"0", "optimizer", "scheduler"} dict (docs/method.md §2.5)."""
    obj = load_checkpoint(path)
    if not isinstance(obj, dict) or "0" not in obj:
        raise ValueError(f"{path}: not an Asyrp direction checkpoint (no entry \"0\")")
    return state_dict_of(obj["0"], f"{path} entry \"0\"")
