"""The ``copilot`` provider's gRPC server, spoken to as the engine does (no engine needed): in
process through :func:`serve`, and once as the ``pulumi-resource-copilot`` executable."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from conftest import RunningSimulator
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from copilot_seats import __version__
from copilot_seats.provider import contract
from copilot_seats.provider import server as server_module
from copilot_seats.provider.session import Session

SIG, SECRET = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"
SEAT = "copilot:index:Seat"
Stub = provider_pb2_grpc.ResourceProviderStub


def urn(type_: str, name: str, parent: str | None = None) -> str:
    return f"urn:pulumi:dev::seats::{parent + '$' if parent else ''}{type_}::{name}"


def struct(props: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(props)
    return out


def plain(value: struct_pb2.Struct) -> dict[str, Any]:
    from google.protobuf import json_format

    converted: dict[str, Any] = json_format.MessageToDict(value)
    return converted


def seat(login: str, **extra: Any) -> dict[str, Any]:
    return {"organization": "acme", "login": login, "stack": "dev", "owner": "platform", "reason": "dev",
            "live": False, "last_activity_at": None, **extra}


def configure(stub: Stub, sim: RunningSimulator, token: Any = None) -> provider_pb2.ConfigureResponse:
    args = {"token": sim.token if token is None else token, "baseUrl": sim.base_url}
    response: provider_pb2.ConfigureResponse = stub.Configure(
        provider_pb2.ConfigureRequest(args=struct(args), acceptSecrets=True))
    return response


def rpc_error(call: Callable[[], Any]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value


@pytest.fixture
def settings() -> dict[str, dict[str, str]]:
    """Each stack's copilot-seats config as the in-process provider reads it (no Pulumi CLI)."""
    return {}


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch, settings: dict[str, dict[str, str]]) -> Iterator[Stub]:
    """``serve()`` on its own event loop in a thread; the engine's environment carries no token."""
    for name in ("GITHUB_TOKEN", "GITHUB_API_URL", "COPILOT_SEATS_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COPILOT_SEATS_WRITE_SPACING", "0")
    monkeypatch.setattr(server_module, "Session",
                        lambda config: Session(config, settings_reader=lambda stack: settings.get(stack, {})))
    loop = asyncio.new_event_loop()
    ports: queue.Queue[int] = queue.Queue()
    task: list[asyncio.Task[None]] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        task.append(loop.create_task(server_module.serve(ports.put)))
        try:
            loop.run_until_complete(task[0])
        except asyncio.CancelledError:
            pass
        finally:
            loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    port = ports.get(timeout=10)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    served = Stub(channel)
    served.port = port  # for tests that need their own (asyncio) channel
    yield served
    channel.close()
    loop.call_soon_threadsafe(task[0].cancel)
    thread.join(timeout=10)
    assert not thread.is_alive()


# -- plugin, schema, configuration ----------------------------------------------------------------

def test_plugin_info_is_the_package_version(stub: Stub) -> None:
    assert stub.GetPluginInfo(empty_pb2.Empty()).version == __version__


def test_schema_is_json_naming_every_type_with_its_legacy_alias(stub: Stub) -> None:
    schema = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest()).schema)
    assert schema["name"] == "copilot" and schema["version"] == __version__
    assert SEAT in schema["resources"]
    for rtype in contract.ALL_TYPES:
        assert schema["resources"][rtype.token]["aliases"] == [{"type": rtype.legacy_token}]
    seat_schema = schema["resources"][SEAT]
    assert "login" in seat_schema["properties"] and "live" not in seat_schema["properties"]
    assert "live" in seat_schema["inputProperties"]
    assert schema["config"]["variables"]["token"]["secret"] is True


def test_configure_supports_no_preview(stub: Stub, simulator: RunningSimulator) -> None:
    response = configure(stub, simulator)
    assert response.supportsPreview is False and response.acceptSecrets is False


def test_a_malformed_token_is_refused_without_showing_it(stub: Stub, simulator: RunningSimulator) -> None:
    error = rpc_error(lambda: configure(stub, simulator, token="secret-part-one\nsecret-part-two"))
    assert "malformed" in error.details() and "secret-part" not in error.details()


def test_provider_config_changes_are_updates_in_place(stub: Stub) -> None:
    olds = {"token": {SIG: SECRET, "value": "old-token-0123456789"}, "baseUrl": "http://127.0.0.1:1"}

    def diff(news: dict[str, Any]) -> provider_pb2.DiffResponse:
        response: provider_pb2.DiffResponse = stub.DiffConfig(
            provider_pb2.DiffRequest(olds=struct(olds), news=struct(news)))
        return response

    assert diff(olds).changes == provider_pb2.DiffResponse.DIFF_NONE
    moved = diff({**olds, "baseUrl": "http://127.0.0.1:2"})
    assert moved.changes == provider_pb2.DiffResponse.DIFF_SOME and list(moved.diffs) == ["baseUrl"]
    assert list(moved.replaces) == []
    checked = stub.CheckConfig(provider_pb2.CheckRequest(news=struct(olds)))
    assert plain(checked.inputs) == olds and list(checked.failures) == []


