"""moto's server, with DynamoDB requests handled one at a time.

moto's TransactWriteItems deep-copies the whole table first (to roll back on failure) and its
server is threaded: a write from another request during that copy fails the transaction with
"dictionary changed size during iteration" (a 500), and a cancelled transaction restores its copy,
silently undoing writes other requests made meanwhile. DynamoDB itself isolates transactions, so
the local stack serialises DynamoDB calls to get the same guarantees. moto holds the GIL while it
works anyway, so little parallelism is lost. Same arguments as `moto_server`.

DynamoDB Streams calls take the same lock: a stream read in the middle of a transaction would see
the records of writes the transaction is about to roll back.
"""

import sys
import threading

from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.server import main

_lock = threading.Lock()
_call_action = DynamoHandler.call_action


def _serialised_call_action(self):
    with _lock:
        return _call_action(self)


DynamoHandler.call_action = _serialised_call_action


def _serialised_streams_call_action(self):
    with _lock:
        return _streams_call_action(self)


_streams_call_action = DynamoDBStreamsHandler.call_action
DynamoDBStreamsHandler.call_action = _serialised_streams_call_action

if __name__ == "__main__":
    sys.exit(main())
