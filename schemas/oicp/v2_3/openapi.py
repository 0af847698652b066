"""Check JSON bodies against Hubject's own OpenAPI/Swagger files for OICP 2.3 (``shared/spec/oicp-2.3``).

This is the proof that what the hub sends and answers is what Hubject's published definitions accept:
``validate_request(operation, "POST", body)`` and ``validate_response(...)`` raise
:class:`OpenApiValidationError` with every violation found. ``operation`` is one of our operation names
(``eRoamingAuthorizeStart``), one of Hubject's operationIds (``eRoamingAuthorizeStart_v2.1``) or a path,
template or concrete, with or without ``/api/oicp`` and query string.

Which files: the two 2.3 OpenAPI 3.0 documents (CPO and EMP side; by default a body must satisfy every one
that defines the path, or pick one with ``side``). Operations the 2.3 files lack (PullAuthenticationData,
the separate ``status-records-by-id`` paths) fall back to Hubject's 2.2 Swagger 2.0 files, whose service
versions are unchanged. The traps of the spec README are handled here, once:

* **YAML 1.1 booleans**: the key ``on:`` must stay the string ``"on"``, so only ``true``/``false`` are
  booleans (and timestamps stay strings, as in JSON).
* **Swagger 2.0 vs OpenAPI 3.0**: the body schema sits in ``parameters[in=body].schema`` and
  ``responses.200.schema`` in one, in ``requestBody``/``responses.200.content`` in the other.
* **$ref across files**: ``layout="split"`` reads ``src/openapi.yaml`` and follows its relative file
  references (``../../schemas/EvseID.yaml``) through a ``referencing`` registry; ``"bundled"`` (default)
  reads Hubject's one-file ``gh-pages/openapi.yaml``.
* **nullable**: OpenAPI 3.0 ``nullable: true`` becomes a JSON-Schema ``null`` type. No field is nullable in
  Hubject's files although Hubject itself sends ``null`` for absent optionals; ``allow_null=True`` drops
  ``null`` members before checking, for bodies received from Hubject-like partners.
* **oneOf that cannot hold**: the pull-status and charging-notification bodies are ``oneOf`` branches that
  do not exclude each other (no ``additionalProperties: false``; every notification's ``Type`` enum lists
  all four values), so a valid ByID body matches two branches and fails ``oneOf``. The branch is chosen
  instead: by the operation's model name, then by the notification ``Type``; what is left is ``anyOf``.
* **maximum/minimum on strings**: validators ignore them; ``strict_lengths=True`` reads them as
  ``maxLength``/``minLength``, which is what Hubject meant.
* **format: date-time** is checked (RFC 3339 with an offset); jsonschema alone would skip it.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urldefrag, urljoin, urlsplit
from urllib.request import url2pathname

import yaml
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT4

from schemas.oicp.v2_3.endpoints import _template_pattern, find_operation, normalise_path

SPEC_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "spec" / "oicp-2.3"
"""``../shared/spec/oicp-2.3`` next to the repository (never edited: CC BY-SA 4.0, see its README)."""

Side = Literal["cpo", "emp"]
Layout = Literal["bundled", "split"]
Kind = Literal["request", "response"]


class SpecNotFoundError(FileNotFoundError):
    """Hubject's definition files are not where they are expected; tests turn this into a skip."""


class UnknownOperationError(LookupError):
    """No definition file describes this operation, path or method."""


class OpenApiValidationError(ValueError):
    """The body violates Hubject's definition; ``errors`` lists each violation as ``file: where: what``."""

    def __init__(self, operation: str, errors: list[str]) -> None:
        self.operation = operation
        self.errors = errors
        super().__init__(f"{operation}: {len(errors)} violation(s):\n  " + "\n  ".join(errors))


# --- Reading the files ------------------------------------------------------------------------------


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars: only true/false are booleans, timestamps stay strings."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if not tag.endswith((":bool", ":timestamp"))]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _convert(node: Any, strict_lengths: bool) -> Any:
    """OpenAPI 3.0 / Swagger 2.0 schema objects → JSON Schema (draft 4), recursively (see module doc)."""
    if isinstance(node, list):
        return [_convert(item, strict_lengths) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _convert(value, strict_lengths) for key, value in node.items()}
    if out.pop("nullable", False) is True or out.pop("x-nullable", False) is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if isinstance(out.get("enum"), list):
            out["enum"] = [*out["enum"], None]
    if "oneOf" in out:  # only the overlapping bodies described above use it; branches are chosen first
        out["anyOf"] = out.pop("oneOf")
    if strict_lengths and out.get("type") == "string":
        for numeric, length in (("maximum", "maxLength"), ("minimum", "minLength")):
            if isinstance(out.get(numeric), int):
                out[length] = out.pop(numeric)
    return out


