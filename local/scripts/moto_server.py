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

3. Queries that read one partition, not the whole table. moto answers every Query (on the table
   or a GSI) by sorting all the table's items and filtering them: O(n log n) per Query, so a
   long session slows down as the table grows (BENCHMARKS.md, "Long session"). Here a table Query
   starts from its partition (`items[hash]`) and a GSI Query from a per-attribute grouping of the
   items by the index's hash value, built on the first GSI Query after a write and dropped by
   every write; moto then filters, sorts and pages those candidates exactly as before.

4. DynamoDB Streams calls take the same lock: a stream read in the middle of a transaction would
   see the records of writes the transaction is about to roll back. Stream bookkeeping is kept
   cheap for long runs (shard copies, untracked records, pruned iterators; below).

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

# Streams, kept cheap for a long test run. A transaction's deep copy of the table (moto's own
# rollback, MOTO_WHOLE_TABLE_ROLLBACK=1; the item snapshots below copy no table) would copy every
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


# moto tracks every model instance it ever created (for its state dump): stream records and
# shard iterators would pile up by the million and make that dump crawl.
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
        table.__dict__.pop("_insta_groups", None)
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


_hint = threading.local()
_all_items = Table.all_items
_query = Table.query
_GROUPS = "_insta_groups"  # {attribute name: {DynamoType value: [Item]}}, dropped by every write


def _sort_like_moto(items):
    return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


def _groups(table, attribute):
    groups = table.__dict__.setdefault(_GROUPS, {})
    if attribute not in groups:
        by_value = {}
        for partition in table.items.values():
            items = partition.values() if table.range_key_attr else [partition]
            for item in items:
                value = item.attrs.get(attribute)
                if value is not None:
                    by_value.setdefault(value, []).append(item)
        groups[attribute] = by_value
    return groups[attribute]


def _invalidate(table):
    table.__dict__.pop(_GROUPS, None)


def _all_items_from_hint(self):
    candidates = getattr(_hint, "candidates", None)
    if candidates is not None:
        _hint.candidates = None  # one Query, one all_items call
        return _sort_like_moto(candidates)
    return _all_items(self)


def _query_candidates(self, hash_key, index_name, hash_key_conditions):
    if index_name is None:
        if hash_key is None or self.range_key_attr is None:
            return None
        partition = self.items.get(hash_key)
        return list(partition.values()) if partition else []
    if hash_key_conditions and len(hash_key_conditions) == 1:
        attribute, value = hash_key_conditions[0]
        return list(_groups(self, attribute).get(value, ()))
    return None


def _partition_query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                     scan_index_forward, projection_expressions, index_name=None,
                     consistent_read=False, filter_expression=None, hash_key_conditions=None,
                     range_key_conditions=None, **filter_kwargs):
    try:
        _hint.candidates = _query_candidates(self, hash_key, index_name, hash_key_conditions)
    except Exception:  # anything unexpected: moto's own full scan
        _hint.candidates = None
    try:
        return _query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                      scan_index_forward, projection_expressions, index_name=index_name,
                      consistent_read=consistent_read, filter_expression=filter_expression,
                      hash_key_conditions=hash_key_conditions,
                      range_key_conditions=range_key_conditions, **filter_kwargs)
    finally:
        _hint.candidates = None


def _invalidating_table_method(method):
    def wrapper(self, *args, **kwargs):
        _invalidate(self)
        return method(self, *args, **kwargs)

    return wrapper


_backend_update_item = DynamoDBBackend.update_item


def _invalidating_update_item(self, table_name, *args, **kwargs):
    if table_name in self.tables:
        _invalidate(self.tables[table_name])
    return _backend_update_item(self, table_name, *args, **kwargs)


if os.environ.get("MOTO_FULL_SCAN_QUERIES") != "1":
    Table.all_items = _all_items_from_hint
    Table.query = _partition_query
    Table.put_item = _invalidating_table_method(Table.put_item)
    Table.delete_item = _invalidating_table_method(Table.delete_item)
    DynamoDBBackend.update_item = _invalidating_update_item

# MOTO_WHOLE_TABLE_ROLLBACK=1 keeps moto's own copy (the long-session benchmark compares both).
if os.environ.get("MOTO_WHOLE_TABLE_ROLLBACK") != "1":
    dynamodb_models.copy = _CopyWithoutTables()
    DynamoDBBackend.transact_write_items = _transact_write_items_item_snapshots

if __name__ == "__main__":
    sys.exit(main())
