"""A native Pulumi provider plugin that does nothing: the baseline of bench/scale_bench.py.

It serves the engine's ResourceProvider gRPC protocol with the stubs generated into the
Pulumi Python SDK (``pulumi.runtime.proto``), on an asyncio server with no concurrency limit,
so the no-op program pays exactly what any native Python provider pays (process start,
gRPC, (de)serializing properties) and nothing for GitHub. Type ``noop:index:Things``:
create returns its inputs with the URN's name as id; diff reports a change when the inputs
differ from the previous ones (no detailed diff: the engine shows its own); update and read
echo; delete forgets. The engine starts it through a ``pulumi-resource-noop`` launcher that
bench/scale_projects.py writes into the no-op project (nothing plugin-shaped is committed),
found through ``plugins: providers:`` in that project's Pulumi.yaml.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

VERSION = "0.0.1"
# the same server options as the copilot provider (copilot_seats/provider/server.py): without
# raised pending-request limits gRPC core cancels a destroy's deletes beyond 3,000 in flight
_OPTIONS = [("grpc.server.max_pending_requests", 1_000_000),
            ("grpc.server.max_pending_requests_hard_limit", 1_000_000),
            ("grpc.max_receive_message_length", 400 * 1024 * 1024),
            ("grpc.max_send_message_length", 400 * 1024 * 1024)]


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


class NoopProvider(provider_pb2_grpc.ResourceProviderServicer):
    """Every method the engine calls for a custom resource, answered without side effects."""

    async def GetPluginInfo(self, request: empty_pb2.Empty, context: Any) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=VERSION)

    async def GetSchema(self, request: Any, context: Any) -> provider_pb2.GetSchemaResponse:
        return provider_pb2.GetSchemaResponse(schema="{}")

    async def CheckConfig(self, request: provider_pb2.CheckRequest, context: Any) -> provider_pb2.CheckResponse:
        return provider_pb2.CheckResponse(inputs=request.news)

    async def DiffConfig(self, request: provider_pb2.DiffRequest, context: Any) -> provider_pb2.DiffResponse:
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)

    async def Configure(self, request: provider_pb2.ConfigureRequest,
                        context: Any) -> provider_pb2.ConfigureResponse:
        return provider_pb2.ConfigureResponse(acceptSecrets=False, supportsPreview=False)

    async def Check(self, request: provider_pb2.CheckRequest, context: Any) -> provider_pb2.CheckResponse:
        return provider_pb2.CheckResponse(inputs=request.news)

    async def Diff(self, request: provider_pb2.DiffRequest, context: Any) -> provider_pb2.DiffResponse:
        olds = request.old_inputs if request.HasField("old_inputs") else request.olds
        same = olds == request.news
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE if same
                                         else provider_pb2.DiffResponse.DIFF_SOME)

    async def Create(self, request: provider_pb2.CreateRequest, context: Any) -> provider_pb2.CreateResponse:
        return provider_pb2.CreateResponse(id=_name(request.urn), properties=request.properties)

    async def Read(self, request: provider_pb2.ReadRequest, context: Any) -> provider_pb2.ReadResponse:
        return provider_pb2.ReadResponse(id=request.id, properties=request.properties, inputs=request.inputs)

    async def Update(self, request: provider_pb2.UpdateRequest, context: Any) -> provider_pb2.UpdateResponse:
        return provider_pb2.UpdateResponse(properties=request.news)

    async def Delete(self, request: provider_pb2.DeleteRequest, context: Any) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    async def Cancel(self, request: empty_pb2.Empty, context: Any) -> empty_pb2.Empty:
        return empty_pb2.Empty()


async def serve() -> None:
    """Listen on a free loopback port and print it: the engine reads the port from stdout."""
    server = grpc.aio.server(options=_OPTIONS)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(NoopProvider(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    await server.wait_for_termination()


if __name__ == "__main__":  # argv: the engine's address and logging flags, not needed here
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
