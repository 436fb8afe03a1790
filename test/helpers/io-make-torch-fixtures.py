#!/usr/bin/env python3
"""Regenerate test/helpers/io-torch-fixtures.ts (Python stdlib + numpy; torch NOT needed).

torch.save's archive layout is reproduced with the standard library so the fixtures come from
an independent implementation of pickle and zip: fake `torch` / `torch._utils` modules give the
globals the names torch uses, and a Pickler's persistent_id emits torch's
('storage', <StorageType>, key, 'cpu', numel) ids. Expected tensor values are computed with
numpy.lib.stride_tricks.as_strided from the same storages.

Run: python3 test/helpers/io-make-torch-fixtures.py > test/helpers/io-torch-fixtures.ts
"""
import base64, collections, io, json, pickle, sys, types, zipfile
import numpy as np

torch = types.ModuleType('torch'); torch_utils = types.ModuleType('torch._utils')
torch._utils = torch_utils
sys.modules['torch'] = torch; sys.modules['torch._utils'] = torch_utils

def _mk(mod, name, obj):
    obj.__module__ = mod.__name__; obj.__qualname__ = name; obj.__name__ = name
    setattr(mod, name, obj); return obj

STORAGES = {'FloatStorage': np.float32, 'HalfStorage': np.float16, 'BFloat16Storage': None,
            'DoubleStorage': np.float64, 'LongStorage': np.int64, 'IntStorage': np.int32,
            'CharStorage': np.int8, 'ByteStorage': np.uint8, 'BoolStorage': np.bool_}
for n in STORAGES: _mk(torch, n, type(n, (), {}))
def _rebuild_tensor_v2(*a): raise RuntimeError('never called')
def _rebuild_parameter(*a): raise RuntimeError('never called')
_mk(torch_utils, '_rebuild_tensor_v2', _rebuild_tensor_v2)
_mk(torch_utils, '_rebuild_parameter', _rebuild_parameter)

class Storage:
    def __init__(self, key, kind, raw, numel): self.key, self.kind, self.raw, self.numel = key, kind, raw, numel
class Tensor:
    def __init__(self, storage, offset, size, stride): self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())
    def __reduce__(self): return (_rebuild_tensor_v2, self.args)
class Parameter:
    def __init__(self, t): self.t = t
    def __reduce__(self): return (_rebuild_parameter, (self.t, True, collections.OrderedDict()))

class TorchLikePickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage): return ('storage', getattr(torch, obj.kind), obj.key, 'cpu', obj.numel)
        return None

def storage(key, kind, values):
    if kind == 'BFloat16Storage':
        f = np.asarray(values, dtype=np.float32)
        raw = (f.view(np.uint32) >> 16).astype('<u2').tobytes()   # values chosen exactly representable
        arr = ((np.frombuffer(raw, '<u2').astype(np.uint32)) << 16).view(np.float32)
    else:
        arr = np.asarray(values, dtype=STORAGES[kind]); raw = arr.astype(arr.dtype.newbyteorder('<')).tobytes()
    return Storage(key, kind, raw, len(arr)), arr

def view(arr, offset, size, stride):
    return np.lib.stride_tricks.as_strided(arr[offset:], shape=size, strides=[s * arr.itemsize for s in stride]).copy()

def expected(arr):
    a = arr.astype(np.float64) if arr.dtype.kind == 'f' else arr.astype(np.int64)
    out = []
    for x in a.reshape(-1).tolist():
        out.append('NaN' if x != x else ('Infinity' if x == float('inf') else ('-Infinity' if x == float('-inf') else x)))
    return out