# -- resources ------------------------------------------------------------------------------------

def test_check_returns_the_inputs_and_the_guards_failures(stub: Stub, simulator: RunningSimulator) -> None:
    configure(stub, simulator)
    checked = stub.Check(provider_pb2.CheckRequest(
        urn=urn(SEAT, "alice"), type=SEAT, olds=struct(seat("alice", remembered_last_activity_at="2026-01-01")),
        news=struct(seat("alice"))))
    assert list(checked.failures) == []
    assert plain(checked.inputs)["remembered_last_activity_at"] == "2026-01-01"
    org = "copilot:index:Organization"
    before = {"organization": "acme", "roster_users": [f"u{i}" for i in range(30)], "declared_count": 30,
              "max_removal_count": 10, "max_removal_fraction": 0.1}
    after = {**before, "roster_users": [], "declared_count": 0, "unmanaged_direct": [f"u{i}" for i in range(30)]}
    guarded = stub.Check(provider_pb2.CheckRequest(urn=urn(org, "organization"), type=org,
                                                   olds=struct(before), news=struct(after)))
    assert [f.property for f in guarded.failures] == ["mass_removal_guard"]
    assert "refusing to revoke 30 Copilot seats" in guarded.failures[0].reason


def test_diff_is_an_update_of_the_changed_fields_never_a_replacement(stub: Stub) -> None:
    olds = seat("alice", granted_directly=True)

    def diff(news: dict[str, Any]) -> provider_pb2.DiffResponse:
        response: provider_pb2.DiffResponse = stub.Diff(provider_pb2.DiffRequest(
            id="acme/alice", urn=urn(SEAT, "alice"), type=SEAT, olds=struct(olds), news=struct(news)))
        return response

    same = diff(seat("Alice", live=True, last_activity_at="2026-11-01T00:00:00Z"))
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE and list(same.diffs) == []
    changed = diff(seat("alice", owner="someone-else"))
    assert changed.changes == provider_pb2.DiffResponse.DIFF_SOME and list(changed.diffs) == ["owner"]
    assert changed.detailedDiff["owner"].kind == provider_pb2.PropertyDiff.UPDATE
    assert list(changed.replaces) == [] and changed.deleteBeforeReplace is False


def test_create_read_and_delete_round_trip(stub: Stub, simulator: RunningSimulator) -> None:
    configure(stub, simulator)
    created = stub.Create(provider_pb2.CreateRequest(
        urn=urn(SEAT, "frank"), type=SEAT, properties=struct(seat("frank", repair_kind="grant"))))
    assert created.id == "acme/frank"
    outputs = plain(created.properties)
    assert outputs["granted_directly"] is True and outputs["login"] == "frank" and "live" not in outputs
    assert [(w.method, w.body) for w in simulator.writes] == [("POST", {"selected_usernames": ["frank"]})]

    read = stub.Read(provider_pb2.ReadRequest(id="acme/Alice", urn=urn(SEAT, "alice"), type=SEAT))
    assert read.id == "acme/Alice"
    assert plain(read.properties) == {"organization": "acme", "login": "Alice", "granted_directly": True}
    assert plain(read.inputs) == {"organization": "acme", "login": "Alice"}
    gone = stub.Read(provider_pb2.ReadRequest(id="acme/ghost", urn=urn(SEAT, "ghost"), type=SEAT))
    assert gone.id == ""

    stub.Delete(provider_pb2.DeleteRequest(id=created.id, urn=urn(SEAT, "frank"), type=SEAT,
                                           properties=created.properties))
    assert [(w.method, w.body) for w in simulator.writes][1:] == [("DELETE", {"selected_usernames": ["frank"]})]


def test_update_sends_only_the_planned_repair(stub: Stub, simulator: RunningSimulator) -> None:
    configure(stub, simulator)
    olds = seat("bob", granted_directly=True)
    updated = stub.Update(provider_pb2.UpdateRequest(id="acme/bob", urn=urn(SEAT, "bob"), type=SEAT,
                                                     olds=struct(olds), news=struct(seat("bob", owner="x"))))
    assert plain(updated.properties)["owner"] == "x" and simulator.writes == []


