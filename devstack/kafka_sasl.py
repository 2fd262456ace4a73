"""A Kafka broker that authenticates its clients and authorises them with ACLs, from devstack's
Kafka jars: a SASL_PLAINTEXT listener with SCRAM-SHA-512, KRaft's StandardAuthorizer and no
access without an ACL. It proves the services' Kafka security settings and the per-service
ACLs of docs/security.md (tests/integration/test_kafka_sasl.py); production adds TLS
(SASL_SSL), which this broker leaves out.

The SCRAM credentials are written into the metadata when the storage is formatted
(`--add-scram`); the ACLs are created by the admin principal through the CreateAcls API once
the broker runs (the jars hold no kafka-acls tool, and aiokafka speaks only the versions
Kafka 4 dropped, so the request is spelled out here).
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)

from devstack import tools
from devstack.kafka_node import KafkaNode
from devstack.stack import Component, Ports, Stack, free_ports, new_cluster_id, port_open
from shared import topics
from shared.kafka_connection import KafkaConnection, SaslMechanism, SecurityProtocol

MECHANISM = SaslMechanism.SCRAM_SHA_512
CLUSTER = "kafka-cluster"  # the name of the cluster resource in ACLs


class Resource(IntEnum):  # Kafka's ResourceType
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4


class Operation(IntEnum):  # Kafka's AclOperation
    READ = 3
    WRITE = 4
    CREATE = 5
    DESCRIBE = 8
    IDEMPOTENT_WRITE = 12


@dataclass(frozen=True)
class Acl:
    principal: str  # a user name; the ACL is for User:<principal>
    resource: Resource
    name: str
    operation: Operation


def service_acls(*, routing_group: str = "routing", notify_group: str = "notify") -> list[Acl]:
    """What each service's principal may do: the table of docs/security.md. Producers are
    idempotent (IdempotentWrite on the cluster); nobody may create topics."""
    found: list[Acl] = []

    def allow(user: str, resource: Resource, names: Iterable[str], *ops: Operation) -> None:
        found.extend(Acl(user, resource, name, op) for name in names for op in ops)

    allow("intake", Resource.TOPIC, [topics.TICKETS, topics.CHATS], Operation.WRITE)
    allow("routing", Resource.TOPIC, [topics.TICKETS], Operation.WRITE, Operation.READ)
    allow("routing", Resource.TOPIC, [topics.DLQ_ROUTING], Operation.WRITE)
    allow("routing", Resource.GROUP, [routing_group, f"{routing_group}-statistics"], Operation.READ)
    allow("notify", Resource.TOPIC, [topics.TICKETS, topics.CHATS], Operation.READ)
    allow("notify", Resource.TOPIC, [topics.DLQ_NOTIFY], Operation.WRITE)
    allow("notify", Resource.GROUP, [notify_group], Operation.READ)
    for user in ("intake", "routing", "notify"):
        allow(user, Resource.CLUSTER, [CLUSTER], Operation.IDEMPOTENT_WRITE)
    return found


# -- CreateAcls v2 (flexible), the lowest version Kafka 4 accepts --------------------------------
class CreateAclsResponse_v2(Response):  # type: ignore[misc]
    API_KEY = 30
    API_VERSION = 2
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            CompactArray(
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class CreateAclsRequest_v2(RequestStruct):  # type: ignore[misc]
    API_KEY = 30
    API_VERSION = 2
    FLEXIBLE_VERSION = True
    RESPONSE_TYPE = CreateAclsResponse_v2
    SCHEMA = Schema(
        (
            "creations",
            CompactArray(
                ("resource_type", Int8),
                ("resource_name", CompactString("utf-8")),
                ("resource_pattern_type", Int8),
                ("principal", CompactString("utf-8")),
                ("host", CompactString("utf-8")),
                ("operation", Int8),
                ("permission_type", Int8),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class CreateAcls(Request[CreateAclsRequest_v2]):  # type: ignore[misc]
    API_KEY = 30
    LITERAL = 3
    ALLOW = 3

    def __init__(self, acls: Iterable[Acl]) -> None:
        self.acls = list(acls)

    def build(self, request_struct_class: type[CreateAclsRequest_v2]) -> CreateAclsRequest_v2:
        return request_struct_class(
            [
                (
                    int(a.resource),
                    a.name,
                    self.LITERAL,
                    f"User:{a.principal}",
                    "*",
                    int(a.operation),
                    self.ALLOW,
                    {},
                )
                for a in self.acls
            ],
            {},
        )


async def create_acls(admin: KafkaConnection, acls: Iterable[Acl]) -> None:
    """Create the ACLs as the admin principal; raise on any the broker refused."""
    client = AIOKafkaAdminClient(**admin.options(), request_timeout_ms=15000)
    await client.start()
    try:
        response: Any = await client._send_request(CreateAcls(acls))
    finally:
        await client.close()
    errors = [(code, message) for code, message, _ in response.results if code != 0]
    if errors:
        raise RuntimeError(f"the broker refused ACLs: {errors[:3]}")


@dataclass
class SecuredKafka:
    """A single-node broker with a SASL_PLAINTEXT (SCRAM-SHA-512) listener for clients and
    ACLs; `users` maps user names to passwords (an `admin` super user is added)."""

    folder: Path
    users: Mapping[str, str]
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    def __post_init__(self) -> None:
        self.port, self.controller_port = free_ports(2)
        # A stack that only runs this broker (its other ports are never bound).
        self.stack = Stack(self.folder.name, Ports.free(), var_root=self.folder.parent)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def connection(self, user: str, password: str | None = None) -> KafkaConnection:
        """A client connection as `user` (with its password unless another is given)."""
        known = self.admin_password if user == "admin" else self.users.get(user, "")
        return KafkaConnection(
            self.bootstrap,
            security_protocol=SecurityProtocol.SASL_PLAINTEXT,
            sasl_mechanism=MECHANISM,
            username=user,
            password=known if password is None else password,
        )

    def client_env(self, prefix: str, user: str) -> dict[str, str]:
        """A service's settings (environment) for connecting as `user`."""
        return {
            f"{prefix}_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            f"{prefix}_KAFKA_SECURITY_PROTOCOL": SecurityProtocol.SASL_PLAINTEXT.value,
            f"{prefix}_KAFKA_SASL_MECHANISM": MECHANISM.value,
            f"{prefix}_KAFKA_SASL_USERNAME": user,
            f"{prefix}_KAFKA_SASL_PASSWORD": self.users[user],
        }

    def start(self) -> None:
        libs = tools.ensure_kafka()
        data = self.stack.var / "kafka-sasl" / "data"
        config = self.stack.var / "kafka-sasl" / "server.properties"
        config.parent.mkdir(parents=True, exist_ok=True)
        jaas = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="admin" password="{self.admin_password}";'
        )
        node = KafkaNode(
            port=self.port,
            controller_port=self.controller_port,
            data=data,
            protocol=SecurityProtocol.SASL_PLAINTEXT.value,
            offsets_partitions=3,
            heap="384m",
            extra=[
                f"sasl.enabled.mechanisms={MECHANISM.value}",
                f"sasl.mechanism.inter.broker.protocol={MECHANISM.value}",
                f"listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config={jaas}",
                "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "allow.everyone.if.no.acl.found=false",
                # The broker's own principal, and the controller listener's (loopback,
                # unauthenticated here; production secures it too).
                "super.users=User:admin;User:ANONYMOUS",
            ],
        )
        config.write_text(node.properties())
        scram = [
            arg
            for user, password in {"admin": self.admin_password, **self.users}.items()
            for arg in ("--add-scram", f"{MECHANISM.value}=[name={user},password={password}]")
        ]
        format_argv = node.format_argv(libs, config, new_cluster_id(), extra=scram)
        shutil.rmtree(data, ignore_errors=True)  # fresh: the credentials are this run's
        log = self.stack.var / "kafka-sasl" / "format.log"
        with log.open("wb") as out:
            subprocess.run(format_argv, check=True, stdout=out, stderr=subprocess.STDOUT)
        self.stack.start(
            Component(
                name="kafka-sasl",
                argv=node.server_argv(libs, config),
                ready=self._answers,
                ready_timeout_s=120.0,
                stop_timeout_s=30.0,
            )
        )

    def _answers(self) -> bool:
        from shared.kafka import kafka_answers

        if not port_open(self.port):
            return False
        return asyncio.run(kafka_answers(self.connection("admin"), timeout_s=5.0))

    def prepare(self, acls: Iterable[Acl]) -> None:
        """Create every topic (as the admin: the services may not) and the ACLs."""
        from shared.kafka import ensure_topics

        admin = self.connection("admin")
        acls = list(acls)
        asyncio.run(ensure_topics(admin))
        asyncio.run(create_acls(admin, acls))
        asyncio.run(self._until_effective(acls))

    async def _until_effective(self, acls: list[Acl], *, timeout_s: float = 30.0) -> None:
        """The broker applies new ACLs a moment after the controller took them: wait until each
        principal sees the topics it was given (a topic ACL implies Describe)."""
        expected: dict[str, set[str]] = {}
        for acl in acls:
            if acl.resource is Resource.TOPIC and acl.principal in self.users:
                expected.setdefault(acl.principal, set()).add(acl.name)
        async with asyncio.timeout(timeout_s):
            for user, names in expected.items():
                while True:
                    client = AIOKafkaAdminClient(**self.connection(user).options())
                    try:
                        await client.start()
                        if names <= set(await client.list_topics()):
                            break
                    finally:
                        await client.close()
                    await asyncio.sleep(0.3)

    def stop(self) -> None:
        self.stack.stop("kafka-sasl", timeout_s=30.0)
