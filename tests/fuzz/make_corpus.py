#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz harnesses (tests/fuzz/corpus/<reader>/): small valid files
and the hostile ones of the reliability issue, built with the standard library only. The
checkpoint seed comes from the harness itself:
    NUDGE_FUZZ_WRITE_SEED=tests/fuzz/corpus/checkpoint/valid build/bin/fuzz_replay_checkpoint /dev/null
Run from the repository root; the output is checked in."""
import gzip
import json
import os
import struct

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(reader, name, data):
    os.makedirs(os.path.join(here, reader), exist_ok=True)
    with open(os.path.join(here, reader, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors(header, data=b""):
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


f32 = struct.pack("<4f", 1.0, -2.0, 0.5, 3.0)
write("safetensors", "valid", safetensors(
    {"__metadata__": {"format": "nudge.module"}, "w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
     "i": {"dtype": "I64", "shape": [1], "data_offsets": [16, 24]}}, f32 + struct.pack("<q", 7)))
write("safetensors", "empty_tensor", safetensors({"e": {"dtype": "F64", "shape": [0, 3], "data_offsets": [0, 0]}}))
write("safetensors", "overflow_shape", safetensors(
    {"w": {"dtype": "F32", "shape": [4611686018427387905], "data_offsets": [0, 4]}}, b"abcd"))
write("safetensors", "overflow_pair", safetensors(
    {"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}}))
write("safetensors", "bool_mask", safetensors({"m": {"dtype": "BOOL", "shape": [2, 3], "data_offsets": [0, 6]}},
                                              bytes([1, 0, 1, 1, 0, 2])))  # the 2 is refused
write("safetensors", "truncated", safetensors(
    {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, f32)[:-5])

def idx(type_code, dims, data):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data

write("idx", "uint8_images", idx(0x08, [2, 2, 2], bytes(range(8))))
write("idx", "uint8_images.gz", gzip.compress(idx(0x08, [2, 2, 2], bytes(range(8)))))
write("idx", "labels", idx(0x08, [3], bytes([0, 9, 3])))
write("idx", "float64", idx(0x0E, [2], struct.pack(">2d", 1.0, float("nan"))))
write("idx", "int16", idx(0x0B, [2], struct.pack(">2h", -2, 258)))
write("idx", "wrapping_dims", idx(0x08, [65536, 65536, 65536, 65536], b""))
write("idx", "huge_claim", idx(0x08, [0x80000000, 28, 28], b"x"))
write("idx", "gzip_without_trailer.gz", gzip.compress(idx(0x08, [4], b"abcd"))[:-8])

write("csv", "header_floats", "\x02a,b\n1.5,2\n-3,4e2\n")
write("csv", "no_header_int64", "\x04" + "1,2\n3,4\n")
write("csv", "semicolon", "\x03x;y\n1;2\n")
write("csv", "bad_cells", "\x06a\nnan\n1e30\n9223372036854775807\n")
write("csv", "ragged", "\x02a,b\n1\n")
