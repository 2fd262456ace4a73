"""Open311's request form and answers: the spec's fields, in the spec's order."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Format(StrEnum):
    JSON = "json"
    XML = "xml"


MEDIA_TYPES = {
    Format.JSON: "application/json; charset=utf-8",
    Format.XML: "text/xml; charset=utf-8",
}


class ServiceOut(BaseModel):
    service_code: str = Field(description="The catalogue's category code.")
    service_name: str
    description: str
    metadata: bool = Field(description="True: the service definition has (optional) attributes.")
    type: Literal["realtime", "batch", "blackbox"] = "realtime"
    keywords: str = Field(description="Comma separated.")
    group: str


class AttributeValueOut(BaseModel):
    key: str
    name: str


class AttributeOut(BaseModel):
    variable: bool
    code: str
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[AttributeValueOut]


class ServiceDefinitionOut(BaseModel):
    service_code: str
    attributes: list[AttributeOut]


class ExtendedAttributesOut(BaseModel):
    reply_token: str = Field(
        description="The citizen's secret for follow-ups, photos and rating (v1 API); only with "
        "`extensions=true`, shown once."
    )


class CreatedOut(BaseModel):
    service_request_id: str = Field(description="The tracking code (the request is realtime).")
    service_notice: str | None
    account_id: str | None = None
    extended_attributes: ExtendedAttributesOut | None = Field(
        default=None, description="Only when the form had `extensions=true`."
    )


class TokenOut(BaseModel):
    service_request_id: str
    token: str


class ServiceRequestOut(BaseModel):
    """A ticket as the spec's service request; never the reporter's identity or contact."""

    service_request_id: str = Field(description="The tracking code.")
    status: Literal["open", "closed"] = Field(
        description="`closed` for resolved, closed and rejected tickets; `open` otherwise."
    )
    status_notes: str | None = Field(description="The latest public note on the ticket.")
    service_name: str | None
    service_code: str | None
    description: str | None = Field(
        description="The redacted text; null until an officer verified the request, and for "
        "rejected, confidential or hidden ones."
    )
    agency_responsible: str | None = Field(description="The assigned OPD.")
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None = Field(description="The current deadline (SLA).")
    address: str | None
    address_id: str | None = Field(description="The kecamatan code, with `/desa` when known.")
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None = Field(
        description="The first photo, once the content is public; null otherwise."
    )


class ErrorOut(BaseModel):
    code: int = Field(description="The HTTP status.")
    description: str


class EndpointOut(BaseModel):
    specification: str
    url: str
    changeset: str
    type: Literal["production", "test"]
    formats: list[str]


class DiscoveryOut(BaseModel):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[EndpointOut]


class RequestForm(BaseModel):
    """POST requests.{format}: the spec's form fields (application/x-www-form-urlencoded)."""

    api_key: str | None = Field(default=None, description="The client application's key.")
    jurisdiction_id: str | None = Field(default=None, description="Optional; one jurisdiction.")
    service_code: str | None = Field(default=None, description="Required: from `services`.")
    lat: str | None = Field(default=None, description="WGS84; with `long`, inside the kabupaten.")
    long: str | None = Field(default=None, description="WGS84; with `lat`.")
    address_string: str | None = Field(default=None, description="Most specific part first.")
    address_id: str | None = Field(
        default=None, description="A kecamatan code, optionally with `/desa`: `KEC-CIRUAS/Ciruas`."
    )
    description: str | None = Field(default=None, description="Required: 10 to 4,000 characters.")
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = Field(default=None, description="Indonesian number (0812…, +62812…).")
    device_id: str | None = Field(default=None, description="Accepted and not stored.")
    account_id: str | None = Field(default=None, description="Accepted and not stored.")
    media_url: str | None = Field(default=None, description="Accepted and not fetched or stored.")
    attribute_kecamatan: str | None = Field(
        default=None, alias="attribute[kecamatan]", description="A kecamatan code or name."
    )
    attribute_desa: str | None = Field(default=None, alias="attribute[desa]")
    attribute_anonymous: str | None = Field(
        default=None, alias="attribute[anonymous]", description="`true` or `false`."
    )
    attribute_confidential: str | None = Field(
        default=None, alias="attribute[confidential]", description="`true` or `false`."
    )
    extensions: str | None = Field(
        default=None, description="`true`: the answer adds `extended_attributes.reply_token`."
    )

    model_config = ConfigDict(populate_by_name=True)
