"""The schemathesis command line, with `ast.parse` serialised across threads.

Schemathesis runs its workers as threads, and Hypothesis parses lambda sources (`ast.parse`) to
describe strategies. On CPython 3.11 (this machine's is 3.11.7) two parses at once in different
threads can fail with "SystemError: AST constructor recursion depth mismatch": the AST converter's
depth counter is per-interpreter state (see CPython gh-106905). The fuzzer then reports a runtime
error that is no finding about the API, so the parses take turns here. Every argument goes to schemathesis unchanged.
"""

import ast
import sys
import threading

_parse_lock = threading.Lock()
_parse = ast.parse


def _serialised_parse(*args, **kwargs):
    with _parse_lock:
        return _parse(*args, **kwargs)


ast.parse = _serialised_parse

from schemathesis.cli import schemathesis  # noqa: E402  (after the patch, on purpose)

if __name__ == "__main__":
    sys.argv[0] = "schemathesis"
    sys.exit(schemathesis())