@functools.cache
def _load(path: Path, strict_lengths: bool) -> Any:
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_Yaml12Loader)  # noqa: S506
    return _convert(data, strict_lengths)


def _path_of(uri: str) -> Path:
    return Path(url2pathname(urlsplit(uri).path))


def _retrieve(uri: str, *, strict_lengths: bool) -> Resource[Any]:
    path = _path_of(uri)
    if (
        urlsplit(uri).scheme != "file"
        or not path.is_file()
        or SPEC_DIR.resolve() not in path.resolve().parents
    ):
        raise NoSuchResource(uri)
    return Resource.from_contents(_load(path, strict_lengths), default_specification=DRAFT4)


@functools.cache
def _registry(strict_lengths: bool) -> Registry[Any]:
    return Registry(retrieve=functools.partial(_retrieve, strict_lengths=strict_lengths))  # type: ignore[call-arg]


@dataclass(frozen=True)
class SpecDocument:
    """One definition file (with the files it references, for the split layout)."""

    name: str  # "cpo", "emp" or "2.2/<file>.json"
    uri: str
    swagger2: bool

    @property
    def legacy(self) -> bool:
        return self.swagger2

    def contents(self) -> Any:
        return _load(_path_of(self.uri), False)

    def path_items(self) -> Iterator[tuple[str, str]]:
        """(template with ``/api/oicp``, absolute URI of its path item) for every path."""
        for template, item in self.contents()["paths"].items():
            pointer = "/paths/" + template.replace("~", "~0").replace("/", "~1")
            uri = f"{self.uri}#{quote(pointer, safe='/~')}"
            if isinstance(item, dict) and "$ref" in item:  # split layout: the item is another file
                uri = urljoin(self.uri, item["$ref"])
            yield normalise_path(template), uri


def _spec_dir() -> Path:
    if not SPEC_DIR.is_dir():
        raise SpecNotFoundError(
            f"Hubject's OICP 2.3 definitions are not at {SPEC_DIR} "
            "(expected ../shared next to the repository)"
        )
    return SPEC_DIR


@functools.cache
def documents(layout: Layout = "bundled") -> tuple[SpecDocument, ...]:
    """The 2.3 CPO and EMP documents, then the 2.2 Swagger files (fallback only)."""
    root = _spec_dir()
    where = "gh-pages/openapi.yaml" if layout == "bundled" else "src/openapi.yaml"
    found = [
        SpecDocument(side, (root / f"oicp-{side}-2.3-api-doc" / where).as_uri(), False)
        for side in ("cpo", "emp")
    ]
    found += [
        SpecDocument(f"2.2/{path.name}", path.as_uri(), True)
        for path in sorted((root / "oicp-2.2-swagger").glob("*.json"))
    ]
    for document in found:
        if not _path_of(document.uri).is_file():
            raise SpecNotFoundError(f"{_path_of(document.uri)} is missing")
    return tuple(found)


def spec_paths(layout: Layout = "bundled", *, legacy: bool = True) -> set[str]:
    """Every path template the files define, normalised to start with ``/api/oicp``."""
    return {
        template
        for document in documents(layout)
        if legacy or not document.legacy
        for template, _ in document.path_items()
    }


# --- Choosing the schema ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    document: SpecDocument
    template: str
    schema_uri: str


def _lookup(uri: str) -> Any:
    return _registry(False).resolver().lookup(uri).contents


