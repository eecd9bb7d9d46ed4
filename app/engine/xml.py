"""Safe XML parsing for uploaded BPMN and DMN: no DTDs, no entities, no network, bounded size."""

from __future__ import annotations

import re

from lxml import etree

MAX_XML_BYTES = 5 * 1024 * 1024

# Entity expansion ("billion laughs") and external entities both need a DOCTYPE; BPMN and DMN
# never use one, so any DOCTYPE or ENTITY declaration is refused before the parser sees it.
_DTD_PATTERN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_DTD_REFUSED = "DOCTYPE and ENTITY declarations are not allowed (entity expansion, external entities)"
# libxml2 stops at 256 nested elements unless XML_PARSE_HUGE is set (it stays off); its message
# ("Excessive depth in document: 256, use XML_PARSE_HUGE option") reads like advice to the user.
_DEPTH_ERROR = re.compile(r"Excessive depth in document: (\d+)")


class UnsafeXml(ValueError):
    """The document was refused before or while parsing; the message says why."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def parse_xml(data: bytes | str, filename: str = "<upload>") -> etree._Element:
    """Parse BPMN/DMN text safely and return its root element, or raise UnsafeXml."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_XML_BYTES:
        raise UnsafeXml(
            f"{filename}: the file is {len(raw) // 1024} KB; the limit is {MAX_XML_BYTES // 1024} KB"
        )
    if _DTD_PATTERN.search(raw):
        raise UnsafeXml(f"{filename}: {_DTD_REFUSED}")
    try:
        root = etree.fromstring(raw, parser=_parser())
    except etree.XMLSyntaxError as exc:
        depth = _DEPTH_ERROR.search(exc.msg or "")
        if depth:
            raise UnsafeXml(f"{filename}: Diagrammet är nästlat i fler än {depth.group(1)} nivåer.") from exc
        line = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
        raise UnsafeXml(f"{filename}: malformed XML{line}: {exc.msg}") from exc
    # The pattern above reads bytes: in a UTF-16 (or other non-ASCII-compatible) file it cannot see a
    # DOCTYPE, so the parsed document is checked too. Entities were not expanded (resolve_entities=False).
    if root.getroottree().docinfo.internalDTD is not None or root.getroottree().docinfo.doctype:
        raise UnsafeXml(f"{filename}: {_DTD_REFUSED}")
    return root
