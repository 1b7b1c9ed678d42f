"""The ``copilot`` provider plugin: a gRPC ``ResourceProvider`` server the engine starts.

Why the SDK's generated protos and not ``pulumi.provider.experimental``: the pinned engine
(v3.78.1) must run it, and the experimental SDK (3.171+) is undocumented, changes between
releases and routes every call through its own ``PropertyValue`` model; the generated stubs
(``pulumi.runtime.proto``) are the wire contract both engines speak, and the servicer below is
~200 lines. It runs on ``grpc.aio``; the one Seats resource's writes run in threads.

``Configure`` answers ``supportsPreview: false``: the engine never calls Create or Update during
a preview, so a preview cannot write to GitHub whatever the handlers do. Errors reach the
engine as their message, scrubbed of the token; a bug is one line (``COPILOT_SEATS_DEBUG=1``
adds the traceback).
"""

from __future__ import annotations

import asyncio
import os
import sys
import traceback
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from copilot_seats import __version__, lifeline
from copilot_seats.errors import CopilotSeatsError
from copilot_seats.provider import contract
from copilot_seats.provider.handler import Context, Handler
from copilot_seats.provider.legacy import LegacyHandler, LegacyRosterHandler
from copilot_seats.provider.seats import SeatsHandler
from copilot_seats.provider.session import ProviderConfig, Session
from copilot_seats.redact import scrub

__all__ = ["HANDLERS", "CopilotProvider", "main", "serve"]

HANDLERS: dict[str, Handler] = {token: h for h in (SeatsHandler(), LegacyHandler(), LegacyRosterHandler())
                                for token in h.tokens}
"""Handler per type token (see :mod:`copilot_seats.provider.contract`)."""

_KINDS = {"add": provider_pb2.PropertyDiff.ADD, "delete": provider_pb2.PropertyDiff.DELETE,
          "update": provider_pb2.PropertyDiff.UPDATE}

R = TypeVar("R")


_SIG = "4dabf18193072939515e22adb298388d"  # the engine's marker of a special value (a secret, here)
_SECRET = "1b47061264138c4ac30d75fd1eb44270"


