"""A stand-in for the Autobahn TestSuite's fuzzingserver, for testing a client's driving
loop (the real suite is not installable here). Speaks the same URLs:

  /getCaseCount                  sends the number of cases as text, then closes.
  /runCase?case=N&agent=AGENT    runs case N (below): sends messages, checks the echoes.
  /updateReports?agent=AGENT     closes at once.

Prints "listening PORT" first, then one tab-separated line per request:
"case N AGENT ok|FAIL detail", "count", "reports AGENT". Ends when stdin closes.
"""

import asyncio
import sys
from urllib.parse import parse_qs, urlsplit

import websockets


async def case_text(ws):
    await ws.send("Hello, Autobahn ✓")
    return await ws.recv() == "Hello, Autobahn ✓"


async def case_binary_large(ws):
    data = bytes(range(256)) * 4096  # 1 MiB
    await ws.send(data)
    return await ws.recv() == data


async def case_fragmented_with_ping(ws):
    waiter = await ws.ping(b"mid")
    await ws.send(["frag", "mented ", "text"])
    echoed = await ws.recv()
    await asyncio.wait_for(waiter, 5)
    return echoed == "fragmented text"


async def case_many_small(ws):
    for i in range(200):
        await ws.send(f"message {i}")
    for i in range(200):
        if await ws.recv() != f"message {i}":
            return False
    return True


CASES = [case_text, case_binary_large, case_fragmented_with_ping, case_many_small]


def request_target(ws):
    request = getattr(ws, "request", None)  # new asyncio API (websockets >= 13)
    return request.path if request is not None else ws.path


async def handler(ws):
    target = urlsplit(request_target(ws))
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    if target.path == "/getCaseCount":
        await ws.send(str(len(CASES)))
        print("count", flush=True)
    elif target.path == "/runCase":
        n = int(query["case"])
        try:
            ok = await asyncio.wait_for(CASES[n - 1](ws), 10)
            detail = CASES[n - 1].__name__
        except Exception as e:  # any failure of the case is reported, not raised
            ok, detail = False, f"{type(e).__name__}: {e}"
        print(f"case\t{n}\t{query['agent']}\t{'ok' if ok else 'FAIL'}\t{detail}", flush=True)
    elif target.path == "/updateReports":
        print(f"reports\t{query['agent']}", flush=True)
    await ws.close()


async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None) as server:
        print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main())
