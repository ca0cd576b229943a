"""The delivery queue on a real Store, with a real SMTP relay and SMS gateway on loopback.

Retries come due by moving an injected clock forward, not by sleeping."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from agent.access import keys
from agent.config import MailConfig, SmsConfig
from agent.notify import queue
from agent.notify.queue import (
    DeliveryStatus,
    Dispatcher,
    enqueue,
    pending_count,
    retry_delay,
    status_for,
)
from agent.store import Store
from tests.notify.servers import (
    Clock,
    Gateway,
    Inbox,
    eventually,
    free_port,
    gateway_server,
    opened_store,
    run_async,
    smtp_server,
)

SUBJECT = "Invitation à une téléconsultation — EHPAD Les Tilleuls"
BODY = "Bonjour Docteur Lefèvre,\nla salle ouvrira à 10 h 15.\nÀ bientôt !\n"
SMS = "EHPAD Les Tilleuls : téléconsultation à 10 h 30, lien https://chariot.example/s/abc"
OTP = "Telecart : votre code de connexion est 482913."
MOBILE = "+33612345678"
REFUSED = "inconnu@hopital.example"


@dataclass
class World:
    store: Store
    clock: Clock
    inbox: Inbox
    mail: MailConfig
    sms: SmsConfig
    http: aiohttp.ClientSession

    def dispatcher(self) -> Dispatcher:
        return Dispatcher(self.store, self.mail, self.sms, self.http, clock=self.clock)

    async def queue(self, *messages: tuple[Any, ...]) -> list[int]:
        """Queue (channel, recipient, subject, body, purpose, ref_id) tuples in one transaction."""
        def write(db: Any) -> list[int]:
            return [enqueue(db, *m) for m in messages]
        return await self.store.write(write)

    async def statuses(self, ref_id: str) -> list[DeliveryStatus]:
        return (await self.store.read(status_for, [ref_id])).get(ref_id, [])

    async def row(self, delivery_id: int) -> dict[str, Any]:
        return await self.store.read(lambda db: db["deliveries"].get(delivery_id))


@pytest.fixture
def relay() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox(refuse={REFUSED})
    with smtp_server(inbox) as port:
        yield inbox, port


@contextlib.asynccontextmanager
async def world(tmp_path: Path, relay: tuple[Inbox, int], gateway_url: str) -> AsyncIterator[World]:
    inbox, port = relay
    mail = MailConfig(smtp_host="127.0.0.1", smtp_port=port, security="none", sender="Telecart <chariot@tilleuls.example>", timeout_seconds=3)
    sms = SmsConfig(gateway_url=gateway_url, bearer_token="jeton", timeout_seconds=3)
    async with opened_store(tmp_path) as store, aiohttp.ClientSession() as http:
        yield World(store, Clock(), inbox, mail, sms, http)


def invitation(ref_id: str = "inv-1") -> list[tuple[Any, ...]]:
    return [("email", "dr.lefevre@hopital.example", SUBJECT, BODY, "invitation", ref_id),
            ("sms", MOBILE, None, SMS, "invitation", ref_id)]


def test_backoff_doubles_from_15_seconds_up_to_15_minutes() -> None:
    assert [retry_delay(n) for n in range(1, 10)] == [15, 30, 60, 120, 240, 480, 900, 900, 900]


def test_email_and_sms_go_out_and_the_dossier_shows_them_sent(tmp_path: Path, relay: tuple[Inbox, int]) -> None:
    async def scenario() -> None:
        gateway = Gateway()
        async with gateway_server(gateway) as url, world(tmp_path, relay, url) as w:
            await w.queue(*invitation())
            assert await w.store.read(pending_count) == 2
            assert await w.dispatcher().drain() == 2
            assert await w.dispatcher().drain() == 0  # nothing left: nothing sent twice
            [email, sms] = await w.statuses("inv-1")
            assert await w.store.read(pending_count) == 0
        assert [(r.recipients, r.message["Subject"], r.message.get_content()) for r in w.inbox.received] == [
            (["dr.lefevre@hopital.example"], SUBJECT, BODY)]
        assert gateway.requests == [({"to": MOBILE, "text": SMS}, "Bearer jeton")]
        for status, channel, recipient in ((email, "email", "dr.lefevre@hopital.example"), (sms, "sms", MOBILE)):
            assert (status.channel, status.recipient, status.state, status.attempts, status.last_error) == (
                channel, recipient, "sent", 1, None)
            assert status.sent_at is not None and status.sent_at >= status.created_at

    run_async(scenario())


def test_gateway_down_delays_the_sms_then_sends_it_once(tmp_path: Path, relay: tuple[Inbox, int]) -> None:
    async def scenario() -> None:
        port = free_port()  # nothing listens there yet
        gateway = Gateway()
        async with world(tmp_path, relay, f"http://127.0.0.1:{port}/sms") as w:
            [sms_id] = await w.queue(invitation()[1])
            dispatcher = w.dispatcher()
            assert await dispatcher.drain() == 1
            [status] = await w.statuses("inv-1")
            assert (status.state, status.attempts, status.last_error, status.sent_at) == (
                "pending", 1, "Passerelle SMS injoignable", None)
            async with gateway_server(gateway, port):
                w.clock.advance(14)
                assert await dispatcher.drain() == 0  # not due before 15 s
                w.clock.advance(1)
                assert await dispatcher.drain() == 1
                w.clock.advance(3600)
                assert await dispatcher.drain() == 0
            [status] = await w.statuses("inv-1")
            assert (status.state, status.attempts, status.last_error) == ("sent", 2, None)
            assert (await w.row(sms_id))["body"] == queue.SCRUBBED_BODY  # a link is erased once sent; who, when, how stay
        assert gateway.texts == [SMS]

    run_async(scenario())


def test_retries_follow_the_backoff_and_give_up_after_48_hours(tmp_path: Path, relay: tuple[Inbox, int]) -> None:
    async def scenario() -> None:
        async with world(tmp_path, relay, f"http://127.0.0.1:{free_port()}/sms") as w:
            await w.queue(invitation()[1])
            dispatcher = w.dispatcher()
            await dispatcher.drain()
            for attempts in range(1, 6):
                w.clock.advance(retry_delay(attempts) - 1)
                assert await dispatcher.drain() == 0
                w.clock.advance(1)
                assert await dispatcher.drain() == 1
            [status] = await w.statuses("inv-1")
            assert (status.state, status.attempts) == ("pending", 6)
            w.clock.advance(48 * 3600)
            assert await dispatcher.drain() == 1
            [status] = await w.statuses("inv-1")
            assert (status.state, status.attempts, status.last_error) == ("failed", 7, "Passerelle SMS injoignable")
            w.clock.advance(48 * 3600)
            assert await dispatcher.drain() == 0

    run_async(scenario())


def test_refused_address_fails_at_once_and_others_still_go(tmp_path: Path, relay: tuple[Inbox, int]) -> None:
    async def scenario() -> None:
        gateway = Gateway(statuses=[400, 200])
        async with gateway_server(gateway) as url, world(tmp_path, relay, url) as w:
            await w.queue(("email", REFUSED, SUBJECT, BODY, "invitation", "inv-a"),
                          ("sms", "+33600000000", None, SMS, "invitation", "inv-a"),
                          ("email", "dr.lefevre@hopital.example", SUBJECT, BODY, "invitation", "inv-b"),
                          ("sms", MOBILE, None, SMS, "invitation", "inv-b"))
            assert await w.dispatcher().drain() == 4
            refused = [(s.recipient, s.state, s.attempts, s.last_error) for s in await w.statuses("inv-a")]
            sent = [(s.recipient, s.state) for s in await w.statuses("inv-b")]
            w.clock.advance(7 * 24 * 3600)
            assert await w.dispatcher().drain() == 0  # a permanent failure is never retried
        assert refused == [(REFUSED, "failed", 1, "Adresse refusée par le serveur de messagerie (550)"),
                           ("+33600000000", "failed", 1, "La passerelle SMS a refusé le message (400)")]
        assert sent == [("dr.lefevre@hopital.example", "sent"), (MOBILE, "sent")]
        assert [r.recipients for r in w.inbox.received] == [["dr.lefevre@hopital.example"]]

    run_async(scenario())


def test_one_time_code_is_erased_once_sent_or_failed(tmp_path: Path, relay: tuple[Inbox, int]) -> None:
    async def scenario() -> None:
        gateway = Gateway(statuses=[200, 400])
        async with gateway_server(gateway) as url, world(tmp_path, relay, url) as w:
            sent_id, failed_id = await w.queue(("sms", MOBILE, None, OTP, "otp", "login-1"), ("sms", MOBILE, None, OTP, "otp", "login-2"))
            waiting = (await w.row(sent_id))["body"]
            assert OTP not in waiting and keys.load(tmp_path).unseal(waiting) == OTP  # sealed while it waits
            await w.dispatcher().drain()
            rows = [await w.row(i) for i in (sent_id, failed_id)]
            # Not in the files either, while the agent still runs (WAL included).
            files = {p.name: b"482913" in p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("telecart.db")}
        assert gateway.texts == [OTP, OTP]
        assert [(r["state"], r["body"]) for r in rows] == [("sent", queue.SCRUBBED_BODY), ("failed", queue.SCRUBBED_BODY)]
        assert files and not any(files.values()), files

    run_async(scenario())


def test_unconfigured_mail_waits_with_a_french_reason(tmp_path: Path, relay: tuple[Inbox, int]) -> None:
    async def scenario() -> None:
        async with world(tmp_path, relay, "") as w:
            w.mail = MailConfig()
            await w.queue(*invitation())
            await w.dispatcher().drain()
            statuses = await w.statuses("inv-1")
        assert [(s.channel, s.state, s.attempts, s.last_error) for s in statuses] == [
            ("email", "pending", 1, "Messagerie non configurée sur le chariot"),
            ("sms", "pending", 1, "Passerelle SMS non configurée")]

    run_async(scenario())


def test_enqueue_must_share_the_callers_transaction(tmp_path: Path, relay: tuple[Inbox, int]) -> None:
    async def scenario() -> None:
        async with world(tmp_path, relay, "") as w:
            with pytest.raises(AssertionError):
                await w.store.read(enqueue, "email", "a@b.example", SUBJECT, BODY, "invitation", "inv-1")

            def cause_then_fail(db: Any) -> None:
                enqueue(db, "email", "a@b.example", SUBJECT, BODY, "invitation", "inv-1")
                raise sqlite3.IntegrityError("the change that caused it was refused")

            with pytest.raises(sqlite3.IntegrityError):
                await w.store.write(cause_then_fail)
            assert await w.store.read(pending_count) == 0  # rolled back with it

    run_async(scenario())


def test_status_for_many_ids(tmp_path: Path, relay: tuple[Inbox, int]) -> None:
    async def scenario() -> dict[str, list[DeliveryStatus]]:
        async with world(tmp_path, relay, "") as w:
            await w.queue(*[("sms", MOBILE, None, SMS, "invitation", f"inv-{i}") for i in range(1500)])
            return await w.store.read(status_for, [f"inv-{i}" for i in range(0, 3000, 2)])

    found = run_async(scenario())
    assert sorted(found) == sorted(f"inv-{i}" for i in range(0, 1500, 2))
    assert {len(v) for v in found.values()} == {1}


# --- the running dispatcher ---------------------------------------------------------------------


@contextlib.asynccontextmanager
async def running(dispatcher: Dispatcher) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(dispatcher.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_wake_sends_a_new_message_at_once_and_retry_comes_after_the_clock(tmp_path: Path, relay: tuple[Inbox, int]) -> None:
    async def scenario() -> None:
        port = free_port()
        gateway = Gateway()
        async with world(tmp_path, relay, f"http://127.0.0.1:{port}/sms") as w:
            dispatcher = w.dispatcher()
            async with running(dispatcher):
                await asyncio.sleep(0.05)  # idle: waits for work
                await w.queue(*invitation())
                dispatcher.wake()
                # "pending" is also the SMS's state before its first try: wait for the try itself.
                assert await eventually(lambda: _tried(w, "inv-1", ("sent", "pending"), sms_attempts=1))
                [_, sms] = await w.statuses("inv-1")
                assert (sms.attempts, sms.last_error) == (1, "Passerelle SMS injoignable")
                async with gateway_server(gateway, port):
                    w.clock.advance(15)
                    dispatcher.wake()
                    assert await eventually(lambda: _states(w, "inv-1", ("sent", "sent")))
                    await asyncio.sleep(0.1)
        assert len(w.inbox.received) == 1
        assert gateway.texts == [SMS]

    run_async(scenario())


def test_a_stop_that_comes_with_a_wake_still_stops_the_queue(tmp_path: Path, relay: tuple[Inbox, int]) -> None:
    """The agent's stop cancels the queue's loop; a message queued at that very moment (its wake)
    must not win over the stop, or the stop would wait for a loop that never ends."""
    async def scenario() -> bool:
        async with world(tmp_path, relay, f"http://127.0.0.1:{free_port()}/sms") as w:
            dispatcher = w.dispatcher()
            task = asyncio.create_task(dispatcher.run())
            await asyncio.sleep(0.05)  # idle: waits for work
            dispatcher.wake()
            task.cancel()  # in the same turn of the loop
            await asyncio.wait([task], timeout=10)
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return False
            return task.cancelled()

    assert run_async(scenario()), "the stop was lost: the queue went on"


def test_stop_during_a_send_records_it_and_a_restart_sends_nothing_twice(tmp_path: Path, relay: tuple[Inbox, int]) -> None:
    async def scenario() -> None:
        gateway = Gateway(delay=0.3)
        async with gateway_server(gateway) as url, world(tmp_path, relay, url) as w:
            await w.queue(invitation()[1])
            async with running(w.dispatcher()):
                assert await eventually(lambda: _received(gateway, 1))
            # Stopped while the gateway was still answering: the answer was waited for and recorded.
            [status] = await w.statuses("inv-1")
            assert (status.state, status.attempts) == ("sent", 1)
            async with running(w.dispatcher()):
                await asyncio.sleep(0.2)
        assert gateway.texts == [SMS]

    run_async(scenario())


def test_a_message_claimed_by_a_dispatcher_that_died_goes_after_its_lease(tmp_path: Path, relay: tuple[Inbox, int]) -> None:
    async def scenario() -> None:
        gateway = Gateway()
        async with gateway_server(gateway) as url, world(tmp_path, relay, url) as w:
            await w.queue(invitation()[1])
            dispatcher = w.dispatcher()
            # Another dispatcher claimed it, then the agent lost power before recording anything.
            assert len(await w.store.write(queue.claim_due, w.clock(), dispatcher.lease_seconds, 5)) == 1
            assert await dispatcher.drain() == 0
            w.clock.advance(dispatcher.lease_seconds)
            assert await dispatcher.drain() == 1
            assert [s.state for s in await w.statuses("inv-1")] == ["sent"]
        assert gateway.texts == [SMS]

    run_async(scenario())


def test_two_dispatchers_never_send_the_same_message(tmp_path: Path, relay: tuple[Inbox, int]) -> None:
    async def scenario() -> None:
        gateway = Gateway(delay=0.02)
        async with gateway_server(gateway) as url, world(tmp_path, relay, url) as w:
            await w.queue(*[("sms", MOBILE, None, f"message {i}", "invitation", f"inv-{i}") for i in range(12)])
            first, second = w.dispatcher(), w.dispatcher()
            counts = await asyncio.gather(first.drain(), second.drain())
            assert sum(counts) == 12 and all(counts)  # both worked, on different rows
        assert sorted(gateway.texts) == sorted(f"message {i}" for i in range(12))

    run_async(scenario())


async def _states(w: World, ref_id: str, expected: tuple[str, ...]) -> bool:
    return tuple(s.state for s in await w.statuses(ref_id)) == expected


async def _tried(w: World, ref_id: str, expected: tuple[str, ...], sms_attempts: int) -> bool:
    statuses = await w.statuses(ref_id)
    return tuple(s.state for s in statuses) == expected and statuses[-1].attempts == sms_attempts


async def _received(gateway: Gateway, count: int) -> bool:
    return len(gateway.requests) >= count
