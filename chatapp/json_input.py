"""Every JSON document a client sends, parsed in one place and checked before anything reads it:
request bodies (the app's Request class parses them with `parse_json`) and the lines `flask
import` reads. Refused as InvalidInput (400), naming where in the document, e.g.
`messages[3].content`: nesting deeper than MAX_DEPTH, a string that is not Unicode text (a
lone surrogate from a \\ud800 escape, which no database can store), a whole number past 64 bits
(which none can hold), and NaN or Infinity (not JSON). So a view or the store never meets
them, and a turn refused for them has stored nothing.

Forms and query strings need no such check: Werkzeug decodes them as UTF-8 and leaves malformed
bytes as they were sent (`%ED%A0%80` stays those nine characters): never a surrogate."""
import json
import math
import re
from types import SimpleNamespace

from flask import Request

from .errors import InvalidInput

MAX_DEPTH = 32  # far deeper than any document the app reads (an import is 4 levels deep)
INT64 = range(-2**63, 2**63)  # what SQLite and BSON store
SURROGATE = re.compile("[\ud800-\udfff]")  # a lone one: paired, Python reads them as one
KEY_SHOWN_CHARS = 40  # of a key named in an error: a path should stay readable


def parse_json(data):
    """The value of a JSON document (bytes or text). ValueError if it is not JSON (or not UTF-8);
    InvalidInput if it is JSON the app refuses (see the module docstring)."""
    try:
        value = json.loads(data, parse_constant=_not_json)
    except RecursionError:  # nested past Python's own limit, before the walk could count it
        raise _too_deep() from None
    _check(value, "", 0)
    return value


class CheckedRequest(Request):
    """Flask's Request, whose get_json (and `request.json`) parses with parse_json."""

    def get_json(self, force=False, silent=False, cache=True):
        # Flask gives each request the app's JSON module, which also reads session cookies;
        # only a body is parsed by parse_json (get_json calls nothing of it but `loads`).
        self.json_module = BODY_PARSER
        return super().get_json(force=force, silent=silent, cache=cache)


BODY_PARSER = SimpleNamespace(loads=parse_json)


def _not_json(constant):
    raise ValueError(f"{constant} is not JSON")


def _check(value, where, depth):
    """`depth`: how many arrays and objects hold `value` ("[[]]" is nested 2 levels deep)."""
    if isinstance(value, (dict, list)) and depth == MAX_DEPTH:
        raise _too_deep()
    if isinstance(value, str):
        _check_text(value, where or "the JSON")
    elif isinstance(value, int) and value not in INT64:  # (True and False are in it)
        raise InvalidInput(f"{where or 'the JSON'} is a number too large to store "
                           "(the limit is 64 bits).")
    elif isinstance(value, float) and not math.isfinite(value):  # e.g. 1e999
        raise InvalidInput(f"{where or 'the JSON'} is a number too large to store.")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, f"a key in {where or 'the JSON'}")
            _check(item, _field(where, key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, f"{where}[{index}]", depth + 1)


def _check_text(text, where):
    if SURROGATE.search(text):
        raise InvalidInput(f"{where} is not valid Unicode text: it holds a lone surrogate "
                           "(such as \\ud800 without its pair), which cannot be stored.")


def _field(where, key):
    shown = key if len(key) <= KEY_SHOWN_CHARS else key[:KEY_SHOWN_CHARS] + "…"
    return f"{where}.{shown}" if where else shown


def _too_deep():
    return InvalidInput(f"The JSON is nested more than {MAX_DEPTH} levels deep.")
