"""The clients `canary` is measured against: the least any run could cost on the same server.

    python bench/reference_clients.py httpx|aiohttp BASE_URL CASES CONCURRENCY [--retry-429]

`httpx`: a bare asyncio + httpx client behind a semaphore (the floor for `canary run`, with the
pool sized to the concurrency). `aiohttp`: the same with aiohttp, the fastest asyncio client
(a dev dependency, for benchmarks only). Each sends CASES chat completions, CONCURRENCY at a
time, and exits non-zero if one fails. With `--retry-429` a 429 is retried at once (the ideal
client against a server that refuses at random).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

Post = Callable[[int], Awaitable[int]]


def body(i: int) -> dict[str, object]:
    question = f"Benchmark question number {i}: how do I export my invoices?"
    return {"model": "ledger-chat", "messages": [{"role": "user", "content": question}]}


async def with_httpx(url: str, concurrency: int, run: Callable[[Post], Awaitable[None]]) -> None:
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def post(i: int) -> int:
            response = await client.post(url, json=body(i))
            response.json()
            return response.status_code

        await run(post)


async def with_aiohttp(url: str, concurrency: int, run: Callable[[Post], Awaitable[None]]) -> None:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(i: int) -> int:
            async with session.post(url, json=body(i)) as response:
                await response.json(content_type=None)
                return response.status

        await run(post)


def main() -> None:
    client, base_url, cases, concurrency = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:5])
    retry_429 = "--retry-429" in sys.argv
    semaphore = asyncio.Semaphore(concurrency)

    async def one(post: Post, i: int) -> None:
        async with semaphore:
            status = await post(i)
            while retry_429 and status == 429:
                status = await post(i)
            if status != 200:
                raise SystemExit(f"case {i}: HTTP {status}")

    async def run(post: Post) -> None:
        await asyncio.gather(*(one(post, i) for i in range(cases)))

    session = with_httpx if client == "httpx" else with_aiohttp
    asyncio.run(session(f"{base_url}/chat/completions", concurrency, run))


if __name__ == "__main__":
    main()
