#!/usr/bin/env python3
"""Converts docs/openapi.yaml to a C++ source that defines rally::gateway::openapi_json().

Run by the build (gateway/CMakeLists.txt) whenever the YAML or this script changes:

    openapi_to_json.py docs/openapi.yaml build/.../openapi_json.cc

The document is checked for the basics first (OpenAPI 3.1, paths, every operation with responses, every
local $ref resolving, every path parameter declared); a problem fails the build with a message naming where
it is. The JSON is compact, keys in the YAML's order, ASCII only (other characters escaped), and goes into
the source as raw string literals of at most CHUNK characters each (ISO C++ promises string literals of
65536 characters, and -Wpedantic holds the build to that), joined once at run time.
"""

import datetime
import json
import re
import sys

try:
    import yaml
except ImportError:
    sys.exit("openapi_to_json.py: the Python module 'yaml' is missing: "
             "install the Debian package python3-yaml")

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
CHUNK = 8000
DELIMITER = "openapi"


class DocumentError(Exception):
    pass


def check_keys_are_strings(node, where):
    """YAML turns unquoted 200 into an integer and 2026-11-22 into a date: JSON would silently differ."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                kind = type(key).__name__
                raise DocumentError(f"{where}: key {key!r} was read as {kind}, not a string: quote it")
            check_keys_are_strings(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            check_keys_are_strings(value, f"{where}[{index}]")
    elif isinstance(node, (datetime.date, datetime.datetime)):
        raise DocumentError(f"{where}: {node} was read as a date, quote it")


def resolve(document, ref, where):
    if not ref.startswith("#/"):
        raise DocumentError(f"{where}: only local references are supported, not {ref!r}")
    node = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise DocumentError(f"{where}: $ref {ref!r} does not resolve")
        node = node[part]
    return node


def check_refs(document, node, where):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref is not None:
            if not isinstance(ref, str):
                raise DocumentError(f"{where}: $ref must be a string")
            resolve(document, ref, where)
        for key, value in node.items():
            check_refs(document, value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            check_refs(document, value, f"{where}[{index}]")


def parameters_of(document, item, where):
    found = []
    for parameter in item.get("parameters", []) or []:
        if isinstance(parameter, dict) and "$ref" in parameter:
            parameter = resolve(document, parameter["$ref"], where)
        if not isinstance(parameter, dict) or "name" not in parameter or "in" not in parameter:
            raise DocumentError(f"{where}: a parameter needs 'name' and 'in'")
        found.append(parameter)
    return found


def check_document(document):
    if not isinstance(document, dict):
        raise DocumentError("the document is not a mapping")
    version = document.get("openapi")
    if not isinstance(version, str) or not re.fullmatch(r"3\.1\.\d+", version):
        raise DocumentError(f"'openapi' must be a 3.1.x version string, not {version!r}")
    info = document.get("info")
    if not isinstance(info, dict) or not info.get("title") or not info.get("version"):
        raise DocumentError("'info' needs 'title' and 'version'")
    paths = document.get("paths")
    if not isinstance(paths, dict) or not paths:
        raise DocumentError("'paths' is missing or empty")
    check_keys_are_strings(document, "#")
    check_refs(document, document, "#")

    for path, item in paths.items():
        where = f"paths {path}"
        if not path.startswith("/"):
            raise DocumentError(f"{where}: a path starts with '/'")
        if not isinstance(item, dict):
            raise DocumentError(f"{where}: not a mapping")
        operations = {method: item[method] for method in METHODS if method in item}
        if not operations:
            raise DocumentError(f"{where}: no operation")
        templated = set(re.findall(r"\{([^}/]+)\}", path))
        shared = parameters_of(document, item, where)
        for method, operation in operations.items():
            op_where = f"{method.upper()} {path}"
            if not isinstance(operation, dict):
                raise DocumentError(f"{op_where}: not a mapping")
            responses = operation.get("responses")
            if not isinstance(responses, dict) or not responses:
                raise DocumentError(f"{op_where}: no responses")
            for status in responses:
                if not re.fullmatch(r"[1-5][0-9][0-9]|[1-5]XX|default", status):
                    raise DocumentError(f"{op_where}: {status!r} is not a response status")
            declared = {p["name"] for p in shared + parameters_of(document, operation, op_where)
                        if p["in"] == "path"}
            if declared != templated:
                raise DocumentError(f"{op_where}: path parameters declared {sorted(declared)}, "
                                    f"the template has {sorted(templated)}")


def cpp_source(text):
    closing = ")" + DELIMITER + '"'
    if closing in text:
        raise DocumentError(f"the JSON contains {closing!r}, the raw string delimiter: change DELIMITER")
    chunks = [text[i:i + CHUNK] for i in range(0, len(text), CHUNK)]
    # Each literal is closed by this script, so a split anywhere is safe: only a closing sequence inside
    # the text could end a literal early, and the check above excludes it.
    literals = ",\n".join(f'    R"{DELIMITER}({chunk}){DELIMITER}"' for chunk in chunks)
    return f"""// Generated by gateway/openapi/openapi_to_json.py from docs/openapi.yaml. Do not edit.
#include "gateway/openapi/openapi_json.h"

#include <array>
#include <string>

namespace rally::gateway {{
namespace {{

constexpr std::array<std::string_view, {len(chunks)}> kChunks = {{
{literals}}};

}}  // namespace

std::string_view openapi_json() {{
  static const std::string document = [] {{
    std::string joined;
    for (const std::string_view chunk : kChunks) joined += chunk;
    return joined;
  }}();
  return document;
}}

}}  // namespace rally::gateway
"""


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: openapi_to_json.py OPENAPI.yaml OUTPUT.cc")
    source, output = argv[1], argv[2]
    try:
        with open(source, encoding="utf-8") as stream:
            document = yaml.safe_load(stream)
        check_document(document)
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
        generated = cpp_source(text)
    except yaml.YAMLError as error:
        sys.exit(f"{source}: not valid YAML: {error}")
    except (DocumentError, TypeError, ValueError) as error:
        sys.exit(f"{source}: {error}")
    with open(output, "w", encoding="ascii") as stream:
        stream.write(generated)


if __name__ == "__main__":
    main(sys.argv)
