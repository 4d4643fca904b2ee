"""moto's server, with DynamoDB requests handled one at a time and cheap transaction rollback.

1. Serialised DynamoDB calls. moto's TransactWriteItems keeps a copy to roll back to and its server
   is threaded: a write from another request during the transaction fails it with "dictionary
   changed size during iteration" (a 500), and a cancelled transaction restores its copy, silently
   undoing writes other requests made meanwhile. DynamoDB itself isolates transactions, so the
   local stack serialises DynamoDB calls to get the same guarantees. moto holds the GIL while it
   works anyway, so little parallelism is lost.

2. Rollback snapshots of the touched items only. moto deep-copies every table a transaction names
   before running it, so each like, follow, comment or register costs O(table size): on a long
   session the table grows and every transaction gets slower (BENCHMARKS.md, "Long session").
   Here a transaction snapshots only the items it touches (at most 100, one per action) and the
   table's stream position; on any failure those items are put back and the stream records the
   transaction appended are dropped, which is all the whole-table copy restored.

Same arguments as `moto_server`.
"""

import copy
import os
import sys
import threading

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.server import main

_lock = threading.Lock()
_call_action = DynamoHandler.call_action


def _serialised_call_action(self):
    with _lock:
        return _call_action(self)


DynamoHandler.call_action = _serialised_call_action


class _CopyWithoutTables:
    """`copy` for moto.dynamodb.models: a Table "deep copy" is the table itself (the rollback it
    serves is done item by item below); everything else is copied as before."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


_transact_write_items = DynamoDBBackend.transact_write_items


def _touched_items(backend, transact_items):
    """(table, hash, range, deep copy of the item or None) for each action's key."""
    snapshots = []
    for action in transact_items:
        try:
            op_type, op = next(iter(action.items()))
            table = backend.get_table(op["TableName"])
            key = op["Item"] if op_type == "Put" else op["Key"]
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = None
            if table.range_key_attr is not None:
                range_value = DynamoType(key[table.range_key_attr])
        except Exception:  # malformed: moto itself answers with the right error
            continue
        if range_value is None:
            current = table.items.get(hash_value)
        else:
            current = table.items.get(hash_value, {}).get(range_value)
        snapshots.append((table, hash_value, range_value, copy.deepcopy(current)))
    return snapshots


def _restore(snapshots, streams):
    for table, hash_value, range_value, item in reversed(snapshots):
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
        else:
            if item is None:
                partition = table.items.get(hash_value)
                if partition is not None:
                    partition.pop(range_value, None)
                    if not partition:
                        table.items.pop(hash_value, None)
            else:
                table.items[hash_value][range_value] = item
    for shard, length in streams:
        del shard.items[length:]


def _transact_write_items_item_snapshots(self, transact_items):
    snapshots = _touched_items(self, transact_items)
    streams = []
    for table in {id(t): t for t, _, _, _ in snapshots}.values():
        if table.stream_shard is not None:
            streams.append((table.stream_shard, len(table.stream_shard.items)))
    try:
        return _transact_write_items(self, transact_items)
    except Exception:
        _restore(snapshots, streams)
        raise


# MOTO_WHOLE_TABLE_ROLLBACK=1 keeps moto's own copy (the long-session benchmark compares both).
if os.environ.get("MOTO_WHOLE_TABLE_ROLLBACK") != "1":
    dynamodb_models.copy = _CopyWithoutTables()
    DynamoDBBackend.transact_write_items = _transact_write_items_item_snapshots

if __name__ == "__main__":
    sys.exit(main())
