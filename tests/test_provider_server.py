"""The ``copilot`` provider's gRPC server, spoken to as the engine does (no engine needed): in
process through :func:`serve`, and once as the ``pulumi-resource-copilot`` executable.

One ``copilot:index:Seats`` resource per organization (id: the org login); the inputs are the
real ones the program builds (:func:`copilot_seats.stack.model.build_stack`) against the
simulator. The Seats handler's batching and guard arithmetic are tested in
test_provider_handlers.py; here: what crosses the wire."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from conftest import TOKEN, RunningSimulator
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from copilot_seats import __version__
from copilot_seats.decisions.run_settings import ENV_OVERRIDES, RunSettings
from copilot_seats.desired.spec import SeatSpec, Settings, UserGrant
from copilot_seats.github.live import fetch_snapshot
from copilot_seats.provider import contract
from copilot_seats.provider import server as server_module
from copilot_seats.provider.session import Session
from copilot_seats.stack.model import RunOptions, build_stack

SIG, SECRET = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"
SEATS = contract.SEATS.token
LEGACY_SEAT, LEGACY_TEAM, LEGACY_ORG, LEGACY_ROSTER = contract.LEGACY_TOKENS
ALL = ["Alice", "bob", "newbie"]
"""acme's active direct seats (carol and dave are listed through team platform; erin is pending)."""
Stub = provider_pb2_grpc.ResourceProviderStub
Diff = provider_pb2.DiffResponse
Kind = provider_pb2.PropertyDiff


def urn(type_: str, name: str = contract.SEATS_NAME, parent: str | None = None) -> str:
    return f"urn:pulumi:dev::seats::{parent + '$' if parent else ''}{type_}::{name}"


def struct(props: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(props)
    return out


def plain(value: struct_pb2.Struct) -> dict[str, Any]:
    converted: dict[str, Any] = json_format.MessageToDict(value)
    return converted


def record(sim: RunningSimulator, users: list[str], **settings: Any) -> dict[str, Any]:
    """The Seats inputs the program sends for acme declaring ``users`` (against the live listing)."""
    spec = SeatSpec("acme", tuple(UserGrant(login=u, owner="platform", reason="dev") for u in users), (),
                    Settings())
    snapshot = fetch_snapshot(sim.client(), "acme")
    run_settings = RunSettings(**{"max_removal_count": 10, "max_removal_fraction": 0.1, **settings})
    options = RunOptions(settings=run_settings, run_id="r1")
    return build_stack(spec, snapshot, datetime.now(UTC), options).seats.to_props()


def check(stub: Stub, olds: dict[str, Any], news: dict[str, Any]) -> provider_pb2.CheckResponse:
    response: provider_pb2.CheckResponse = stub.Check(provider_pb2.CheckRequest(
        urn=urn(SEATS), type=SEATS, olds=struct(olds), news=struct(news)))
    return response


def checked(stub: Stub, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    """The inputs the engine records after a Check the guard passes."""
    response = check(stub, olds, news)
    assert list(response.failures) == []
    return plain(response.inputs)


def configure(stub: Stub, sim: RunningSimulator, **args: Any) -> provider_pb2.ConfigureResponse:
    response: provider_pb2.ConfigureResponse = stub.Configure(
        provider_pb2.ConfigureRequest(args=struct({"baseUrl": sim.base_url, **args}), acceptSecrets=True))
    return response


def create(stub: Stub, props: dict[str, Any]) -> provider_pb2.CreateResponse:
    response: provider_pb2.CreateResponse = stub.Create(provider_pb2.CreateRequest(
        urn=urn(SEATS), type=SEATS, properties=struct(props)))
    return response


def delete(stub: Stub, outputs: dict[str, Any], inputs: dict[str, Any], type_: str = SEATS) -> None:
    stub.Delete(provider_pb2.DeleteRequest(id="acme", urn=urn(type_), type=type_, properties=struct(outputs),
                                           old_inputs=struct(inputs)))


def writes(sim: RunningSimulator) -> list[tuple[str, list[str]]]:
    """(method, casefolded logins) of every seat write the simulator received."""
    return [(w.method, sorted(u.casefold() for u in w.body.get("selected_usernames", []))) for w in sim.writes]


def active_direct(sim: RunningSimulator) -> set[str]:
    return {s["assignee"]["login"].casefold() for s in sim.client().list_seats("acme")
            if s["assignee"] and not s.get("assigning_team") and not s.get("pending_cancellation_date")}


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
    """``serve()`` on its own event loop in a thread; the token is GITHUB_TOKEN of the provider's
    environment (the in-process server reads os.environ), the API root the configured baseUrl."""
    for name in ("GITHUB_API_URL", "COPILOT_SEATS_DEBUG", *ENV_OVERRIDES.values()):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
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


def test_schema_names_the_one_seats_type_with_its_inputs_and_outputs(stub: Stub) -> None:
    schema = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest()).schema)
    assert schema["name"] == "copilot" and schema["version"] == __version__
    assert list(schema["resources"]) == ["copilot:index:Seats"]
    seats = schema["resources"]["copilot:index:Seats"]
    assert set(seats["inputProperties"]) == set(contract.SEATS.inputs)
    assert {"organization", "users", "teams", "guard", "grants", "revoking"} <= set(seats["inputProperties"])
    assert set(seats["properties"]) == set(contract.SEATS.outputs)
    assert {"managed_users", "managed_teams", "last_run"} <= set(seats["properties"])
    assert all(p.get("description") for p in [*seats["inputProperties"].values(), *seats["properties"].values()])
    assert "aliases" not in seats
    assert not any(f'"{token}"' in json.dumps(schema) for token in contract.LEGACY_TOKENS)  # no alias, no type
    for provider_inputs in (schema["config"]["variables"], schema["provider"]["inputProperties"]):
        assert "token" not in provider_inputs and {"baseUrl", "stack"} <= set(provider_inputs)


