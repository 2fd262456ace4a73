"""The one single-node Kafka description serves the local stack's broker and the secured one:
each gets the properties and command lines it had when each wrote its own."""

from __future__ import annotations

from pathlib import Path

from devstack.kafka_node import KafkaNode
from devstack.tools import ROOT

DATA = Path("/var/kafka/data")
LIBS = Path("/cache/kafka/libs")
COMMON = {
    "process.roles=broker,controller",
    "node.id=1",
    "controller.quorum.voters=1@127.0.0.1:9093",
    "controller.listener.names=CONTROLLER",
    f"log.dirs={DATA}",
    "num.partitions=3",
    "offsets.topic.replication.factor=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    "auto.create.topics.enable=false",
}


def _lines(node: KafkaNode) -> list[str]:
    text = node.properties()
    assert text.endswith("\n")
    return text.splitlines()


def test_the_local_stacks_broker_listens_in_plaintext() -> None:
    lines = _lines(KafkaNode(port=9092, controller_port=9093, data=DATA))
    assert len(lines) == len(set(lines))
    assert set(lines) == COMMON | {
        "listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093",
        "advertised.listeners=PLAINTEXT://127.0.0.1:9092",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name=PLAINTEXT",
        "offsets.topic.num.partitions=6",
    }


def test_the_secured_broker_has_its_listener_and_its_own_properties() -> None:
    extra = ["sasl.enabled.mechanisms=SCRAM-SHA-512", "allow.everyone.if.no.acl.found=false"]
    node = KafkaNode(
        port=9092,
        controller_port=9093,
        data=DATA,
        protocol="SASL_PLAINTEXT",
        offsets_partitions=3,
        extra=extra,
    )
    assert set(_lines(node)) == COMMON | set(extra) | {
        "listeners=SASL_PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093",
        "advertised.listeners=SASL_PLAINTEXT://127.0.0.1:9092",
        "listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name=SASL_PLAINTEXT",
        "offsets.topic.num.partitions=3",
    }


def test_the_command_lines_format_the_storage_and_run_the_broker() -> None:
    node = KafkaNode(port=9092, controller_port=9093, data=DATA, heap="384m")
    config = Path("/var/kafka/server.properties")
    java = [
        "java",
        "-Xms128m",
        "-Xmx384m",
        "-XX:+UseG1GC",
        f"-Dlog4j2.configurationFile={ROOT / 'deploy' / 'local' / 'log4j2.properties'}",
        "-cp",
        f"{LIBS}/*",
    ]
    assert node.server_argv(LIBS, config) == [*java, "kafka.Kafka", str(config)]
    assert node.format_argv(LIBS, config, "abc", extra=["--add-scram", "x"]) == [
        *java,
        *("kafka.tools.StorageTool", "format", "-t", "abc", "-c", str(config)),
        *("--add-scram", "x"),
    ]
    assert KafkaNode(port=1, controller_port=2, data=DATA).java(LIBS)[2] == "-Xmx512m"
