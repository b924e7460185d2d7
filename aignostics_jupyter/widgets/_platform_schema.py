"""Read an artifact's metadata JSON schema: its fields as rows, the fields a user chooses, nested placement.

Example:
    >>> schema = {"type": "object", "required": ["specimen"], "properties": {
    ...     "specimen": {"type": "object", "required": ["tissue"],
    ...                  "properties": {"tissue": {"enum": ["LUNG", "LIVER"]}}},
    ...     "resolution_mpp": {"type": "number", "minimum": 0.08}}}
    >>> [f.name for f in schema_fields(schema)]
    ['specimen', 'specimen.tissue', 'resolution_mpp']
    >>> [f.name for f in choice_fields(schema)]
    ['specimen.tissue']
    >>> set_path({}, ("specimen", "tissue"), "LUNG")
    {'specimen': {'tissue': 'LUNG'}}
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MEASURED_KEYS",
    "SchemaField",
    "choice_fields",
    "find_field",
    "get_path",
    "schema_fields",
    "schema_table_html",
    "set_path",
]

#: Keys whose values the client measures from the slide file (never asked from the user).
MEASURED_KEYS = frozenset(
    {
        "checksum_base64_crc32c",
        "checksum_crc32c",
        "width_px",
        "width",
        "height_px",
        "height",
        "resolution_mpp",
        "base_mpp",
        "mpp",
        "media_type",
        "media-type",
        "mime_type",
    }
)

_BOUNDS = (
    ("minimum", "≥"),
    ("exclusiveMinimum", ">"),
    ("maximum", "≤"),
    ("exclusiveMaximum", "<"),
    ("minLength", "length ≥"),
    ("maxLength", "length ≤"),
    ("minItems", "items ≥"),
    ("maxItems", "items ≤"),
)


@dataclass(frozen=True)
class SchemaField:
    """One property of a metadata schema (nested objects give dotted names)."""

    path: tuple[str, ...]
    type: str
    required: bool
    enum: tuple[Any, ...] | None = None
    const: Any = None
    has_const: bool = False
    bounds: str = ""
    description: str = ""

    @property
    def name(self) -> str:
        """The dotted path, e.g. ``specimen.tissue``."""
        return ".".join(self.path)

    @property
    def choices(self) -> tuple[Any, ...]:
        """The allowed values (the enum, or the one const), empty when free."""
        if self.enum is not None:
            return self.enum
        return (self.const,) if self.has_const else ()


def _resolve(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        return target if isinstance(target, Mapping) else {}
    return node


def _type_of(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if kind:
        return str(kind)
    if "enum" in node:
        return "enum"
    if "const" in node:
        return "const"
    return "any"


def _bounds(node: Mapping[str, Any]) -> str:
    parts = [f"{sign} {node[key]}" for key, sign in _BOUNDS if key in node]
    if "pattern" in node:
        parts.append(f"pattern {node['pattern']}")
    if "format" in node:
        parts.append(f"format {node['format']}")
    return ", ".join(parts)


def schema_fields(schema: Mapping[str, Any]) -> list[SchemaField]:
    """Flatten a JSON schema's object properties (depth first, in schema order)."""
    out: list[SchemaField] = []

    def walk(node: Mapping[str, Any], prefix: tuple[str, ...]) -> None:
        node = _resolve(node, schema)
        props = node.get("properties")
        if not isinstance(props, Mapping):
            return
        required = set(node.get("required") or [])
        for name, raw in props.items():
            sub = _resolve(raw if isinstance(raw, Mapping) else {}, schema)
            enum = sub.get("enum")
            out.append(
                SchemaField(
                    path=(*prefix, str(name)),
                    type=_type_of(sub),
                    required=name in required,
                    enum=tuple(enum) if isinstance(enum, list) else None,
                    const=sub.get("const"),
                    has_const="const" in sub,
                    bounds=_bounds(sub),
                    description=str(sub.get("description") or sub.get("title") or ""),
                )
            )
            walk(sub, (*prefix, str(name)))

    walk(schema, ())
    return out


def choice_fields(schema: Mapping[str, Any]) -> list[SchemaField]:
    """The fields a user picks from a list (enum or const), leaving out the ones measured from the slide."""
    return [f for f in schema_fields(schema) if f.choices and f.path[-1] not in MEASURED_KEYS]


def find_field(schema: Mapping[str, Any], name: str) -> SchemaField | None:
    """Find a field by its dotted name or by its last segment (``tissue`` finds ``specimen.tissue``)."""
    fields = schema_fields(schema)
    for candidate in fields:
        if candidate.name == name:
            return candidate
    return next((f for f in fields if f.path[-1] == name), None)


def set_path(target: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """Set a nested value, creating the objects on the way; returns ``target``."""
    node = target
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[path[-1]] = value
    return target


def get_path(source: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """Return a nested value, or None when any step is missing."""
    node: Any = source
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def schema_table_html(schema: Mapping[str, Any]) -> str:
    """Render a metadata schema as an HTML table: field, type, required, allowed values, bounds, description."""
    fields = schema_fields(schema)
    if not fields:
        return "<p><em>No fields (free-form metadata).</em></p>"
    head = "".join(f"<th>{h}</th>" for h in ("field", "type", "required", "allowed values", "bounds", "description"))
    rows = []
    for f in fields:
        allowed = ", ".join(json.dumps(v) if not isinstance(v, str) else v for v in f.choices)
        indent = "&nbsp;&nbsp;" * (len(f.path) - 1)
        cells = (
            f"{indent}<code>{html.escape(f.path[-1])}</code>",
            html.escape(f.type),
            "yes" if f.required else "",
            html.escape(allowed),
            html.escape(f.bounds),
            html.escape(f.description),
        )
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f'<table class="aignostics-schema"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def const_defaults(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The values a user need not pick: every user field with a ``const`` (e.g. ``staining_method: H&E``).

    Example:
        >>> const_defaults({"properties": {"staining_method": {"const": "H&E"}}})
        {'staining_method': 'H&E'}
    """
    out: dict[str, Any] = {}
    for field in choice_fields(schema):
        if field.has_const:
            set_path(out, field.path, field.const)
    return out


def _merge(target: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = dict(value) if isinstance(value, Mapping) else value


def place_metadata(schema: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Put user-given values where the schema wants them, on top of the const defaults.

    Keys the schema names at the top level stay; a short key naming a nested field (``tissue``, ``disease``,
    ``staining`` for ``staining_method``) moves to its path. Unknown keys stay as given (the schema decides).

    Example:
        >>> schema = {"properties": {"staining_method": {"const": "H&E"},
        ...           "specimen": {"properties": {"tissue": {"enum": ["LUNG"]}}}}}
        >>> place_metadata(schema, {"tissue": "LUNG"})
        {'staining_method': 'H&E', 'specimen': {'tissue': 'LUNG'}}
    """
    out = const_defaults(schema)
    top = {f.path[0] for f in schema_fields(schema)}
    for key, value in given.items():
        name = "staining_method" if key == "staining" and "staining" not in top else key
        field = None if name in top else find_field(schema, name)
        if field is not None:
            set_path(out, field.path, value)
        elif isinstance(value, Mapping):
            _merge(out, {name: value})
        else:
            out[name] = value
    return out
