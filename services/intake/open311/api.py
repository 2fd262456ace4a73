"""Open311 GeoReport v2 under /open311/v2/: discovery, services, requests and tokens.

Every call answers in JSON or XML by its suffix (`services.json`, `services.xml`). Routes parse
the spec's arguments, make one call of Open311's use cases (service.py) and answer in the asked
format; every failure leaves as the spec's list of `code`/`description` with the matching HTTP
status (errors.py). docs/open311.md records the choices made where the spec leaves room.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pymongo.errors import ConnectionFailure

from services.intake.api_keys import ApiKeyRepository
from services.intake.deps import ClientDep, IntakeDep
from services.intake.open311 import service, xml
from services.intake.open311.errors import Open311Error, describe_errors
from services.intake.open311.mapping import PREFIX, discovery
from services.intake.open311.schemas import (
    MEDIA_TYPES,
    CreatedOut,
    DiscoveryOut,
    ErrorOut,
    Format,
    RequestForm,
    ServiceDefinitionOut,
    ServiceOut,
    ServiceRequestOut,
    TokenOut,
)
from shared.errors import DATABASE_UNAVAILABLE, AppError
from shared.events import utcnow


def request_format(path: str) -> Format:
    """XML is the spec's required format and the answer to anything not asking for JSON."""
    return Format.JSON if path.endswith(".json") else Format.XML


def respond(
    fmt: Format,
    root: str,
    data: BaseModel | Sequence[BaseModel],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    exclude_unset: bool = False,
) -> Response:
    """The answer in the asked format: JSON as the spec's arrays/objects, or the spec's XML."""
    if isinstance(data, BaseModel):
        body: Any = data.model_dump(mode="json", exclude_unset=exclude_unset)
    else:
        body = [item.model_dump(mode="json", exclude_unset=exclude_unset) for item in data]
    text = json.dumps(body, ensure_ascii=False) if fmt is Format.JSON else xml.render(root, body)
    return Response(
        text.encode(), status_code=status_code, media_type=MEDIA_TYPES[fmt], headers=headers
    )


Failure = Open311Error | RequestValidationError | AppError | ConnectionFailure


def open311_error(exc: Failure) -> Open311Error:
    """A failure of a call as the spec's error: its status, and each problem described."""
    if isinstance(exc, Open311Error):
        return exc
    if isinstance(exc, RequestValidationError):
        errors = list(exc.errors())
        if any(tuple(e["loc"]) == ("path", "format") for e in errors):
            return Open311Error(
                404, "Format tidak dikenal; pakai .json atau .xml. (Use .json or .xml.)"
            )
        return Open311Error(400, *describe_errors(errors))
    if isinstance(exc, AppError):
        if isinstance(exc.detail, list):  # InvalidField: a 422 elsewhere, the spec's 400 here
            return Open311Error(400, *describe_errors(exc.detail))
        status = 400 if exc.status_code == 422 else exc.status_code
        return Open311Error(status, str(exc.detail), headers=exc.headers)
    return Open311Error(503, DATABASE_UNAVAILABLE, headers={"Retry-After": "5"})


def error_response(fmt: Format, error: Open311Error) -> Response:
    errors = [ErrorOut(code=error.status, description=d) for d in error.descriptions]
    return respond(fmt, "errors", errors, status_code=error.status, headers=error.headers)