@pytest.mark.parametrize("settings", [{"dev": {"onDelete": "forget"}}])
def test_delete_honours_the_stacks_on_delete_setting(stub: Stub, simulator: RunningSimulator) -> None:
    configure(stub, simulator)
    stub.Delete(provider_pb2.DeleteRequest(id="acme/bob", urn=urn(SEAT, "bob"), type=SEAT,
                                           properties=struct(seat("bob"))))
    assert simulator.writes == []


def test_a_handler_error_is_its_message_without_traceback(stub: Stub, simulator: RunningSimulator) -> None:
    configure(stub, simulator)
    error = rpc_error(lambda: stub.Create(provider_pb2.CreateRequest(
        urn=urn(SEAT, "mallory"), type=SEAT, properties=struct(seat("mallory", repair_kind="grant")))))
    assert error.code() == grpc.StatusCode.UNKNOWN
    assert error.details().startswith("could not grant a seat to mallory: ")
    assert "not members of acme" in error.details() and "Traceback" not in error.details()


def test_the_token_is_scrubbed_from_error_messages(stub: Stub, simulator: RunningSimulator) -> None:
    configure(stub, simulator)
    simulator.state.inject(status=403, method="POST", message=f"token {simulator.token} may not do this")
    error = rpc_error(lambda: stub.Create(provider_pb2.CreateRequest(
        urn=urn(SEAT, "frank"), type=SEAT, properties=struct(seat("frank", repair_kind="grant")))))
    assert "may not do this" in error.details()
    assert simulator.token not in error.details() and "***" in error.details()


def test_a_bug_is_one_line_naming_it(stub: Stub, simulator: RunningSimulator) -> None:
    configure(stub, simulator)
    no_login = {"organization": "acme", "repair_kind": "grant"}
    error = rpc_error(lambda: stub.Create(provider_pb2.CreateRequest(
        urn=urn(SEAT, "x"), type=SEAT, properties=struct(no_login))))
    assert error.details().startswith("internal error (a bug in copilot-seats")
    assert "KeyError" in error.details() and "\n" not in error.details()


def test_a_secret_wrapped_token_is_unwrapped(stub: Stub, simulator: RunningSimulator) -> None:
    configure(stub, simulator, token={SIG: SECRET, "value": simulator.token})
    stub.Create(provider_pb2.CreateRequest(urn=urn(SEAT, "frank"), type=SEAT,
                                           properties=struct(seat("frank", repair_kind="grant"))))
    assert [w.method for w in simulator.writes] == ["POST"] and "frank" in simulator.state.org("acme").seats


def test_older_engines_configure_through_variables(stub: Stub, simulator: RunningSimulator) -> None:
    stub.Configure(provider_pb2.ConfigureRequest(variables={
        "copilot:config:token": simulator.token, "copilot:config:baseUrl": simulator.base_url}))
    stub.Create(provider_pb2.CreateRequest(urn=urn(SEAT, "frank"), type=SEAT,
                                           properties=struct(seat("frank", repair_kind="grant"))))
    assert "frank" in simulator.state.org("acme").seats


def test_an_unknown_type_is_a_clear_error(stub: Stub) -> None:
    error = rpc_error(lambda: stub.Check(provider_pb2.CheckRequest(
        urn=urn("copilot:index:Nope", "x"), type="copilot:index:Nope", news=struct({}))))
    assert error.details() == "the copilot provider has no resource type 'copilot:index:Nope'"
    error = rpc_error(lambda: stub.Check(provider_pb2.CheckRequest(urn="not-a-urn", news=struct({}))))
    assert "no resource type 'not-a-urn'" in error.details()


@pytest.mark.parametrize("parent", [None, "copilot:index:Organization"], ids=["top-level", "child"])
def test_without_a_type_field_the_type_is_the_urns(stub: Stub, simulator: RunningSimulator,
                                                   parent: str | None) -> None:
    configure(stub, simulator)
    checked = stub.Check(provider_pb2.CheckRequest(urn=urn(SEAT, "frank", parent), news=struct(seat("frank"))))
    assert "remembered_last_activity_at" in plain(checked.inputs)  # the Seat handler ran
    created = stub.Create(provider_pb2.CreateRequest(urn=urn(SEAT, "frank", parent),
                                                     properties=struct(seat("frank", repair_kind="grant"))))
    assert created.id == "acme/frank" and "frank" in simulator.state.org("acme").seats


def test_concurrent_creates_are_coalesced_into_few_requests(
        stub: Stub, make_simulator: Callable[..., RunningSimulator]) -> None:
    logins = [f"user{i:03d}" for i in range(250)]
    sim = make_simulator({"organizations": [{"login": "acme", "seat_management_setting": "assign_selected",
                                             "members": logins, "seats": []}]})
    configure(stub, sim)
    calls = [stub.Create.future(provider_pb2.CreateRequest(
        urn=urn(SEAT, login), type=SEAT, properties=struct(seat(login, repair_kind="grant")))) for login in logins]
    assert sorted(call.result(timeout=30).id for call in calls) == [f"acme/{login}" for login in logins]
    sizes = [len(w.body["selected_usernames"]) for w in sim.writes]
    assert sum(sizes) == 250 and len(sizes) <= 5, sizes  # ceil(250/100) plus a straggler or two
    assert len(sim.state.org("acme").seats) == 250