def test_configure_supports_no_preview(stub: Stub, simulator: RunningSimulator) -> None:
    response = configure(stub, simulator)
    assert response.supportsPreview is False and response.acceptSecrets is False


def test_a_malformed_github_token_is_refused_without_showing_it(
        stub: Stub, simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "secret-part-one\nsecret-part-two")
    error = rpc_error(lambda: configure(stub, simulator))
    assert error.code() == grpc.StatusCode.UNKNOWN
    assert "GITHUB_TOKEN is malformed" in error.details() and "line break" in error.details()
    assert "secret-part" not in error.details()


def test_provider_config_changes_are_updates_in_place(stub: Stub) -> None:
    olds = {"baseUrl": "http://127.0.0.1:1", "stack": "dev"}

    def diff(news: dict[str, Any]) -> provider_pb2.DiffResponse:
        response: provider_pb2.DiffResponse = stub.DiffConfig(
            provider_pb2.DiffRequest(olds=struct(olds), news=struct(news)))
        return response

    assert diff(olds).changes == Diff.DIFF_NONE and list(diff(olds).diffs) == []
    moved = diff({**olds, "baseUrl": "http://127.0.0.1:2"})
    assert moved.changes == Diff.DIFF_SOME and list(moved.diffs) == ["baseUrl"]
    assert list(moved.replaces) == []
    assert list(diff({"baseUrl": olds["baseUrl"]}).diffs) == ["stack"]
    checked_config = stub.CheckConfig(provider_pb2.CheckRequest(news=struct(olds)))
    assert plain(checked_config.inputs) == olds and list(checked_config.failures) == []


# -- check and diff ---------------------------------------------------------------------------------

def test_check_returns_the_checked_inputs_and_the_guards_failure(stub: Stub, simulator: RunningSimulator) -> None:
    olds = checked(stub, {}, record(simulator, ALL))
    assert olds["revoking"]["users"] == {} and olds["revoking"]["limit"] == 10  # set by check
    news = checked(stub, olds, record(simulator, ["Alice"]))
    assert news["revoking"]["users"] == {"bob": "entry removed from seats.yaml",
                                         "newbie": "entry removed from seats.yaml"}
    assert news["revoking"]["seats"] == 2
    guarded = check(stub, olds, record(simulator, ["Alice"], max_removal_count=1, max_removal_fraction=0))
    assert [f.property for f in guarded.failures] == [""]
    reason = guarded.failures[0].reason
    assert "refusing to revoke 2 Copilot seats" in reason and "limit 1" in reason and "bob" in reason
    assert plain(guarded.inputs)["revoking"]["seats"] == 2  # the inputs still come back with the failure
    assert simulator.writes == []


