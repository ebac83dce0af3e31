#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Pack a directory tree into a gzip-compressed newc cpio (an initramfs).

Usage: mkcpio.py TREE OUT.cpio.gz

Every entry is owned by root and carries mtime 0, so the same tree gives the
same archive.  Directories, regular files and symbolic links are packed; the
kernel's initramfs unpacker needs nothing else.
"""
import gzip
import os
import stat
import sys


def _header(ino, mode, nlink, size, name):
    namesz = len(name) + 1
    fields = (ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, namesz, 0)
    hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
    hdr += name + b"\0"
    return hdr + b"\0" * (-len(hdr) % 4)


def pack(tree, out):
    entries = []
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames.sort()
        for n in sorted(dirnames + filenames):
            entries.append(os.path.join(dirpath, n))
    entries.sort()
    with open(out, "wb") as raw, gzip.GzipFile(
            filename="", mode="wb", compresslevel=6, fileobj=raw, mtime=0) as f:
        ino = 1
        for path in entries:
            rel = os.path.relpath(path, tree).encode()
            st = os.lstat(path)
            perm = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                data = os.readlink(path).encode()
                mode, nlink = stat.S_IFLNK | 0o777, 1
            elif stat.S_ISDIR(st.st_mode):
                data, mode, nlink = b"", stat.S_IFDIR | perm, 2
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as src:
                    data = src.read()
                mode, nlink = stat.S_IFREG | perm, 1
            else:
                raise SystemExit("mkcpio: %s: unsupported file type" % path)
            f.write(_header(ino, mode, nlink, len(data), rel))
            f.write(data + b"\0" * (-len(data) % 4))
            ino += 1
        f.write(_header(0, 0, 1, 0, b"TRAILER!!!"))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: mkcpio.py TREE OUT.cpio.gz")
    pack(sys.argv[1], sys.argv[2])
