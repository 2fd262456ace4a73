"""One single-node Kafka (KRaft: broker and controller in one process, on loopback) from
devstack's jars: its server.properties and its Java command lines. The local stack's broker
(devstack/stack.py) and the secured one (devstack/kafka_sasl.py) differ only in their client
listener, a few properties of their own, the offsets topic's partitions and the heap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from devstack.tools import ROOT

CONTROLLER = "CONTROLLER"


@dataclass(frozen=True)
class KafkaNode:
    """A broker whose clients connect to `port` with `protocol` (the listener is named after
    it: PLAINTEXT, SASL_PLAINTEXT), and whose controller listens, in plaintext, on
    `controller_port`; `extra` are further properties (authentication, authorisation)."""

    port: int
    controller_port: int
    data: Path
    protocol: str = "PLAINTEXT"
    offsets_partitions: int = 6
    heap: str = "512m"
    extra: Sequence[str] = ()

    def properties(self) -> str:
        """The server.properties text."""
        listener, controller = self.protocol, CONTROLLER
        lines = [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
            f"listeners={listener}://127.0.0.1:{self.port},"
            f"{controller}://127.0.0.1:{self.controller_port}",
            f"advertised.listeners={listener}://127.0.0.1:{self.port}",
            f"controller.listener.names={controller}",
            f"listener.security.protocol.map={listener}:{listener},{controller}:PLAINTEXT",
            f"inter.broker.listener.name={listener}",
            *self.extra,
            f"log.dirs={self.data}",
            "num.partitions=3",
            "offsets.topic.replication.factor=1",
            f"offsets.topic.num.partitions={self.offsets_partitions}",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=false",
            "",
        ]
        return "\n".join(lines)

    def java(self, libs: Path) -> list[str]:
        """`java` with the heap, the G1 collector, the log4j2 configuration and the jars."""
        return [
            "java",
            "-Xms128m",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile={ROOT / 'deploy' / 'local' / 'log4j2.properties'}",
            "-cp",
            f"{libs}/*",
        ]

    def format_argv(
        self, libs: Path, config: Path, cluster_id: str, *, extra: Sequence[str] = ()
    ) -> list[str]:
        """The command that formats the storage (once, before the first start)."""
        return [
            *self.java(libs),
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(config),
            *extra,
        ]

    def server_argv(self, libs: Path, config: Path) -> list[str]:
        """The command that runs the broker."""
        return [*self.java(libs), "kafka.Kafka", str(config)]
