"""Python `websockets` client that checks an echo server over 127.0.0.1.

Usage: echo_client.py PORT SCENARIO, where SCENARIO is one of the functions in SCENARIOS.
Prints "ok SCENARIO ..." and exits 0 when every check holds; otherwise prints what went
wrong and exits 1. Works with websockets 10.1 and later (legacy and new asyncio APIs).
"""

import asyncio
import os
import sys

import websockets

LARGE = 4 * 1024 * 1024


def connect(port, compression=None):
    # The default 1 MiB limit would refuse the large echo. Compression is off unless a
    # scenario asks for it, so that the plain frames are tested too.
    return websockets.connect(
        f"ws://127.0.0.1:{port}/", max_size=None, compression=compression
    )


def extension_names(ws):
    protocol = getattr(ws, "protocol", None)  # new asyncio API (websockets >= 13)
    extensions = getattr(protocol, "extensions", None)
    if extensions is None:
        extensions = ws.extensions
    return [e.name for e in extensions]


def expect(what, got, want):
    if got != want:
        shown = lambda v: repr(v) if len(repr(v)) < 200 else f"<{type(v).__name__} of {len(v)}>"
        raise AssertionError(f"{what}: got {shown(got)}, want {shown(want)}")


async def text(port):
    async with connect(port) as ws:
        for message in ["Привет, сервер!", "", "emoji 🎉 and \u0000 NUL"]:
            await ws.send(message)
            expect("text echo", await ws.recv(), message)
    return "3 text messages echoed"


async def binary(port):
    async with connect(port) as ws:
        for message in [bytes(range(256)), b"", b"\xff\xfe\x00"]:
            await ws.send(message)
            expect("binary echo", await ws.recv(), message)
    return "3 binary messages echoed"


async def large(port):
    async with connect(port) as ws:
        data = os.urandom(LARGE)
        await ws.send(data)
        expect("large binary echo", await ws.recv(), data)
        text = "ж" * (LARGE // 2)
        await ws.send(text)
        expect("large text echo", await ws.recv(), text)
    return f"{LARGE} bytes binary and text echoed"


async def fragmented(port):
    async with connect(port) as ws:
        # An iterable is sent as one message in several frames.
        await ws.send(["frag", "ment", "ed ✓"])
        expect("fragmented text echo", await ws.recv(), "fragmented ✓")
        await ws.send([b"\x00\x01", b"", b"\x02"])
        expect("fragmented binary echo", await ws.recv(), b"\x00\x01\x02")
    return "fragmented messages reassembled"


async def ping(port):
    async with connect(port) as ws:
        waiter = await ws.ping(b"are you there?")
        await asyncio.wait_for(waiter, 5)
        await ws.send("after ping")
        expect("text after ping", await ws.recv(), "after ping")
    return "pong received"


async def close(port):
    seen = []
    for code, reason in [(4000, "bye"), (1000, ""), (3001, "ünïcødé")]:
        ws = await connect(port)
        await ws.send("last words")
        expect("echo before close", await ws.recv(), "last words")
        await ws.close(code, reason)
        await ws.wait_closed()
        # The server echoes the code: a received close frame, not 1006.
        expect("close code echoed by the server", ws.close_code, code)
        seen.append(str(ws.close_code))
    return "server echoed close codes " + ",".join(seen)


async def deflate(port):
    async with connect(port, compression="deflate") as ws:
        expect("negotiated extensions", extension_names(ws), ["permessage-deflate"])
        text = "compressible text, " * (LARGE // 19)
        await ws.send(text)
        expect("compressed text echo", await ws.recv(), text)
        data = os.urandom(LARGE // 4)
        await ws.send(data)
        expect("incompressible binary echo", await ws.recv(), data)
        for message in ["short", "context takeover: " * 10, "context takeover: " * 10]:
            await ws.send(message)
            expect("small compressed echo", await ws.recv(), message)
    return "permessage-deflate negotiated, 5 messages echoed"


SCENARIOS = {f.__name__: f for f in [text, binary, large, fragmented, ping, close, deflate]}


def main():
    port, scenario = int(sys.argv[1]), sys.argv[2]
    try:
        detail = asyncio.run(asyncio.wait_for(SCENARIOS[scenario](port), 60))
    except Exception as e:  # report any failure as a test failure with its reason
        print(f"FAIL {scenario}: {type(e).__name__}: {e}", flush=True)
        sys.exit(1)
    print(f"ok {scenario}: {detail}", flush=True)


if __name__ == "__main__":
    main()