def test_diff_details_only_the_changed_entries_and_never_replaces(stub: Stub, simulator: RunningSimulator) -> None:
    olds = checked(stub, {}, record(simulator, ALL))
    outputs = {"organization": "acme", "managed_users": ["alice", "bob", "newbie"], "managed_teams": [],
               "declared_count": 3, "last_run": {}}

    def diff(news: dict[str, Any]) -> provider_pb2.DiffResponse:
        # the engine sends the outputs as olds and the last inputs as old_inputs
        response: provider_pb2.DiffResponse = stub.Diff(provider_pb2.DiffRequest(
            id="acme", urn=urn(SEATS), type=SEATS, olds=struct(outputs), old_inputs=struct(olds),
            news=struct(news)))
        return response

    same_record = checked(stub, olds, record(simulator, ALL))
    same_record["run_id"] = "another-run"
    observed = same_record["observed_users"]
    observed["last_activity_at"][observed["logins"].index("alice")] = "2026-12-01T00:00:00Z"
    same_record["organization"] = "ACME"
    same = diff(same_record)
    assert same.changes == Diff.DIFF_NONE and list(same.diffs) == [] and dict(same.detailedDiff) == {}

    edited = record(simulator, ["Alice", "newbie", "frank"])
    edited["users"]["newbie"]["owner"] = "someone-else"
    changed = diff(checked(stub, olds, edited))
    assert changed.changes == Diff.DIFF_SOME and changed.hasDetailedDiff is True
    assert {path: d.kind for path, d in changed.detailedDiff.items()} == {
        'users["frank"]': Kind.ADD, 'users["bob"]': Kind.DELETE, 'users["newbie"].owner': Kind.UPDATE,
        'grants.users["frank"]': Kind.ADD, 'revoking.users["bob"]': Kind.ADD}
    assert all(d.inputDiff for d in changed.detailedDiff.values())
    assert list(changed.diffs) == ["grants", "revoking", "users"]
    assert list(changed.replaces) == [] and changed.deleteBeforeReplace is False
    assert not any(d.kind in (Kind.ADD_REPLACE, Kind.DELETE_REPLACE, Kind.UPDATE_REPLACE)
                   for d in changed.detailedDiff.values())


# -- create, read, update, delete against the simulator ----------------------------------------------

def test_create_import_and_delete_round_trip(stub: Stub, simulator: RunningSimulator) -> None:
    configure(stub, simulator)
    inputs = checked(stub, {}, record(simulator, [*ALL, "frank"]))
    created = create(stub, inputs)
    assert created.id == "acme"
    outputs = plain(created.properties)
    assert outputs["organization"] == "acme" and outputs["managed_users"] == ["alice", "bob", "frank", "newbie"]
    assert outputs["last_run"]["granted_users"] == 1 and outputs["last_run"]["revoked_seats"] == 0
    assert writes(simulator) == [("POST", ["frank"])]

    imported = stub.Read(provider_pb2.ReadRequest(id="acme", urn=urn(SEATS), type=SEATS))
    assert imported.id == "acme"
    adopted = plain(imported.inputs)
    assert sorted(adopted["users"]) == ["alice", "bob", "frank", "newbie"] and sorted(adopted["teams"]) == ["platform"]
    assert adopted["users"]["alice"]["login"] == "Alice"
    assert plain(imported.properties)["managed_users"] == sorted(adopted["users"])
    refreshed = stub.Read(provider_pb2.ReadRequest(id="acme", urn=urn(SEATS), type=SEATS,
                                                   properties=created.properties, inputs=struct(inputs)))
    assert plain(refreshed.properties) == outputs and refreshed.id == "acme"
    error = rpc_error(lambda: stub.Read(provider_pb2.ReadRequest(id="acme/alice", urn=urn(SEATS), type=SEATS)))
    assert "expected the organization" in error.details()
    assert writes(simulator) == [("POST", ["frank"])]

    configure(stub, simulator)  # a destroy is an operation (a provider process) of its own
    delete(stub, outputs, inputs)
    assert writes(simulator)[1:] == [("DELETE", ["alice", "bob", "frank", "newbie"])]
    assert active_direct(simulator) == set()