def _value(value: struct_pb2.Value) -> Any:
    """A protobuf Value as plain Python (``json_format.MessageToDict`` is several times slower,
    and the engine calls Check and Diff one resource at a time). Secrets become their plain
    value: engines hand provider *config* secrets wrapped even when the provider does not accept
    secrets (the token would be the only one)."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "number_value":
        return value.number_value
    if kind == "struct_value":
        fields = value.struct_value.fields
        sig = fields.get(_SIG)
        if sig is not None and sig.string_value == _SECRET:
            return _value(fields["value"]) if "value" in fields else None
        return {k: _value(v) for k, v in fields.items()}
    if kind == "list_value":
        return [_value(v) for v in value.list_value.values]
    return None


def _props(struct: struct_pb2.Struct) -> dict[str, Any]:
    return {k: _value(v) for k, v in struct.fields.items()} if struct is not None else {}


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(props)
    return out


def _message(error: BaseException) -> str:
    if isinstance(error, CopilotSeatsError):
        return scrub(str(error))
    if os.environ.get("COPILOT_SEATS_DEBUG"):
        return scrub("".join(traceback.format_exception(error)))
    return scrub(f"internal error (a bug in copilot-seats; please report it, with COPILOT_SEATS_DEBUG=1 for "
                 f"the traceback): {type(error).__name__}: {error}")


class CopilotProvider(provider_pb2_grpc.ResourceProviderServicer):
    """The servicer: converts the wire format, dispatches to the type's handler."""

    def __init__(self) -> None:
        self._context: Context | None = None

    @property
    def context(self) -> Context:
        if self._context is None:  # the engine always configures first; tests may not
            self._configure({})
        assert self._context is not None
        return self._context

    def _configure(self, inputs: dict[str, Any]) -> None:
        if self._context is not None:
            self._context.session.close()
        self._context = Context(Session(ProviderConfig.resolve(inputs)))

    async def _call(self, ctx: grpc.aio.ServicerContext, fn: Callable[[], Awaitable[R]]) -> R:
        try:
            return await fn()
        except Exception as err:  # every failure is a message for the engine, never a traceback
            await ctx.abort(grpc.StatusCode.UNKNOWN, _message(err))
            raise  # unreachable: abort raises

    @staticmethod
    def _handler(token: str, urn: str) -> Handler:
        # engines before 3.132 send no type: it is the URN's type segment (after any parent's type)
        token = token or (urn.split("::")[-2].split("$")[-1] if urn.count("::") >= 3 else "")
        handler = HANDLERS.get(token)
        if handler is None:
            raise CopilotSeatsError(f"the copilot provider has no resource type {token or urn!r}")
        return handler

    # -- plugin and configuration ------------------------------------------------------------

    async def GetPluginInfo(self, request: empty_pb2.Empty, ctx: Any) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=__version__)

    async def GetSchema(self, request: provider_pb2.GetSchemaRequest, ctx: Any) -> provider_pb2.GetSchemaResponse:
        import json

        return provider_pb2.GetSchemaResponse(schema=json.dumps(contract.schema(__version__)))

    async def CheckConfig(self, request: provider_pb2.CheckRequest, ctx: Any) -> provider_pb2.CheckResponse:
        return provider_pb2.CheckResponse(inputs=request.news)

    async def DiffConfig(self, request: provider_pb2.DiffRequest, ctx: Any) -> provider_pb2.DiffResponse:
        olds, news = _props(request.olds), _props(request.news)
        changed = sorted(k for k in set(olds) | set(news) if olds.get(k) != news.get(k))
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME if changed else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=changed)

    async def Configure(self, request: provider_pb2.ConfigureRequest, ctx: Any) -> provider_pb2.ConfigureResponse:
        inputs = _props(request.args) if request.HasField("args") else {}
        for name, value in request.variables.items():  # "copilot:config:token" (older engines send only these)
            inputs.setdefault(name.rsplit(":", 1)[-1], value)

        async def configure() -> provider_pb2.ConfigureResponse:
            self._configure(inputs)
            return provider_pb2.ConfigureResponse(acceptSecrets=False, supportsPreview=False)

        return await self._call(ctx, configure)

    async def Cancel(self, request: empty_pb2.Empty, ctx: Any) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    # -- resources ---------------------------------------------------------------------------

    async def Check(self, request: provider_pb2.CheckRequest, ctx: Any) -> provider_pb2.CheckResponse:
        async def check() -> provider_pb2.CheckResponse:
            handler = self._handler(request.type, request.urn)
            inputs, failures = handler.check(_props(request.olds), _props(request.news))
            return provider_pb2.CheckResponse(inputs=_struct(inputs), failures=[
                provider_pb2.CheckFailure(property=p, reason=r) for p, r in failures])

        return await self._call(ctx, check)

    async def Diff(self, request: provider_pb2.DiffRequest, ctx: Any) -> provider_pb2.DiffResponse:
        async def diff() -> provider_pb2.DiffResponse:
            olds = _props(request.old_inputs) if request.HasField("old_inputs") else _props(request.olds)
            changed = self._handler(request.type, request.urn).diff(olds, _props(request.news))
            top = sorted({path.split("[", 1)[0].split(".", 1)[0] for path in changed})
            return provider_pb2.DiffResponse(
                changes=provider_pb2.DiffResponse.DIFF_SOME if changed else provider_pb2.DiffResponse.DIFF_NONE,
                diffs=top, hasDetailedDiff=True,
                detailedDiff={path: provider_pb2.PropertyDiff(kind=_KINDS[kind], inputDiff=True)
                              for path, kind in changed.items()})

        return await self._call(ctx, diff)

    async def Create(self, request: provider_pb2.CreateRequest, ctx: Any) -> provider_pb2.CreateResponse:
        async def create() -> provider_pb2.CreateResponse:
            handler = self._handler(request.type, request.urn)
            id_, outputs = await handler.create(self.context, _props(request.properties))
            return provider_pb2.CreateResponse(id=id_, properties=_struct(outputs))

        return await self._call(ctx, create)

    async def Update(self, request: provider_pb2.UpdateRequest, ctx: Any) -> provider_pb2.UpdateResponse:
        async def update() -> provider_pb2.UpdateResponse:
            olds = _props(request.old_inputs) if request.HasField("old_inputs") else _props(request.olds)
            outputs = await self._handler(request.type, request.urn).update(
                self.context, request.id, olds, _props(request.news))
            return provider_pb2.UpdateResponse(properties=_struct(outputs))

        return await self._call(ctx, update)

    async def Read(self, request: provider_pb2.ReadRequest, ctx: Any) -> provider_pb2.ReadResponse:
        async def read() -> provider_pb2.ReadResponse:
            found = await self._handler(request.type, request.urn).read(
                self.context, request.id, _props(request.properties), _props(request.inputs))
            if found is None:  # a blank id: refresh drops the resource, import fails "not found"
                return provider_pb2.ReadResponse(id="")
            outputs, inputs = found
            return provider_pb2.ReadResponse(id=request.id, properties=_struct(outputs), inputs=_struct(inputs))

        return await self._call(ctx, read)

    async def Delete(self, request: provider_pb2.DeleteRequest, ctx: Any) -> empty_pb2.Empty:
        async def delete() -> empty_pb2.Empty:
            old_inputs = _props(request.old_inputs) if request.HasField("old_inputs") else {}
            await self._handler(request.type, request.urn).delete(self.context, request.id,
                                                                   _props(request.properties), old_inputs)
            return empty_pb2.Empty()

        return await self._call(ctx, delete)


_SERVER_OPTIONS = [
    # The engine sends every seat's Delete at once (a destroy of 10,000 seats is 10,000 RPCs in
    # flight). gRPC core cancels calls beyond its pending-request limits (1,000 soft, 3,000 hard)
    # before the application sees them: at 5,000 concurrent deletes ~2,300 failed "CANCELLED".
    ("grpc.server.max_pending_requests", 1_000_000),
    ("grpc.server.max_pending_requests_hard_limit", 1_000_000),
    ("grpc.max_receive_message_length", 256 * 1024 * 1024),
    ("grpc.max_send_message_length", 256 * 1024 * 1024),
]


async def serve(port_out: Callable[[int], None] = lambda port: print(port, flush=True)) -> None:
    """Serve on a free port of 127.0.0.1, announce it (the engine reads it from stdout), run forever."""
    server = grpc.aio.server(options=_SERVER_OPTIONS)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(CopilotProvider(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    port_out(port)
    try:
        await server.wait_for_termination()
    finally:  # cancelled (Ctrl-C, or a host stopping its loop): release the port, drop open calls
        await server.stop(grace=None)


def main() -> None:
    """Entry point of ``pulumi-resource-copilot`` (a console script of this package)."""
    lifeline.start_watch()  # exit with the CLI, even when it is killed with -9
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        sys.exit(0)
