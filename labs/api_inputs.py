"""What the submissions API accepts besides JSON and multipart fields: the file itself as the request
body (``curl --data-binary @solution.py``), and ``params`` as one JSON object, which multipart and
the query string carry as a string."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.parsers import DataAndFiles, FileUploadParser

DEFAULT_FILE_NAME = "solution.py"
MAX_PARAMS_BYTES = 64 * 1024  # a params file part: hyper-parameters, not data


class RawFileParser(FileUploadParser):
    """The body is the file. Its name comes from ``?filename=``, else the Content-Disposition
    header, else ``solution.py``; ``?params=`` carries the parameters as JSON."""

    def get_filename(self, stream: Any, media_type: str | None, parser_context: dict) -> str:
        request = parser_context["request"]
        named = request.query_params.get("filename") or super().get_filename(stream, media_type, parser_context)
        return named or DEFAULT_FILE_NAME

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> DataAndFiles:
        parsed = super().parse(stream, media_type, parser_context)
        query = (parser_context or {})["request"].query_params
        return DataAndFiles({"params": query["params"]} if "params" in query else {}, parsed.files)


class PythonFileParser(RawFileParser):
    media_type = "text/x-python"


class BinaryFileParser(RawFileParser):
    media_type = "application/octet-stream"


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


class _DottedFields(str):
    """The first ``params.<name>`` field of a request that sent such fields instead of ``params``."""


@extend_schema_field(OpenApiTypes.OBJECT)
class JsonObjectField(serializers.Field):
    """A JSON object: as is in a JSON body; as a JSON string in a multipart or form field, or in the
    query string (``-F 'params={"epochs": 5}'``). Fields such as ``params.epochs=5`` are refused
    with a message saying so, rather than silently ignored (which DRF's DictField does)."""

    # DRF fills these in with str.format: literal braces are doubled.
    default_error_messages = {
        "invalid_json": _(
            '`{field}` is not valid JSON ({problem}). Send it as one JSON object, e.g. {field}={{"epochs": 5}}.'
        ),
        "not_object": _('`{field}` must be a JSON object such as {{"epochs": 5}}, not {kind}.'),
        "dotted": _(
            "Send `{field}` as one JSON object, e.g. -F '{field}={{\"epochs\": 5}}', "
            "not as separate fields such as {example}."
        ),
    }

    def get_value(self, dictionary: Any) -> Any:
        if not hasattr(dictionary, "get"):
            return empty
        if self.field_name in dictionary:
            return dictionary.get(self.field_name)
        dotted = sorted(str(key) for key in dictionary if str(key).startswith(f"{self.field_name}."))
        return _DottedFields(dotted[0]) if dotted else empty

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, _DottedFields):
            self.fail("dotted", field=self.field_name, example=data)
        if hasattr(data, "read"):  # sent as a file part: -F params=@params.json
            data = data.read(MAX_PARAMS_BYTES)
        if isinstance(data, str | bytes):
            try:
                data = json.loads(data, parse_constant=_no_constant)
            except ValueError as exc:
                self.fail("invalid_json", field=self.field_name, problem=exc)
        if not isinstance(data, dict):
            self.fail("not_object", field=self.field_name, kind=_json_kind(data))
        return data

    def to_representation(self, value: dict[str, Any]) -> dict[str, Any]:
        return value


def _json_kind(value: Any) -> str:
    """The kind of ``value`` in JSON's words and the request's language, ending a "not an object" message."""
    if isinstance(value, list):
        return pgettext("JSON type", "an array")
    if isinstance(value, str):
        return pgettext("JSON type", "a string")
    if isinstance(value, bool):
        return pgettext("JSON type", "a boolean")
    if isinstance(value, int | float):
        return pgettext("JSON type", "a number")
    return pgettext("JSON type", "null")  # what is left of JSON
