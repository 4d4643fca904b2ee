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

import copy
import sys
import threading

from moto.dynamodb.responses import DynamoHandler
from moto.dynamodb.models.table import StreamRecord, StreamShard
from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator
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

# Streams, kept cheap for a long test run. A transaction's deep copy of the table would copy every
# stream record ever written: the copy of the shard copies the list only (records never change),
# so a rollback still drops the records of the writes it undoes. And the backend keeps every shard
# iterator (each holding its table) forever: the local poller takes a fresh one per poll, so only
# the newest are kept. The streams' docstring above says why their calls share the lock.
_MAX_ITERATORS = 256


def _shard_deepcopy(self, memo):
    new = object.__new__(StreamShard)
    memo[id(self)] = new
    for name, value in self.__dict__.items():
        if name == "items":
            new.items = list(value)
        else:
            setattr(new, name, copy.deepcopy(value, memo))
    return new


StreamShard.__deepcopy__ = _shard_deepcopy


# moto tracks every model instance it ever created (for /moto-api/data.json, which the mail tests
# read): stream records and shard iterators would pile up by the million and make that dump crawl.
def _untracked_new(cls, *args, **kwargs):
    return object.__new__(cls)


StreamRecord.__new__ = staticmethod(_untracked_new)
ShardIterator.__new__ = staticmethod(_untracked_new)
_get_shard_iterator = DynamoDBStreamsBackend.get_shard_iterator


def _pruned_get_shard_iterator(self, *args, **kwargs):
    iterator = _get_shard_iterator(self, *args, **kwargs)
    while len(self.shard_iterators) > _MAX_ITERATORS:
        self.shard_iterators.pop(next(iter(self.shard_iterators)))
    return iterator


DynamoDBStreamsBackend.get_shard_iterator = _pruned_get_shard_iterator
_iterator_get = ShardIterator.get


def _current_shard_get(self, limit=1000):
    # A rolled-back transaction replaces the table (and its shard) by the copy taken before it:
    # an iterator taken just before must read the current shard, not the one holding the
    # records of the writes that were undone.
    try:
        table = self.streams_backend.dynamodb.get_table(self.stream_shard.table.name)
        if table.stream_shard is not None:
            self.stream_shard = table.stream_shard
    except Exception:  # noqa: BLE001 - the table is gone: read what the iterator had
        pass
    return _iterator_get(self, limit)


ShardIterator.get = _current_shard_get

if __name__ == "__main__":
    sys.exit(main())