def test_update_sends_only_the_planned_writes(stub: Stub, simulator: RunningSimulator) -> None:
    configure(stub, simulator)
    olds = checked(stub, {}, record(simulator, ALL))
    outputs = {"organization": "acme", "managed_users": ["alice", "bob", "newbie"], "managed_teams": [],
               "declared_count": 3, "last_run": {}}
    edited = record(simulator, ["Alice", "newbie", "frank"])
    edited["users"]["newbie"]["owner"] = "someone-else"  # metadata only: no write
    news = checked(stub, olds, edited)
    updated = stub.Update(provider_pb2.UpdateRequest(id="acme", urn=urn(SEATS), type=SEATS, olds=struct(outputs),
                                                     old_inputs=struct(olds), news=struct(news)))
    assert writes(simulator) == [("POST", ["frank"]), ("DELETE", ["bob"])]
    last_run = plain(updated.properties)["last_run"]
    assert last_run["revoked_users"] == ["bob"] and last_run["granted_users"] == 1
    assert active_direct(simulator) == {"alice", "frank", "newbie"}

    again = checked(stub, news, record(simulator, ["Alice", "newbie", "frank"]))
    stub.Update(provider_pb2.UpdateRequest(id="acme", urn=urn(SEATS), type=SEATS, olds=updated.properties,
                                           old_inputs=struct(news), news=struct(again)))
    assert len(simulator.writes) == 2  # nothing planned, nothing sent


@pytest.mark.parametrize("settings", [{"dev": {"onDelete": "forget"}},
                                      {"dev": {"maxRemovalCount": "1", "maxRemovalFraction": "0"}}],
                         ids=["forget", "tight-limit"])
def test_delete_honours_the_stacks_settings(stub: Stub, simulator: RunningSimulator,
                                            settings: dict[str, dict[str, str]]) -> None:
    configure(stub, simulator, stack="dev")
    inputs = checked(stub, {}, record(simulator, ALL))
    outputs = plain(create(stub, inputs).properties)
    configure(stub, simulator, stack="dev")
    if settings["dev"].get("onDelete") == "forget":
        delete(stub, outputs, inputs)
    else:
        error = rpc_error(lambda: delete(stub, outputs, inputs))
        assert "refusing to revoke 3 Copilot seats in one destroy" in error.details()
        assert "Nothing was revoked" in error.details()
    assert simulator.writes == [] and active_direct(simulator) == {"alice", "bob", "newbie"}


def test_0_1s_per_seat_deletes_write_nothing_and_its_roster_delete_is_refused(
        stub: Stub, simulator: RunningSimulator) -> None:
    configure(stub, simulator)
    for type_ in (LEGACY_SEAT, LEGACY_TEAM, LEGACY_ORG):
        delete(stub, {"organization": "acme", "login": "bob", "team": "platform"}, {}, type_)
    error = rpc_error(lambda: delete(stub, {"organization": "acme", "roster_users": ["bob"]}, {}, LEGACY_ROSTER))
    assert "Run `pulumi up` once with this version" in error.details()
    assert simulator.writes == []


# -- errors ---------------------------------------------------------------------------------------

def test_a_handler_error_is_its_message_without_traceback(stub: Stub, simulator: RunningSimulator) -> None:
    configure(stub, simulator)
    inputs = checked(stub, {}, record(simulator, [*ALL, "mallory"]))
    error = rpc_error(lambda: create(stub, inputs))
    assert error.code() == grpc.StatusCode.UNKNOWN
    assert error.details().startswith("could not grant a seat to mallory: ")
    assert "not members of acme" in error.details() and "Traceback" not in error.details()


