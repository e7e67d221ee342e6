#!/usr/bin/env python3
"""Whose work the daemon's CPU samples are: OpenSSL's, or capf's (its RocksDB, Asio, JSON, rest).

Usage (a daemon under `capf bench enroll`, perf recorded with DWARF call graphs):
    perf record -F 499 --call-graph dwarf,16384 -p PID -o perf.data -- sleep 8
    perf script -i perf.data -F comm,tid,ip,sym,dso | scripts/perf-owners.py

Each sample is charged to the first frame, from the leaf up, that is OpenSSL (libcrypto or
libssl) or the capf binary; malloc, memcpy and kernel frames below it are that owner's too
(an allocation OpenSSL makes is OpenSSL's work). capf's frames are split by the library
linked into it. Prints one line per owner and per (leaf, owner) pair.
"""
import collections
import re
import sys

FRAME = re.compile(r"^\s*[0-9a-f]+\s+(.*)\s+\((.*)\)\s*$")


def leaf_kind(dso):
    if "libcrypto" in dso or "libssl" in dso:
        return "openssl"
    if "libc.so" in dso or "libstdc++" in dso or "libm.so" in dso:
        return "libc"
    if "kernel" in dso:
        return "kernel"
    if dso.endswith("/capf"):
        return "capf"
    return "other"


def capf_part(symbol):
    for needle, part in (("rocksdb::", "rocksdb"), ("nlohmann::", "json"), ("boost::asio", "asio")):
        if needle in symbol:
            return part
    return "capf"


def samples(lines):
    frames = None
    for line in lines:
        if not line.strip():
            if frames:
                yield frames
            frames = None
        elif not line[0].isspace():
            frames = []
        elif frames is not None:
            m = FRAME.match(line)
            if m:
                frames.append((m.group(1), m.group(2)))
    if frames:
        yield frames


def owner(frames):
    for symbol, dso in frames:
        kind = leaf_kind(dso)
        if kind == "openssl":
            return "openssl"
        if kind == "capf":
            return "capf:" + capf_part(symbol)
    return "unowned"


def main():
    by_owner, by_pair, total = collections.Counter(), collections.Counter(), 0
    for frames in samples(sys.stdin):
        total += 1
        who = owner(frames)
        by_owner[who] += 1
        # An inlined frame carries no library name; the leaf is the first frame that does.
        leaf = next((leaf_kind(dso) for _, dso in frames if dso != "inlined"), "other")
        by_pair[(leaf, who)] += 1
    if total == 0:
        sys.exit("perf-owners: no samples on standard input (perf script -F comm,tid,ip,sym,dso)")
    print(f"{total} samples")
    for who, n in by_owner.most_common():
        print(f"{100 * n / total:6.1f} %  {who}")
    print("by leaf and owner:")
    for (leaf, who), n in by_pair.most_common(16):
        print(f"{100 * n / total:6.1f} %  leaf {leaf:8} owner {who}")


if __name__ == "__main__":
    main()
