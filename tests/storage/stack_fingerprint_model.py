#!/usr/bin/env python3
"""An independent model of storage::StackHasher (src/storage/stack_fingerprint.h), written from
its description, that prints the fingerprints stack_fingerprint_test.cc pins. Run it if the
algorithm is ever changed on purpose (which orphans every stored stack dictionary)."""

M = (1 << 64) - 1
K = [0xA0761D6478BD642F, 0xE7037ED1A0B428DB, 0x8EBC6AF09C88C6E3, 0x589965CC75374CC3,
     0x1D8E4E27C47D124F, 0xD6E8FEB86659FD93, 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F]


def mix(a, b):
    r = (a & M) * (b & M)
    return (r & M) ^ (r >> 64)


def le(data):
    return int.from_bytes(data, "little")


def fingerprint(frames):
    a, b, count = K[6], K[7], 0
    for frame in frames:
        frame = frame.encode()
        tag, rest = (0x100, b"") if not frame else (frame[0], frame[1:])
        n = len(rest)
        a, b = mix(a ^ tag ^ K[0], n ^ K[1]) ^ a, mix(b ^ tag ^ K[2], n ^ K[3]) ^ b
        words = []
        p = 0
        while n >= 16:
            words.append((le(rest[p:p + 8]), le(rest[p + 8:p + 16])))
            p, n = p + 16, n - 16
        if n >= 8:
            words.append((le(rest[p:p + 8]), le(rest[p + n - 8:p + n])))
        elif n >= 4:
            words.append((le(rest[p:p + 4]), le(rest[p + n - 4:p + n])))
        elif n > 0:
            words.append(((rest[p] << 16) | (rest[p + n // 2] << 8) | rest[p + n - 1], 0))
        for w0, w1 in words:
            a ^= mix(w0 ^ a ^ K[0], w1 ^ K[1])
            b ^= mix(w1 ^ b ^ K[2], w0 ^ K[3])
        count += 1
    return mix(a ^ K[4], count ^ K[5]), mix(b ^ K[6], count ^ K[7])


if __name__ == "__main__":
    for stack in ([], ["ujava.lang.Thread.run", "kdo_syscall_64"],
                  ["", "x", "ab", "abc", "abcd", "a2345678", "a23456789abcdef",
                   "a23456789abcdefg", "a23456789abcdefgh",
                   "a23456789abcdef0123456789abcdef0123"]):
        slot, check = fingerprint(stack)
        print(f"{stack}: slot 0x{slot:016x}ull, check 0x{check:016x}ull")
