"""Tests of kvstore.injection against the real kvstore_server.

Run: KVSTORE_SERVER_BINARY=build/default/store/kvstore_server \
         python3 -m unittest client/python/test_kvstore_injection.py
(ctest runs it so.)
"""

import asyncio
import os
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kvstore import injection as inj  # noqa: E402
from store_process import StoreProcess  # noqa: E402



async def http_get(port, target):
    """A plain GET on its own connection: (status, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                 "\r\n".encode())
    await writer.drain()
    status, headers = await inj._read_head(reader)
    body = await inj._read_body(reader, headers)
    writer.close()
    return status, body


class InjectionTest(unittest.IsolatedAsyncioTestCase):

    @classmethod
    def setUpClass(cls):
        cls.store = StoreProcess()
        cls.port = cls.store.port
        cls.host = cls.store.endpoint

    @classmethod
    def tearDownClass(cls):
        cls.store.stop()

    async def asyncTearDown(self):
        await inj.disable_all_injections(self.host)

    async def test_wait_for_injection_sees_a_fired_point(self):
        async with inj.injection_event_stream(self.host) as stream:
            await inj.enable_injection(self.host, "seed.request",
                                       one_shot=True)
            status, _ = await http_get(self.port, "/set?a=1")
            self.assertEqual(status, 503)
            event = await stream.wait_for_injection("seed.request", timeout=10)
            self.assertEqual(event["phase"], "fired")
            self.assertEqual(event["type"], "error")
            self.assertEqual(event["shard"], 0)
            self.assertEqual(event["request"]["row_key"], "a")
            self.assertGreater(event["seq"], 0)
        self.assertEqual(await inj.injection_enters(self.host, "seed.request"),
                         1)

    async def test_the_long_poll_waits_without_a_stream(self):
        # The store is shared by the class's tests: start after its newest
        # event.
        _, metrics = await http_get(self.port, "/metrics")
        since = int(re.search(rb"\nkvstore_injection_events_total (\d+)",
                              metrics).group(1))
        await inj.enable_injection(self.host, "seed.request", one_shot=True)
        status, _ = await http_get(self.port, "/set?poll=1")
        self.assertEqual(status, 503)
        fired = await inj.wait_for_event(self.host, "seed.request",
                                         phase="fired", since=since,
                                         timeout=10)
        self.assertEqual(fired["phase"], "fired")
        self.assertEqual(fired["request"]["row_key"], "poll")
        with self.assertRaises(inj.InjectionError) as raised:
            await inj.wait_for_event(self.host, "seed.request", phase="fired",
                                     since=fired["seq"], timeout=0.2)
        self.assertEqual(raised.exception.status, 408)

    async def test_waiting_for_one_point_keeps_the_others(self):
        async with inj.injection_event_stream(self.host) as stream:
            await inj.enable_injection(self.host, "seed.request",
                                       parameters={"row_key": "b"})
            await inj.enable_injection(self.host, "request.parsed")
            await http_get(self.port, "/set?b=1")  # fires seed.request first
            await stream.wait_for_injection("seed.request", timeout=10,
                                            phase="fired")
            # Events of another point that came meanwhile are still there.
            armed = await stream.wait_for_injection("request.parsed",
                                                    timeout=10, phase="armed")
            self.assertEqual(armed["injection"], "request.parsed")

    async def test_pause_and_message(self):
        async with inj.injection_event_stream(
                self.host, injections=["seed.request"]) as stream:
            await inj.enable_injection(self.host, "seed.request",
                                       parameters={"action": "pause"})
            call = asyncio.create_task(http_get(self.port, "/set?c=1"))
            parked = await stream.wait_for_injection("seed.request",
                                                     timeout=10,
                                                     phase="paused")
            self.assertEqual(parked["request"]["row_key"], "c")
            state = await inj.get_injection(self.host, "seed.request")
            self.assertEqual(state["waiting"], 1)
            self.assertFalse(call.done())
            await inj.message_injection(self.host, "seed.request")
            status, _ = await asyncio.wait_for(call, 10)
            self.assertEqual(status, 200)
            await stream.wait_for_injection("seed.request", timeout=10,
                                            phase="released")

    async def test_a_wait_times_out(self):
        async with inj.injection_event_stream(self.host) as stream:
            with self.assertRaises(asyncio.TimeoutError):
                await stream.wait_for_injection("storage.write", timeout=0.2)

    async def test_unknown_points_are_errors(self):
        with self.assertRaises(inj.InjectionError) as raised:
            await inj.enable_injection(self.host, "no.such.point")
        self.assertEqual(raised.exception.status, 404)
        with self.assertRaises(inj.InjectionError) as bad:
            await inj.enable_injection(self.host, "seed.request",
                                       parameters={"count": "-1"})
        self.assertEqual(bad.exception.status, 400)

    async def test_replay_from_history(self):
        await inj.enable_injection(self.host, "storage.write",
                                   parameters={"count": "1"})
        async with inj.injection_event_stream(
                self.host, injections=["storage.write"], since=0) as stream:
            event = await stream.wait_for_injection("storage.write",
                                                    timeout=10,
                                                    phase="armed")
            self.assertEqual(event["parameters"], {"count": "1"})

    async def test_the_stream_reconnects_with_last_event_id(self):
        async with inj.injection_event_stream(self.host) as stream:
            await inj.enable_injection(self.host, "seed.request",
                                       one_shot=True)
            await stream.wait_for_injection("seed.request", timeout=10,
                                            phase="armed")
            stream._writer.close()  # the connection breaks
            await http_get(self.port, "/set?d=1")
            # Fired while the stream was away: replayed on reconnect.
            event = await stream.wait_for_injection("seed.request",
                                                    timeout=10)
            self.assertEqual(event["request"]["row_key"], "d")
            self.assertGreaterEqual(stream.reconnects, 1)

    async def test_a_term_script_runs_its_steps_in_order(self):
        await inj.enable_injection(
            self.host, "seed.request",
            parameters={"script": "2*error(502)->1*error(504)->off",
                        "row_key": "script"})
        statuses = [(await http_get(self.port, "/set?script=1"))[0]
                    for _ in range(4)]
        self.assertEqual(statuses, [502, 502, 504, 200])
        state = await inj.get_injection(self.host, "seed.request")
        self.assertEqual(state["step"], 2)
        self.assertEqual([s["fires"] for s in state["steps"]], [2, 1, 1])

    async def test_json_steps_and_their_errors(self):
        await inj.enable_injection(
            self.host, "seed.request", parameters={"row_key": "steps"},
            steps=[{"action": "error", "status": 503, "count": 1},
                   {"action": "error", "status": 500, "count": 1}])
        statuses = [(await http_get(self.port, "/set?steps=1"))[0]
                    for _ in range(3)]
        self.assertEqual(statuses, [503, 500, 200])
        with self.assertRaises(inj.InjectionError) as raised:
            await inj.enable_injection(self.host, "seed.request",
                                       steps=[{"action": "nap"}])
        self.assertEqual(raised.exception.status, 400)
        self.assertIn("step 1: point seed.request does not support action",
                      raised.exception.message)

    async def test_the_journal_records_each_attempt(self):
        await inj.enable_injection(self.host, "seed.request",
                                   parameters={"script": "1*error(503)",
                                               "row_key": "journal"})
        _, metrics = await http_get(self.port, "/metrics")
        since = int(re.search(rb"\nkvstore_injection_events_total (\d+)",
                              metrics).group(1))
        first, _ = await http_get(self.port, "/set?journal=1")
        second, _ = await http_get(self.port, "/set?journal=2")
        self.assertEqual((first, second), (503, 200))
        entries = await inj.journal(self.host, since=since, route="/set")
        self.assertEqual([e["status"] for e in entries], [503, 200])
        self.assertEqual(entries[0]["injections"], ["seed.request"])
        self.assertEqual(entries[1]["injections"], [])
        self.assertEqual(entries[0]["row_keys"], ["journal"])
        self.assertLessEqual(entries[0]["end_us"], entries[1]["start_us"])
        on_default = await inj.journal(self.host, since=since, route="/set",
                                       table="default")
        self.assertEqual(on_default, entries)
        self.assertEqual(await inj.journal(self.host, since=since,
                                           table="elsewhere"), [])

    async def test_a_transport_fault_delays_the_answer(self):
        await inj.enable_injection(
            self.host, "seed.request",
            parameters={"script": "1*delay_headers(300)", "row_key": "late"})
        _, metrics = await http_get(self.port, "/metrics")
        since = int(re.search(rb"\nkvstore_injection_events_total (\d+)",
                              metrics).group(1))
        status, _ = await http_get(self.port, "/set?late=1")
        self.assertEqual(status, 200)
        [entry] = await inj.journal(self.host, since=since, route="/set")
        self.assertEqual(entry["injections"], ["seed.request"])
        self.assertFalse(entry["cut"])
        self.assertGreaterEqual(entry["end_us"] - entry["start_us"], 300000)

    async def test_a_reset_before_any_byte_fails_the_request(self):
        await inj.enable_injection(
            self.host, "seed.request",
            parameters={"script": "1*reset(0)", "row_key": "cut"})
        with self.assertRaises((ConnectionError, asyncio.IncompleteReadError,
                                inj.InjectionError)):
            await http_get(self.port, "/set?cut=1")


class PowerCutTest(unittest.IsolatedAsyncioTestCase):
    """A power cut through the Python client, on a store on disk: it dies,
    and restarted on the same directory it has every acknowledged write."""

    async def test_a_power_cut_keeps_what_was_synced(self):
        with tempfile.TemporaryDirectory() as data:
            store = StoreProcess(data_dir=data)
            try:
                for i in range(20):
                    status, _ = await http_get(store.port, f"/set?k{i}=v")
                    self.assertEqual(status, 200)
                await inj.enable_injection(
                    store.endpoint, "storage.write",
                    parameters={"action": "power_cut"})
                with self.assertRaises((ConnectionError,
                                        asyncio.IncompleteReadError,
                                        inj.InjectionError)):
                    await http_get(store.port, "/set?gone=v")
                self.assertEqual(store.wait_for_exit(), -9)  # SIGKILL
            finally:
                store.stop()
            store = StoreProcess(data_dir=data)
            try:
                for i in range(20):
                    status, _ = await http_get(store.port, f"/get?key=k{i}")
                    self.assertEqual(status, 200)
                status, _ = await http_get(store.port, "/get?key=gone")
                self.assertEqual(status, 404)
            finally:
                store.stop()


class ResetTest(unittest.IsolatedAsyncioTestCase):
    """POST /v2/reset through the Python client, on a store of its own (a
    reset restarts the history that other tests replay from)."""

    async def test_reset_disarms_everything_and_restarts_the_events(self):
        store = StoreProcess()
        try:
            await inj.enable_injection(store.endpoint, "seed.request")
            answer = await inj.reset(store.endpoint)
            self.assertEqual(answer["tables_dropped"], 0)
            state = await inj.get_injection(store.endpoint, "seed.request")
            self.assertFalse(state["enabled"])
            status, _ = await http_get(store.port, "/set?after=1")
            self.assertEqual(status, 200)
            event = await inj.wait_for_event(store.endpoint, None,
                                             phase="reset",
                                             since=answer["seq"] - 1,
                                             timeout=10)
            self.assertEqual(event["seq"], answer["seq"])
        finally:
            store.stop()


if __name__ == "__main__":
    unittest.main()