def test_planned_grants_go_out_in_one_batch_even_when_the_engine_sends_creates_one_by_one(
        stub: Stub, make_simulator: Callable[..., RunningSimulator]) -> None:
    """Current engines run at most 4 x CPUs steps at once, so coalescing concurrent calls alone
    would send a request per few seats: the Organization's check announces the run's grants and
    the first Seat create sends them all."""
    logins = [f"user{i:03d}" for i in range(250)]
    sim = make_simulator({"organizations": [{"login": "acme", "seat_management_setting": "assign_selected",
                                             "members": logins[:-1], "seats": []}]})  # user249: no member
    configure(stub, sim)
    org = "copilot:index:Organization"
    checked = stub.Check(provider_pb2.CheckRequest(urn=urn(org, "organization"), type=org, news=struct(
        {"organization": "acme", "grants": {"users": logins, "teams": []}})))
    assert list(checked.failures) == []
    refused = []
    for login in logins:  # sequential, like an engine with --parallel 1
        try:
            stub.Create(provider_pb2.CreateRequest(urn=urn(SEAT, login), type=SEAT,
                                                   properties=struct(seat(login, repair_kind="grant"))))
        except grpc.RpcError as err:
            refused.append((login, err.details()))
    assert [login for login, _ in refused] == ["user249"] and "user249" in refused[0][1]
    assert len(sim.state.org("acme").seats) == 249
    posts = [w for w in sim.writes if w.method == "POST"]
    assert len(posts) <= 3 + 2 * 7  # 100/100/50, and two halves per level (log2 100 < 7) to find the refused login
    assert sum(len(w.body["selected_usernames"]) for w in posts if w.status < 300) == 249


def test_thousands_of_concurrent_calls_are_all_served(stub: Stub) -> None:
    """A destroy sends every seat's Delete at once, as the engine's Go client does (an asyncio
    channel here: the sync client queues calls itself); gRPC core's default pending-request
    limits (3,000 hard) cancelled ~2,300 of 5,000 before our code saw them."""
    revocation = "copilot:index:Revocation"

    async def delete_all() -> list[grpc.StatusCode | None]:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{stub.port}") as channel:
            client = provider_pb2_grpc.ResourceProviderStub(channel)

            async def one(i: int) -> grpc.StatusCode | None:
                try:
                    await client.Delete(provider_pb2.DeleteRequest(
                        id=f"acme/{i}", urn=urn(revocation, f"r{i}"), type=revocation,
                        properties=struct({"organization": "acme"})))
                except grpc.aio.AioRpcError as err:
                    return err.code()
                return None

            return await asyncio.gather(*(one(i) for i in range(5000)))

    assert [code for code in asyncio.run(delete_all()) if code is not None] == []


# -- the executable -------------------------------------------------------------------------------

def test_the_plugin_executable_announces_its_port_and_serves(simulator: RunningSimulator, tmp_path: Path) -> None:
    fake_cli = tmp_path / "pulumi"  # what Delete reads the stack's settings with
    fake_cli.write_text("#!/bin/sh\necho '{\"copilot-seats:maxRemovalCount\": {\"value\": \"5\"}}'\n")
    fake_cli.chmod(0o755)
    env = {**os.environ, **simulator.env(), "COPILOT_SEATS_WRITE_SPACING": "0",
           "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    executable = Path(sys.executable).parent / "pulumi-resource-copilot"
    proc = subprocess.Popen([str(executable), "127.0.0.1:1"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = Stub(channel)
            assert stub.GetPluginInfo(empty_pb2.Empty(), timeout=10).version == __version__
            # GITHUB_TOKEN in the plugin's environment wins over a configured token
            configure(stub, simulator, token="configured-but-unused-token")
            created = stub.Create(provider_pb2.CreateRequest(
                urn=urn(SEAT, "frank"), type=SEAT, properties=struct(seat("frank", repair_kind="grant"))))
            stub.Delete(provider_pb2.DeleteRequest(id=created.id, urn=urn(SEAT, "frank"), type=SEAT,
                                                   properties=created.properties))
        assert [(w.method, w.body) for w in simulator.writes] == [
            ("POST", {"selected_usernames": ["frank"]}), ("DELETE", {"selected_usernames": ["frank"]})]
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=10)
    assert "Traceback" not in stderr