def build_state_dict():
    s0, a0 = storage('0', 'FloatStorage', [0, 1.5, 3, 4.5, 6, 7.5])
    s1, a1 = storage('1', 'HalfStorage', [1, -2.5, 65504, 6e-8, float('inf'), float('nan')])
    s2, a2 = storage('2', 'BFloat16Storage', [1, -0.333984375, 3.3895313892515355e38, 9.183549615799121e-41])
    s3, a3 = storage('3', 'LongStorage', [0, -1, 2147483647, -2147483648])
    s4, a4 = storage('4', 'BoolStorage', [True, False, True])
    s5, a5 = storage('5', 'DoubleStorage', [0.1, -1e300, 1e-320])
    s6, a6 = storage('6', 'IntStorage', [7, -8])
    s7, a7 = storage('7', 'CharStorage', [-128, 127])
    s8, a8 = storage('8', 'ByteStorage', [0, 255])
    s9, a9 = storage('9', 'FloatStorage', [42.25])
    s10, a10 = storage('10', 'FloatStorage', [])
    specs = [  # name, storage, arr, offset, size, stride
        ('w.t', s0, a0, 0, (3, 2), (1, 3)),        # transposed view: non-contiguous
        ('w', s0, a0, 0, (2, 3), (3, 1)),          # shares storage 0
        ('w.slice', s0, a0, 2, (2,), (1,)),        # storage offset
        ('w.col', s0, a0, 1, (2,), (3,)),          # strided column with offset
        ('half', s1, a1, 0, (2, 3), (3, 1)),
        ('bf16', s2, a2, 0, (4,), (1,)),
        ('ids', s3, a3, 0, (1, 4), (4, 1)),
        ('mask', s4, a4, 0, (3,), (1,)),
        ('double', s5, a5, 0, (3,), (1,)),
        ('int', s6, a6, 0, (2,), (1,)),
        ('char', s7, a7, 0, (2,), (1,)),
        ('byte', s8, a8, 0, (2,), (1,)),
        ('scalar', s9, a9, 0, (), ()),
        ('empty', s10, a10, 0, (0, 4), (4, 1)),
    ]
    sd = collections.OrderedDict(); exp = {}
    storages = {}
    for name, s, arr, off, size, stride in specs:
        t = Tensor(s, off, size, stride)
        sd[name] = Parameter(t) if name == 'w' else t
        v = view(arr, off, size, stride)
        exp[name] = {'shape': list(size), 'values': expected(v)}
        storages[s.key] = s
    sd._metadata = collections.OrderedDict([('', {'version': 1})])   # as nn.Module.state_dict() sets
    return sd, exp, storages

def torch_zip(prefix, pkl, storages, compression=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    def put(z, name, data):  # fixed timestamps keep the generated file reproducible
        z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, compress_type=compression)
    with zipfile.ZipFile(buf, 'w', compression=compression) as z:
        put(z, f'{prefix}/data.pkl', pkl)
        put(z, f'{prefix}/byteorder', 'little')
        for k, s in storages.items(): put(z, f'{prefix}/data/{k}', s.raw)
        put(z, f'{prefix}/version', '3\n')
    return buf.getvalue()

def dumps(obj, protocol):
    f = io.BytesIO(); TorchLikePickler(f, protocol=protocol).dump(obj); return f.getvalue()

class Evil:
    def __init__(self, fn, arg): self.fn, self.arg = fn, arg
    def __reduce__(self): return (self.fn, (self.arg,))

import os, builtins
sd, exp, storages = build_state_dict()
out = {}
out['VIEWS_P2_ZIP'] = torch_zip('views', dumps(sd, 2), storages)
# ZIP64: lower zipfile's limits so every entry and the end record use ZIP64 structures.
saved = (zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT)
zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 0, 0
out['VIEWS_P4_ZIP64'] = torch_zip('my_model', dumps(sd, 4), storages)
zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = saved
out['VIEWS_DEFLATED_ZIP'] = torch_zip('views', dumps(sd, 2), storages, zipfile.ZIP_DEFLATED)
evil_sd = collections.OrderedDict([('weight', Evil(os.system, 'echo pwned'))])
out['EVIL_OS_SYSTEM_PKL'] = pickle.dumps(evil_sd, protocol=2)
out['EVIL_EVAL_P4_PKL'] = pickle.dumps(Evil(builtins.eval, '1+1'), protocol=4)
out['EVIL_OS_SYSTEM_ZIP'] = torch_zip('archive', out['EVIL_OS_SYSTEM_PKL'], {})
# torch<1.6 files start with a protocol-2 pickle of this magic number
out['LEGACY_MAGIC_PKL'] = pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)
# A view that reaches past its storage (offset 2 + 3 elements of a 4-element storage)
s, _ = storage('0', 'FloatStorage', [1, 2, 3, 4])
out['OUT_OF_BOUNDS_VIEW_ZIP'] = torch_zip('archive', dumps(collections.OrderedDict([('bad', Tensor(s, 2, (3,), (1,)))]), 2), {'0': s})

print('// GENERATED by test/helpers/io-make-torch-fixtures.py (Python stdlib pickle/zipfile + numpy); do not edit.')
for k, v in out.items():
    print(f"export const {k} = '{base64.b64encode(v).decode()}';")
print(f'export const VIEWS_EXPECTED: Record<string, {{ shape: number[]; values: (number | string)[] }}> = {json.dumps(exp)};')
