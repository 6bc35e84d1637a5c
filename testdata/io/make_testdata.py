#!/usr/bin/env python3
"""Writes the small PyTorch-format checkpoints that lib/io/torch_checkpoint_test.cpp reads.

    python3 testdata/io/make_testdata.py        # rewrites testdata/io/*.bin (byte-identical)

No torch needed: stand-in `torch` modules make Python's own pickler emit what `torch.save`
emits for a state dict (protocol 2; GLOBAL torch._utils._rebuild_tensor_v2; persistent ids
('storage', torch.FloatStorage, key, 'cpu', numel)); the zip layout is PyTorch's
(<root>/data.pkl, <root>/data/<key>, <root>/byteorder, <root>/version), stored, not compressed.
The bad files are hand-made variations of it. Every value is fixed, so the output is reproducible.
"""
import collections
import io
import os
import pickle
import struct
import sys
import types
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- stand-ins for the torch names a checkpoint refers to ----------------------------------
torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
torch._utils = torch_utils
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils


def _global(module, name, obj):
    obj.__module__ = module.__name__
    obj.__qualname__ = name
    obj.__name__ = name
    setattr(module, name, obj)
    return obj


rebuild_tensor_v2 = _global(torch_utils, "_rebuild_tensor_v2", lambda *a: None)
rebuild_tensor = _global(torch_utils, "_rebuild_tensor", lambda *a: None)
rebuild_parameter = _global(torch_utils, "_rebuild_parameter", lambda *a: None)
STORAGE_TYPES = {}
for name, fmt in [("FloatStorage", "<f"), ("HalfStorage", "<H"), ("BFloat16Storage", "<H"),
                  ("LongStorage", "<q"), ("IntStorage", "<i"), ("DoubleStorage", "<d")]:
    STORAGE_TYPES[name] = (_global(torch, name, type(name, (), {})), fmt)


class Storage:
    def __init__(self, type_name, key, values, numel=None):
        self.type, fmt = STORAGE_TYPES[type_name]
        self.key = key
        self.data = b"".join(struct.pack(fmt, v) for v in values)
        self.numel = len(values) if numel is None else numel


class Tensor:
    def __init__(self, storage, offset, size, stride, rebuild=rebuild_tensor_v2):
        self.args = (storage, offset, tuple(size), tuple(stride))
        self.rebuild = rebuild

    def __reduce_ex__(self, protocol):
        if self.rebuild is rebuild_tensor_v2:
            return (rebuild_tensor_v2, self.args + (False, collections.OrderedDict()))
        return (self.rebuild, self.args)


class Parameter:
    def __init__(self, tensor):
        self.tensor = tensor

    def __reduce_ex__(self, protocol):
        return (rebuild_parameter, (self.tensor, True, collections.OrderedDict()))


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", obj.type, obj.key, "cpu", obj.numel)
        return None


def torch_pickle(obj):
    buf = io.BytesIO()
    TorchPickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def write_zip(name, root, pickle_bytes, storages, byteorder="little", truncate=None, deflate=False):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        def add(path, data):
            info = zipfile.ZipInfo(root + "/" + path, date_time=(1980, 1, 1, 0, 0, 0))
            if deflate:
                info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
        add("data.pkl", pickle_bytes)
        if byteorder is not None:
            add("byteorder", byteorder)
        for s in storages:
            add("data/" + s.key, s.data)
        add("version", "3\n")
    data = buf.getvalue()
    if truncate is not None:
        data = data[:truncate(len(data))]
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def f16(x):
    return struct.unpack("<H", struct.pack("<e", x))[0]


def bf16(x):  # exact for the values used here
    return struct.unpack("<I", struct.pack("<f", x))[0] >> 16


