"""Open311's XML rendering: the spec's element names, escaping, and what XML cannot carry."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from services.intake.open311 import xml as open311_xml


def _parse(document: str) -> ET.Element:
    return ET.fromstring(document.encode())  # noqa: S314 (our own renderer's output)


def test_lists_hold_items_named_as_the_spec_names_them() -> None:
    document = open311_xml.render(
        "service_requests",
        [{"service_request_id": "LP-ABCD-EFGH", "service_notice": None, "account_id": None}],
    )
    assert document.startswith('<?xml version="1.0" encoding="utf-8"?>\n<service_requests>')
    root = _parse(document)
    [request] = root
    assert request.tag == "request"
    assert [child.tag for child in request] == [
        "service_request_id",
        "service_notice",
        "account_id",
    ]
    assert request.findtext("service_request_id") == "LP-ABCD-EFGH"
    assert "<account_id/>" in document


def test_nested_containers_and_scalars() -> None:
    root = _parse(
        open311_xml.render(
            "service_definition",
            {
                "service_code": "jalan-rusak",
                "attributes": [
                    {
                        "variable": True,
                        "required": False,
                        "order": 1,
                        "values": [{"key": "KEC-CIRUAS", "name": "Ciruas"}],
                    }
                ],
            },
        )
    )
    attribute = root.find("attributes/attribute")
    assert attribute is not None
    assert attribute.findtext("variable") == "true"
    assert attribute.findtext("required") == "false"
    assert attribute.findtext("order") == "1"
    assert attribute.findtext("values/value/key") == "KEC-CIRUAS"


def test_discovery_formats_are_format_elements() -> None:
    root = _parse(
        open311_xml.render(
            "discovery", {"endpoints": [{"formats": ["text/xml", "application/json"]}]}
        )
    )
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]


def test_empty_lists_are_empty_containers() -> None:
    assert open311_xml.render("services", []).endswith("<services/>\n")


def test_text_is_escaped_and_round_trips() -> None:
    text = "<script>alert('x')</script> & \"kutip\" > baris\r\nbaru 🚧 jalan"
    document = open311_xml.render("errors", [{"code": 400, "description": text}])
    assert "<script>" not in document
    assert _parse(document).findtext("error/description") == text


def test_characters_xml_cannot_carry_are_dropped() -> None:
    assert open311_xml.escape_text("a\x00b\x08c\x0bd\x1fe\ufffef\ud800g\tok") == "abcdefg\tok"
    document = open311_xml.render("errors", [{"description": "rusak\x01 parah"}])
    assert _parse(document).findtext("error/description") == "rusak parah"
