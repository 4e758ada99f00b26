#!/usr/bin/env python3
"""Print the wheel platform tag for a payer-sandbox executable, read from its headers.

    python3 packaging/python/platform_tag.py BINARY

- Linux (ELF): a static executable (no program interpreter) runs on any Linux of its
  architecture, glibc or musl: ``manylinux_2_17_<arch>.musllinux_1_1_<arch>``. A dynamically
  linked glibc one gets ``manylinux_2_<N>_<arch>``, N the newest ``GLIBC_2.N`` symbol version it
  needs (at least 17); one linked against musl ``musllinux_1_2_<arch>``.
- macOS (Mach-O): ``macosx_10_12_x86_64`` or ``macosx_11_0_arm64`` (the Rust targets' minimums).
- Windows (PE): ``win_amd64`` or ``win_arm64``.

A universal (fat) Mach-O, or an architecture not listed, is refused: pass the tag yourself.
"""

from __future__ import annotations

import re
import struct
import sys
from typing import Optional

ELF_MACHINES = {62: "x86_64", 183: "aarch64"}
MACHO_CPUS = {0x01000007: "macosx_10_12_x86_64", 0x0100000C: "macosx_11_0_arm64"}
PE_MACHINES = {0x8664: "win_amd64", 0xAA64: "win_arm64"}


def elf_tag(data: bytes) -> str:
    if data[4] != 2:
        raise ValueError("a 32-bit ELF executable: no wheel tag is made for it here")
    endian = "<" if data[5] == 1 else ">"
    machine = struct.unpack_from(endian + "H", data, 18)[0]
    arch = ELF_MACHINES.get(machine)
    if arch is None:
        raise ValueError(f"ELF machine {machine} is not one payer-sandbox is released for")
    phoff = struct.unpack_from(endian + "Q", data, 32)[0]
    phentsize, phnum = struct.unpack_from(endian + "HH", data, 54)
    interpreter: Optional[bytes] = None
    for i in range(phnum):
        offset = phoff + i * phentsize
        p_type = struct.unpack_from(endian + "I", data, offset)[0]
        if p_type == 3:  # PT_INTERP
            p_offset = struct.unpack_from(endian + "Q", data, offset + 8)[0]
            p_filesz = struct.unpack_from(endian + "Q", data, offset + 32)[0]
            interpreter = data[p_offset : p_offset + p_filesz].rstrip(b"\0")
    if interpreter is None:
        return f"manylinux_2_17_{arch}.musllinux_1_1_{arch}"
    if b"musl" in interpreter:
        return f"musllinux_1_2_{arch}"
    versions = [int(v) for v in re.findall(rb"GLIBC_2\.(\d+)", data)]
    return f"manylinux_2_{max([17, *versions])}_{arch}"


def tag_for(data: bytes) -> str:
    if data[:4] == b"\x7fELF":
        return elf_tag(data)
    if data[:4] == b"\xcf\xfa\xed\xfe":  # 64-bit Mach-O, little-endian
        cpu = struct.unpack_from("<I", data, 4)[0]
        if cpu in MACHO_CPUS:
            return MACHO_CPUS[cpu]
        raise ValueError(f"Mach-O CPU type {cpu:#x} is not one payer-sandbox is released for")
    if data[:4] in (b"\xca\xfe\xba\xbe", b"\xbe\xba\xfe\xca"):
        raise ValueError("a universal Mach-O: pass the tag (e.g. macosx_11_0_universal2)")
    if data[:2] == b"MZ":
        pe = struct.unpack_from("<I", data, 0x3C)[0]
        if data[pe : pe + 4] == b"PE\0\0":
            machine = struct.unpack_from("<H", data, pe + 4)[0]
            if machine in PE_MACHINES:
                return PE_MACHINES[machine]
            raise ValueError(f"PE machine {machine:#x} is not one payer-sandbox is released for")
    raise ValueError("not an ELF, Mach-O or PE executable")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    try:
        print(tag_for(data))
    except ValueError as err:
        print(f"platform_tag: {sys.argv[1]}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