# ---- a good checkpoint exercising every path ---------------------------------------------
s0 = Storage("FloatStorage", "0", [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
s1 = Storage("FloatStorage", "1", [100.0 + i for i in range(12)])
s2 = Storage("HalfStorage", "2", [f16(v) for v in (1.0, -2.0, 0.5, 65504.0)])
s3 = Storage("BFloat16Storage", "3", [bf16(v) for v in (1.0, -2.0, 0.5, 3.0)])
s4 = Storage("LongStorage", "4", [0, 1, 2, 3, 4])
s5 = Storage("FloatStorage", "5", [7.0, 8.0])
s6 = Storage("FloatStorage", "6", [])
s7 = Storage("FloatStorage", "7", [42.0])
s8 = Storage("IntStorage", "8", [-1, 2, -3])
s9 = Storage("DoubleStorage", "9", [0.25, -0.5])

state = collections.OrderedDict()
state["a.f32"] = Tensor(s0, 0, (2, 3), (3, 1))
state["a.tied"] = Tensor(s0, 0, (2, 3), (3, 1))                 # shares storage '0'
state["a.transposed"] = Tensor(s1, 2, (3, 2), (1, 3))           # t[i][j] = s1[2 + i + 3j]
state["a.offset"] = Tensor(s1, 4, (2,), (1,))                   # contiguous, offset 4: [104, 105]
state["h.f16"] = Tensor(s2, 0, (2, 2), (2, 1))
state["h.bf16"] = Tensor(s3, 0, (4,), (1,))
state["bert.embeddings.position_ids"] = Tensor(s4, 0, (1, 5), (5, 1))
state["p.param"] = Parameter(Tensor(s5, 0, (2,), (1,)))
state["empty"] = Tensor(s6, 0, (0, 3), (3, 1))
state["scalar"] = Tensor(s7, 0, (), (), rebuild=rebuild_tensor)
state["i.int32"] = Tensor(s8, 0, (3,), (1,))
state["d.double"] = Tensor(s9, 0, (2,), (1,))
state._metadata = collections.OrderedDict([("", {"version": 1})])  # as torch's state_dict has (BUILD)
good_pickle = torch_pickle(state)
storages = [s0, s1, s2, s3, s4, s5, s6, s7, s8, s9]
write_zip("tiny_archive.bin", "archive", good_pickle, storages)

# ---- bad ones ------------------------------------------------------------------------------
PROTO2 = b"\x80\x02"
# GLOBAL posix.system, then REDUCE('echo pwned'): must be refused at the GLOBAL.
evil = PROTO2 + b"cposix\nsystem\nq\x00X\x0a\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03."
write_zip("evil_posix_system.bin", "archive", evil, [])
write_zip("evil_os_system.bin", "archive", evil.replace(b"cposix\n", b"cos\n"), [])
# TUPLE2 on an empty stack.
write_zip("stack_underflow.bin", "archive", PROTO2 + b"}q\x00\x86.", [])
# The good pickle cut short: no STOP.
write_zip("pickle_eof.bin", "archive", good_pickle[: len(good_pickle) // 2], storages)
# The whole good file cut in half: the zip central directory is gone.
write_zip("truncated.bin", "archive", good_pickle, storages, truncate=lambda n: n // 2)
write_zip("big_endian.bin", "archive", good_pickle, storages, byteorder="big")
# A [2, 3] tensor over a 4-element storage.
short = Storage("FloatStorage", "0", [1.0, 2.0, 3.0, 4.0])
write_zip("short_storage.bin", "archive",
          torch_pickle(collections.OrderedDict([("w", Tensor(short, 0, (2, 3), (3, 1)))])), [short])
# The pickle declares 10 elements; the entry holds 4.
lying = Storage("FloatStorage", "0", [1.0, 2.0, 3.0, 4.0], numel=10)
write_zip("storage_size_mismatch.bin", "archive",
          torch_pickle(collections.OrderedDict([("w", Tensor(lying, 0, (4,), (1,)))])), [lying])
# 2^30 elements with stride 0 over a one-element storage: 4 bytes that would gather to 4 GB.
one = Storage("FloatStorage", "0", [1.0])
write_zip("stride_zero.bin", "archive",
          torch_pickle(collections.OrderedDict([("w", Tensor(one, 0, (1 << 30,), (0,)))])), [one])
# 4 MB of zero floats deflated to 4 KB: a zip bomb (real weights do not compress).
zeros = Storage("FloatStorage", "0", [0.0] * (1 << 20))
write_zip("zip_bomb.bin", "archive",
          torch_pickle(collections.OrderedDict([("w", Tensor(zeros, 0, (1 << 20,), (1,)))])), [zeros], deflate=True)
# The legacy (pre-1.6) format is a bare pickle stream, not a zip.
with open(os.path.join(HERE, "legacy.bin"), "wb") as f:
    f.write(PROTO2 + b"\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.")
print("wrote", HERE)
