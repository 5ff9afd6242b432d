"""Read JSON request bodies: one decoder for every API endpoint, refusing what it cannot hold.

Every API blueprint is a `Blueprint` from this module, so every body an endpoint reads
goes through `decode_json`; a body it refuses is a 400 in the API's one error shape.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

import flask
import flask_smorest
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from server.errors import fail

# A surrogate can only reach a decoded string through a \uD800-\uDFFF escape (strict
# UTF-8 has no bytes for one), so bodies without such an escape skip the walk below.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class BodyNotJson(ValueError):
    """The request body is not JSON that the server can hold; the reason says why."""


def decode_json(data: bytes) -> Any:
    """Decode a request body, raising BodyNotJson for anything json refuses or cannot hold."""
    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise BodyNotJson("The body is not UTF-8 text.") from error
    except RecursionError as error:
        raise BodyNotJson("The body nests too deeply.") from error
    except json.JSONDecodeError as error:
        raise BodyNotJson("The body is not valid JSON.") from error
    except ValueError as error:
        # int()'s limit on digits (sys.get_int_max_str_digits), reached while decoding.
        raise BodyNotJson("The body holds a number too long to read.") from error
    if _SURROGATE_ESCAPE.search(data):
        _refuse_lone_surrogates(value)
    return value


def _refuse_lone_surrogates(value: Any) -> None:
    # Iterative: the decoded value may be nested as deeply as json allows.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as error:
                raise BodyNotJson("The body holds a lone surrogate escape.") from error


class JsonBodyParser(FlaskParser):
    """webargs' Flask parser reading bodies with decode_json."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            return core.missing
        try:
            return decode_json(req.get_data(cache=True))
        except BodyNotJson as error:
            fail(400, "The request body is not valid JSON.", errors={"json": [str(error)]})


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint whose arguments are parsed by JsonBodyParser."""

    ARGUMENTS_PARSER = JsonBodyParser()

    def fast_body(
        self, schema: Any, decode: Callable[[bytes], Any | None]
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Document and validate a JSON body with schema, decoding it with decode first.

        decode returns what schema would load from the body's bytes, or None for anything
        it refuses: such a body is parsed as @arguments(schema) parses it, so a refusal
        keeps the API's messages and error shape (400 for what is not JSON, 422).
        """
        documented = self.arguments(schema)

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            parsed = documented(func)

            @functools.wraps(parsed)  # keeps the OpenAPI notes @arguments made
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                request = flask.request
                if is_json_request(request):
                    body = decode(request.get_data(cache=True))
                    if body is not None:
                        return func(*args, body, **kwargs)
                return parsed(*args, **kwargs)

            return wrapper

        return decorator