class Open311Route(APIRoute):
    """Answers every failure of an Open311 call in the spec's error shape and the call's format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except (Open311Error, RequestValidationError, AppError, ConnectionFailure) as exc:
                return error_response(request_format(request.url.path), open311_error(exc))

        return guarded


async def _api_keys(request: Request) -> ApiKeyRepository:
    return ApiKeyRepository(request.state.db)


ApiKeysDep = Annotated[ApiKeyRepository, Depends(_api_keys)]
FormatPath = Annotated[Format, Path(description="`json` or `xml`.")]
Jurisdiction = Annotated[
    str | None, Query(description="Optional: this endpoint serves one jurisdiction.")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=255,
        description="Optional: a retry with the same key and form within 24 h gets the same id.",
    ),
]


def _doc(model: Any, description: str) -> dict[str, Any]:
    """An OpenAPI response: the JSON schema of `model`, and the same as XML."""
    return {
        "model": model,
        "description": description,
        "content": {"text/xml": {"schema": {"type": "string", "description": "The spec's XML"}}},
    }


ERRORS_400: dict[int | str, dict[str, Any]] = {
    400: _doc(list[ErrorOut], "Invalid argument (each named in `description`)")
}
ERRORS_404: dict[int | str, dict[str, Any]] = {
    404: _doc(list[ErrorOut], "Unknown resource, jurisdiction_id or format")
}
ERRORS_503: dict[int | str, dict[str, Any]] = {
    503: _doc(list[ErrorOut], "Database unreachable (see Retry-After)")
}

router = APIRouter(prefix=PREFIX, tags=["open311"], route_class=Open311Route)


@router.get(
    "/discovery.{format}",
    summary="Service discovery: the endpoint, its formats and how to get an API key",
    response_class=Response,
    responses={200: _doc(DiscoveryOut, "The discovery document")},
)
async def get_discovery(format: FormatPath, ctx: IntakeDep) -> Response:
    return respond(format, "discovery", discovery(ctx.settings))


@router.get(
    "/services.{format}",
    summary="Service list: one service per complaint category",
    response_class=Response,
    responses={
        200: _doc(list[ServiceOut], "The services"),
        **ERRORS_404,
        **ERRORS_503,
    },
)
async def get_services(
    format: FormatPath, ctx: IntakeDep, jurisdiction_id: Jurisdiction = None
) -> Response:
    found = await service.list_services(ctx, jurisdiction_id=jurisdiction_id)
    return respond(format, "services", found)


@router.get(
    "/services/{service_code}.{format}",
    summary="Service definition: the optional attributes a request may carry",
    response_class=Response,
    responses={
        200: _doc(ServiceDefinitionOut, "The service definition"),
        **ERRORS_404,
        **ERRORS_503,
    },
)
async def get_service_definition(
    service_code: str, format: FormatPath, ctx: IntakeDep, jurisdiction_id: Jurisdiction = None
) -> Response:
    definition = await service.describe_service(
        ctx, service_code=service_code, jurisdiction_id=jurisdiction_id
    )
    return respond(format, "service_definition", definition)


@router.post(
    "/requests.{format}",
    status_code=201,
    summary="Submit a service request (a complaint) on a citizen's behalf; needs an api_key",
    description="Form-encoded. Answers at once with `service_request_id`, the tracking code. "
    "The per-address rate limit of the public write endpoints applies.",
    response_class=Response,
    responses={
        201: _doc(list[CreatedOut], "Stored; the id is the tracking code"),
        **ERRORS_400,
        403: _doc(list[ErrorOut], "api_key missing or wrong"),
        **ERRORS_404,
        409: _doc(list[ErrorOut], "Idempotency-Key reused with another form"),
        413: {"description": "Body over 64 KiB"},
        415: _doc(list[ErrorOut], "Not application/x-www-form-urlencoded"),
        429: _doc(list[ErrorOut], "Too many requests from this address (see Retry-After)"),
        **ERRORS_503,
    },
)
async def post_request(
    format: FormatPath,
    form: Annotated[RequestForm, Form()],
    request: Request,
    ctx: IntakeDep,
    client: ClientDep,
    keys: ApiKeysDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise Open311Error(
            415,
            "Content-Type harus application/x-www-form-urlencoded. "
            "(Send the request form-encoded.)",
        )
    created = await service.submit_request(
        ctx, form, keys=keys, client=client, idempotency_key=idempotency_key
    )
    return respond(format, "service_requests", [created], status_code=201, exclude_unset=True)


@router.get(
    "/requests.{format}",
    summary="Service requests: by id, or filtered (last 90 days and 1,000 requests by default)",
    description="Lists hold only requests an officer has verified (never rejected, confidential "
    "or hidden ones), their texts redacted and points rounded; asked for by id, any other "
    "request shows only status, agency and dates.",
    response_class=Response,
    responses={
        200: _doc(list[ServiceRequestOut], "The requests, newest first"),
        **ERRORS_400,
        **ERRORS_404,
        **ERRORS_503,
    },
)
async def get_requests(
    format: FormatPath,
    ctx: IntakeDep,
    jurisdiction_id: Jurisdiction = None,
    service_request_id: Annotated[
        list[str] | None, Query(description="Comma delimited; overrides the other arguments.")
    ] = None,
    service_code: Annotated[list[str] | None, Query(description="Comma delimited.")] = None,
    start_date: Annotated[str | None, Query(description="W3C, e.g. 2026-01-01T00:00:00Z")] = None,
    end_date: Annotated[str | None, Query(description="W3C; at most 90 days after start")] = None,
    status: Annotated[list[str] | None, Query(description="`open`, `closed`, or both")] = None,
) -> Response:
    found = await service.list_requests(
        ctx,
        jurisdiction_id=jurisdiction_id,
        service_request_id=service_request_id,
        service_code=service_code,
        start_date=start_date,
        end_date=end_date,
        status=status,
        now=utcnow(),
    )
    return respond(format, "service_requests", found)


@router.get(
    "/requests/{service_request_id}.{format}",
    summary="One service request by its id (the tracking code)",
    response_class=Response,
    responses={
        200: _doc(list[ServiceRequestOut], "The request (a list of one)"),
        **ERRORS_404,
        **ERRORS_503,
    },
)
async def get_request(
    service_request_id: str,
    format: FormatPath,
    ctx: IntakeDep,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    found = await service.show_request(
        ctx, service_request_id=service_request_id, jurisdiction_id=jurisdiction_id
    )
    return respond(format, "service_requests", [found])


@router.get(
    "/tokens/{token}.{format}",
    summary="The service_request_id behind a token (the token is the tracking code itself)",
    description="Requests are realtime: POST answers with the id, never a token. For clients "
    "that still ask, a token is the tracking code and maps to itself.",
    response_class=Response,
    responses={
        200: _doc(list[TokenOut], "The id (a list of one)"),
        **ERRORS_404,
        **ERRORS_503,
    },
)
async def get_token(
    token: str, format: FormatPath, ctx: IntakeDep, jurisdiction_id: Jurisdiction = None
) -> Response:
    found = await service.resolve_token(ctx, token=token, jurisdiction_id=jurisdiction_id)
    return respond(format, "service_requests", [found])


@router.api_route("/{path:path}", methods=["GET", "POST"], include_in_schema=False)
async def unknown_resource(path: str) -> Response:
    raise Open311Error(
        404,
        f"Sumber {path} tidak ada; lihat discovery.xml. (No such resource; see discovery.xml.)",
    )
