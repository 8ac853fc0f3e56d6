"""A paced C-STORE sender: ``python -m bench.sender PORT CALLED_AET --rate N --seconds S``.

Sends generated CT slices over one association (TCP_NODELAY) at ``rate`` images
a second for ``seconds`` (fewer when it falls behind), prints ``sending`` when the
association is up and ``SENT {json}`` (images, seconds, rate, failures) at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from pydicom.uid import CTImageStorage

from bench.dicom import associate, ct_image, next_image, quiet_pynetdicom, scu_ae, status_of


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sender")
    parser.add_argument("port", type=int)
    parser.add_argument("called")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    quiet_pynetdicom()
    template = ct_image(args.size)
    assoc = associate(scu_ae(CTImageStorage), args.port, args.called)
    total = int(args.rate * args.seconds)
    failures = 0
    sent = 0
    print("sending", flush=True)
    started = time.perf_counter()
    deadline = started + args.seconds
    for number in range(1, total + 1):
        due = started + (number - 1) / args.rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        elif time.perf_counter() > deadline:
            break  # behind schedule at the end: the receiver (or this sender) cannot keep up
        if status_of(assoc.send_c_store(next_image(template, number))) != 0x0000:
            failures += 1
        sent += 1
    elapsed = time.perf_counter() - started
    assoc.release()
    print(
        "SENT "
        + json.dumps(
            {"images": sent, "seconds": elapsed, "rate": sent / elapsed, "failures": failures}
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