def _schema_uri(item_uri: str, document: SpecDocument, method: str, kind: Kind, status: int) -> str | None:
    operation = _lookup(item_uri).get(method.lower())
    if not isinstance(operation, dict):
        return None
    if document.swagger2:
        if kind == "request":
            bodies = [i for i, p in enumerate(operation.get("parameters", [])) if p.get("in") == "body"]
            pointer = f"/{method.lower()}/parameters/{bodies[0]}/schema" if bodies else None
        else:
            found = operation.get("responses", {}).get(str(status), {}).get("schema")
            pointer = f"/{method.lower()}/responses/{status}/schema" if found else None
    elif kind == "request":
        found = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        pointer = f"/{method.lower()}/requestBody/content/application~1json/schema" if found else None
    else:
        response = operation.get("responses", {}).get(str(status), {})
        found = response.get("content", {}).get("application/json", {}).get("schema")
        pointer = f"/{method.lower()}/responses/{status}/content/application~1json/schema" if found else None
    if pointer is None:
        return None
    base, fragment = urldefrag(item_uri)
    return f"{base}#{fragment}{quote(pointer, safe='/~')}"


def _schema_name(ref: str) -> str:
    tail = ref.rstrip("/").rsplit("/", 1)[-1]
    return tail.removesuffix(".yaml").removesuffix(".json")


def _comparable(name: str) -> str:
    # Our class names follow the AsciiDoc (eRoamingAcknowledgement); the files say eRoamingAcknowledgment,
    # and Swagger 2.0 capitalises definitions (ERoamingPullEvseStatusByID).
    return name.lower().replace("acknowledgement", "acknowledgment")


def _narrow(schema_uri: str, expected: list[str] | None, body: Any) -> str:
    """Pick the anyOf/oneOf branch that describes this body (see the module doc); else keep all."""
    schema = _lookup(schema_uri)
    branches = schema.get("anyOf") if isinstance(schema, dict) else None
    if not branches or not all(isinstance(b, dict) and "$ref" in b for b in branches):
        return schema_uri
    refs = [urljoin(schema_uri, str(b["$ref"])) for b in branches]
    if expected:
        wanted = {_comparable(name) for name in expected}
        refs = [r for r in refs if _comparable(_schema_name(r)) in wanted] or refs
    kind = body.get("Type") if isinstance(body, dict) else None
    if len(refs) > 1 and isinstance(kind, str):
        refs = [r for r in refs if _schema_name(r).lower().endswith(f"notification{kind.lower()}")] or refs
    if len(refs) == 1:
        return refs[0]
    return schema_uri


def _operation_id_paths(operation_id: str, layout: Layout) -> list[str]:
    wanted = operation_id.lower()
    found: list[str] = []
    for document in documents(layout):
        for template, item_uri in document.path_items():
            for operation in _lookup(item_uri).values():
                if isinstance(operation, dict) and str(operation.get("operationId", "")).lower() == wanted:
                    found.append(template)
    return found


def _targets(
    operation_or_path: str, method: str, kind: Kind, body: Any, side: Side | None, layout: Layout, status: int
) -> list[_Target]:
    operation = find_operation(operation_or_path)
    expected: list[str] | None = None
    if operation is not None:
        paths = list(operation.paths)
        models = operation.requests if kind == "request" else (operation.response,)
        expected = [model.__name__ for model in models]
    else:
        paths = _operation_id_paths(operation_or_path, layout)
        if not paths and "/" in operation_or_path:
            paths = [operation_or_path]
    wanted = [normalise_path(path) for path in paths]

    def hits(legacy: bool) -> list[_Target]:
        found: list[_Target] = []
        for document in documents(layout):
            if document.legacy != legacy or (side is not None and not legacy and document.name != side):
                continue
            for template, item_uri in document.path_items():
                pattern = _template_pattern(template)
                if any(pattern.fullmatch(path) for path in wanted):
                    schema_uri = _schema_uri(item_uri, document, method, kind, status)
                    if schema_uri is not None:
                        found.append(_Target(document, template, _narrow(schema_uri, expected, body)))
        return found

    return hits(legacy=False) or hits(legacy=True)


# --- Validating -------------------------------------------------------------------------------------

_FORMATS = FormatChecker(formats=())
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@_FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if not _RFC3339.fullmatch(instance):
        return False
    datetime.fromisoformat(instance.replace("z", "Z").replace("t", "T"))  # range check: raises ValueError
    return True


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


@functools.cache
def _validator(schema_uri: str, strict_lengths: bool) -> Draft4Validator:
    return Draft4Validator({"$ref": schema_uri}, registry=_registry(strict_lengths), format_checker=_FORMATS)


