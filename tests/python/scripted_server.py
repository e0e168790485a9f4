"""Python `websockets` server with one behaviour per request path, for a client under test.

Prints "listening PORT" once it accepts connections on 127.0.0.1 (an ephemeral port), then
tab-separated lines: "open PATH EXTENSIONS" when a connection opens (the negotiated extension
names, comma-separated), and "closed PATH CODE REASON" when it ends, with the close code and
reason it received (1006 and an empty reason when no close frame came). permessage-deflate
is accepted when the client offers it.

Paths:
  /echo          echoes every message as the same kind.
  /ping          pings with b"py-ping", waits for the pong, sends the text "pong:py-ping",
                 then echoes.
  /server-close  waits for one message, then closes with 4001 "server bye".
Works with websockets 10.1 and later (legacy and new asyncio APIs).
"""

import asyncio
import sys

import websockets


def request_path(ws):
    request = getattr(ws, "request", None)  # new asyncio API (websockets >= 13)
    return request.path if request is not None else ws.path


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def ping(ws):
    waiter = await ws.ping(b"py-ping")
    await asyncio.wait_for(waiter, 5)
    await ws.send("pong:py-ping")
    await echo(ws)


async def server_close(ws):
    await ws.recv()
    await ws.close(4001, "server bye")


ROUTES = {"/echo": echo, "/ping": ping, "/server-close": server_close}


def extension_names(ws):
    protocol = getattr(ws, "protocol", None)  # new asyncio API (websockets >= 13)
    extensions = getattr(protocol, "extensions", None)
    if extensions is None:
        extensions = ws.extensions
    return ",".join(e.name for e in extensions)


async def handler(ws):
    path = request_path(ws)
    print(f"open\t{path}\t{extension_names(ws)}", flush=True)
    try:
        await ROUTES[path](ws)
    except websockets.ConnectionClosed:
        pass
    finally:
        await ws.wait_closed()
        reason = ws.close_reason or ""
        print(f"closed\t{path}\t{ws.close_code}\t{reason}", flush=True)


async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening {port}", flush=True)
        # Ends when the test closes our stdin or kills us.
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main())