def test_the_token_is_scrubbed_from_error_messages(stub: Stub, simulator: RunningSimulator) -> None:
    configure(stub, simulator)
    inputs = checked(stub, {}, record(simulator, [*ALL, "frank"]))
    simulator.state.inject(status=403, method="POST", message=f"token {simulator.token} may not do this")
    error = rpc_error(lambda: create(stub, inputs))
    assert "may not do this" in error.details()
    assert simulator.token not in error.details() and "***" in error.details()
    bug = rpc_error(lambda: check(stub, {}, {"organization": "acme", "declared_count": simulator.token}))
    assert "ValueError" in bug.details()  # int() quotes what it could not read
    assert simulator.token not in bug.details() and "***" in bug.details()


def test_a_bug_is_one_line_naming_it(stub: Stub, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = {"organization": "acme", "declared_count": "many"}  # no program sends this
    error = rpc_error(lambda: check(stub, {}, broken))
    assert error.details().startswith("internal error (a bug in copilot-seats")
    assert "ValueError" in error.details() and "\n" not in error.details()
    monkeypatch.setenv("COPILOT_SEATS_DEBUG", "1")
    debug = rpc_error(lambda: check(stub, {}, broken)).details()
    assert debug.startswith("Traceback") and "ValueError" in debug


def test_older_engines_configure_through_variables(stub: Stub, simulator: RunningSimulator,
                                                   settings: dict[str, dict[str, str]]) -> None:
    settings["dev"] = {"onDelete": "forget"}
    stub.Configure(provider_pb2.ConfigureRequest(variables={
        "copilot:config:baseUrl": simulator.base_url, "copilot:config:stack": "dev"}))
    inputs = checked(stub, {}, record(simulator, [*ALL, "frank"]))
    outputs = plain(create(stub, inputs).properties)
    assert "frank" in active_direct(simulator)  # baseUrl: the simulator
    stub.Configure(provider_pb2.ConfigureRequest(variables={
        "copilot:config:baseUrl": simulator.base_url, "copilot:config:stack": "dev"}))
    delete(stub, outputs, inputs)
    assert writes(simulator) == [("POST", ["frank"])]  # stack: dev's onDelete forget


def test_a_secret_wrapped_config_value_is_unwrapped(stub: Stub, simulator: RunningSimulator) -> None:
    configure(stub, simulator, baseUrl={SIG: SECRET, "value": simulator.base_url})
    imported = stub.Read(provider_pb2.ReadRequest(id="acme", urn=urn(SEATS), type=SEATS))
    assert "alice" in plain(imported.inputs)["users"]


def test_an_unknown_type_is_a_clear_error(stub: Stub) -> None:
    error = rpc_error(lambda: stub.Check(provider_pb2.CheckRequest(
        urn=urn("copilot:index:Nope", "x"), type="copilot:index:Nope", news=struct({}))))
    assert error.details() == "the copilot provider has no resource type 'copilot:index:Nope'"
    error = rpc_error(lambda: stub.Check(provider_pb2.CheckRequest(urn="not-a-urn", news=struct({}))))
    assert "no resource type 'not-a-urn'" in error.details()


@pytest.mark.parametrize("parent", [None, "pulumi:pulumi:Stack"], ids=["top-level", "child"])
def test_without_a_type_field_the_type_is_the_urns(stub: Stub, simulator: RunningSimulator,
                                                   parent: str | None) -> None:
    checked_inputs = plain(stub.Check(provider_pb2.CheckRequest(
        urn=urn(SEATS, parent=parent), news=struct(record(simulator, ALL)))).inputs)
    assert checked_inputs["revoking"]["limit"] == 10  # the Seats handler's check ran
    error = rpc_error(lambda: stub.Delete(provider_pb2.DeleteRequest(
        id="acme", urn=urn(LEGACY_ROSTER, "roster", parent), properties=struct({"organization": "acme"}))))
    assert "Run `pulumi up` once" in error.details()  # the 0.1 Roster's handler ran


def test_thousands_of_concurrent_calls_are_all_served(stub: Stub, simulator: RunningSimulator) -> None:
    """An upgrade from 0.1 deletes every per-seat resource at once, as the engine's Go client
    does (an asyncio channel here: the sync client queues calls itself); gRPC core's default
    pending-request limits (3,000 hard) cancelled ~2,300 of 5,000 before our code saw them."""
    configure(stub, simulator)

    async def delete_all() -> list[grpc.StatusCode | None]:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{stub.port}") as channel:
            client = provider_pb2_grpc.ResourceProviderStub(channel)

            async def one(i: int) -> grpc.StatusCode | None:
                try:
                    await client.Delete(provider_pb2.DeleteRequest(
                        id=f"acme/user{i}", urn=urn(LEGACY_SEAT, f"user{i}"), type=LEGACY_SEAT,
                        properties=struct({"organization": "acme", "login": f"user{i}"})))
                except grpc.aio.AioRpcError as err:
                    return err.code()
                return None

            return await asyncio.gather(*(one(i) for i in range(5000)))

    codes = asyncio.run(delete_all())
    assert len(codes) == 5000 and [code for code in codes if code is not None] == []
    assert simulator.writes == []


# -- the executable -------------------------------------------------------------------------------

@pytest.mark.parametrize("token_source", ["GITHUB_TOKEN", "github:token"])
def test_the_plugin_executable_announces_its_port_and_serves(simulator: RunningSimulator, tmp_path: Path,
                                                             token_source: str) -> None:
    """The token from the provider's environment, else the stack's github:token through the CLI;
    the stack's settings through the CLI too (here: a limit that refuses the destroy)."""
    cli_token = simulator.token if token_source == "github:token" else "wrong-token-from-the-cli-0123"
    fake_cli = tmp_path / "pulumi"
    fake_cli.write_text(
        "#!/bin/sh\n"
        f"if [ \"$2\" = get ]; then echo '{cli_token}'; exit 0; fi\n"
        "echo '{\"copilot-seats:maxRemovalCount\": {\"value\": \"1\"}, "
        "\"copilot-seats:maxRemovalFraction\": {\"value\": \"0\"}}'\n")
    fake_cli.chmod(0o755)
    env = {name: value for name, value in os.environ.items()
           if name not in ("GITHUB_TOKEN", "COPILOT_SEATS_DEBUG", *ENV_OVERRIDES.values())}
    env |= {"GITHUB_API_URL": simulator.base_url, "COPILOT_SEATS_WRITE_SPACING": "0",
            "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    if token_source == "GITHUB_TOKEN":
        env["GITHUB_TOKEN"] = simulator.token
    executable = Path(sys.executable).parent / "pulumi-resource-copilot"
    proc = subprocess.Popen([str(executable), "127.0.0.1:1"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = Stub(channel)
            assert stub.GetPluginInfo(empty_pb2.Empty(), timeout=10).version == __version__
            inputs = checked(stub, {}, record(simulator, [*ALL, "frank"]))
            unused = "http://127.0.0.1:1"  # GITHUB_API_URL in the plugin's environment wins
            stub.Configure(provider_pb2.ConfigureRequest(args=struct({"baseUrl": unused, "stack": "dev"})),
                           timeout=10)
            created = stub.Create(provider_pb2.CreateRequest(urn=urn(SEATS), type=SEATS,
                                                             properties=struct(inputs)), timeout=30)
            assert created.id == "acme"
            stub.Configure(provider_pb2.ConfigureRequest(args=struct({"baseUrl": unused, "stack": "dev"})),
                           timeout=10)
            error = rpc_error(lambda: stub.Delete(provider_pb2.DeleteRequest(
                id="acme", urn=urn(SEATS), type=SEATS, properties=created.properties,
                old_inputs=struct(inputs)), timeout=30))
            assert "refusing to revoke 4 Copilot seats in one destroy (limit 1" in error.details()
        assert writes(simulator) == [("POST", ["frank"])]
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=10)
    assert "Traceback" not in stderr

