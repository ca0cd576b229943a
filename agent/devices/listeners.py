"""Who hears a device's changes (the kiosk's event stream or socket, the call's relay): a bounded
queue each; a listener that stalls loses the oldest, never the device's pace."""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

T = TypeVar("T")


class Listeners(Generic[T]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._queues: set[asyncio.Queue[T]] = set()

    def listen(self) -> asyncio.Queue[T]:
        queue: asyncio.Queue[T] = asyncio.Queue(maxsize=self.size)
        self._queues.add(queue)
        return queue

    def forget(self, queue: asyncio.Queue[T]) -> None:
        self._queues.discard(queue)

    def publish(self, item: T) -> None:
        for queue in list(self._queues):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(item)