def _errors(schema_uri: str, body: Any, strict_lengths: bool) -> list[str]:
    found = _validator(schema_uri, strict_lengths).iter_errors(body)
    ordered = sorted(found, key=lambda error: list(map(str, error.absolute_path)))
    return [f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}" for error in ordered]


def _validate(
    operation_or_path: str,
    method: str,
    body: Any,
    kind: Kind,
    *,
    status: int,
    side: Side | None,
    layout: Layout,
    allow_null: bool,
    strict_lengths: bool,
) -> None:
    targets = _targets(operation_or_path, method, kind, body, side, layout, status)
    if not targets:
        raise UnknownOperationError(
            f"no OICP definition file describes a {method.upper()} {kind} body for {operation_or_path!r}"
        )
    checked = _without_nulls(body) if allow_null else copy.deepcopy(body)
    errors = [
        f"{target.document.name} {target.template}: {message}"
        for target in targets
        for message in _errors(target.schema_uri, checked, strict_lengths)
    ]
    if errors:
        raise OpenApiValidationError(operation_or_path, errors)


def validate_request(
    operation_id_or_path: str,
    method: str,
    body: Any,
    *,
    side: Side | None = None,
    layout: Layout = "bundled",
    allow_null: bool = False,
    strict_lengths: bool = False,
) -> None:
    """Raise :class:`OpenApiValidationError` unless ``body`` is a valid request of this operation."""
    _validate(
        operation_id_or_path,
        method,
        body,
        "request",
        status=200,
        side=side,
        layout=layout,
        allow_null=allow_null,
        strict_lengths=strict_lengths,
    )


def validate_response(
    operation_id_or_path: str,
    method: str,
    body: Any,
    *,
    status: int = 200,
    side: Side | None = None,
    layout: Layout = "bundled",
    allow_null: bool = False,
    strict_lengths: bool = False,
) -> None:
    """Raise :class:`OpenApiValidationError` unless ``body`` is a valid ``status`` response of it."""
    _validate(
        operation_id_or_path,
        method,
        body,
        "response",
        status=status,
        side=side,
        layout=layout,
        allow_null=allow_null,
        strict_lengths=strict_lengths,
    )


def _component_schemas(side: Side, layout: Layout) -> tuple[str, dict[str, Any]]:
    """(base URI, ``components/schemas``) of a 2.3 document; the split layout keeps them in _index.yaml."""
    document = next(d for d in documents(layout) if d.name == side)
    schemas = document.contents()["components"]["schemas"]
    if "$ref" in schemas:
        index_uri = urljoin(document.uri, schemas["$ref"])
        return index_uri, _lookup(index_uri)
    return f"{document.uri}#/components/schemas/", schemas


def _component_uri(base: str, schemas: dict[str, Any], key: str) -> str:
    entry = schemas[key]
    if isinstance(entry, dict) and "$ref" in entry:
        return urljoin(base, str(entry["$ref"]))
    return base + quote(key)


def validate_schema(
    name: str, body: Any, *, side: Side = "emp", layout: Layout = "bundled", strict_lengths: bool = False
) -> None:
    """Validate against one named component schema of a 2.3 document (``eRoamingAcknowledgement`` works)."""
    base, schemas = _component_schemas(side, layout)
    key = next((key for key in schemas if _comparable(key) == _comparable(name)), None)
    if key is None:
        raise UnknownOperationError(f"the {side} document has no schema {name!r}")
    errors = _errors(_component_uri(base, schemas, key), body, strict_lengths)
    if errors:
        raise OpenApiValidationError(name, [f"{side} {key}: {error}" for error in errors])


def schema_names(side: Side = "emp", layout: Layout = "bundled") -> set[str]:
    """The component schema names of a 2.3 document."""
    return set(_component_schemas(side, layout)[1])


def embedded_examples(side: Side, layout: Layout = "bundled") -> dict[str, Any]:
    """The top-level ``example`` of every component schema that has one, by schema name."""
    base, schemas = _component_schemas(side, layout)
    examples: dict[str, Any] = {}
    for key in schemas:
        schema = _lookup(_component_uri(base, schemas, key))
        if isinstance(schema, dict) and "example" in schema:
            examples[key] = schema["example"]
    return examples
