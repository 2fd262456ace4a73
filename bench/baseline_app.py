"""The yardsticks of `make bench`: what the front door is compared with, on the same setup.

`python -m bench.baseline_app` serves, with the services' own uvicorn options
(`shared.http.server_options`) and the same MongoDB and Kafka adapters:
- `POST /trivial`: parse the JSON body, answer a constant JSON object;
- `POST /naive`: parse the JSON body, `insert_one` it and await a Kafka send of it, the least a
  durable complaint intake could do.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import uvicorn
from fastapi import FastAPI, Request
from pydantic_settings import SettingsConfigDict

from shared.http import server_options
from shared.kafka import KafkaPublisher
from shared.mongo import connect
from shared.settings import ServiceSettings

NAIVE_TOPIC = "bench.naive"
NAIVE_COLLECTION = "naive"


class BaselineSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BASELINE_")
    service_name: ClassVar[str] = "baseline"

    port: int = 8009


def create_app(settings: BaselineSettings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        client = connect(settings.mongodb_url, timeout_ms=settings.mongodb_timeout_ms)
        publisher = KafkaPublisher(settings.kafka_bootstrap_servers, client_id="bench-naive")
        try:
            yield {
                "collection": client[settings.mongodb_database][NAIVE_COLLECTION],
                "kafka": publisher,
            }
        finally:
            await publisher.close()
            await client.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/trivial", status_code=201)
    async def trivial(body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "fields": len(body)}

    @app.post("/naive", status_code=201)
    async def naive(body: dict[str, Any], request: Request) -> dict[str, Any]:
        code = uuid.uuid4().hex[:12]
        await request.state.collection.insert_one({"_id": code, **body})
        await request.state.kafka.send(
            NAIVE_TOPIC, json.dumps(body).encode(), key=code.encode(), headers=[]
        )
        return {"tracking_code": code, "status": "submitted"}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    settings = BaselineSettings()
    uvicorn.run(create_app(settings), **server_options(settings))
