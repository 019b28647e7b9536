"""Every change the local stack makes inside moto, in one place, each checked at start.

moto emulates AWS's APIs; where our product depends on AWS behaviour moto lacks or gets
in the way of, we change moto's internals. Those internals move between releases, so:

- `check_version()` refuses a moto outside SUPPORTED (the range the local stack was
  run on, see docs/local-stack.md);
- every patch below is applied by `apply()`, which then calls `verify()`: each patch
  checks it took effect and that the moto code it relies on still looks as it did
  (a patch that would silently do nothing fails loudly instead);
- tests/e2e/test_local_stack.py drives each patched behaviour through AWS's APIs.

The patches:
1. Lambda invokes run the real handler in-process (moto would need Docker); async
   invokes (Event) are queued for the router, which retries them like Lambda does.
2. Step Functions Wait states wait on the virtual clock instead of sleeping.
3. The pause between a state's retries waits on the virtual clock too.
4. TransactWriteItems snapshots only the items it touches (moto deep-copies every table
   named, stream included, which makes each write slower than the last).
5. The moto server runs inside our WSGI layers (emulator.MotoServer overrides its
   `_server_entry`).
6. A Query looks at the items of its partition (or its index partition) only: moto sorts
   every item of the table on every query (`Table.all_items`), which made each query of a
   long test session slower than the last (24 ms a query in a 120-appointment run). A
   global index's partition is found through a map from index key to item keys, kept in
   step by every write (each passes the stream shard's `add`): walking the table for each
   index query took a third of a 5,000-appointment week.
7. SQS keeps time on the virtual clock: a message's delay (DelaySeconds), its visibility
   timeout and its retention run in virtual seconds (moto reads the wall clock, so a
   message the paced SMS queue holds back for ten minutes would wait ten real minutes).
8. The server's dispatcher lists moto's service packages once: it listed the package's
   directories from disk (a listdir and 190 isdir calls) on every request, 7% of a busy
   week's time.
9. EventBridge Scheduler tells the local scheduler (schedules.py) of each schedule it
   creates or updates, so that the next due schedule is the head of a heap instead of a
   walk over every schedule at every step of the clock (a fifth of a 5,000-appointment
   week went into those walks).
10. SendMessage to a standard queue does not build the queue's attributes: moto read one
   of them (ContentBasedDeduplication, a FIFO queue's only) through the property that
   builds them all, three approximate counts included, each a walk over the queue's
   messages with the clock read twice per message. With thousands of paced SMS waiting,
   every send walked them all (a tenth of an SMS-heavy 5,000-appointment week).
11. The response serializer finds a member of a plain dict (every DynamoDB item, attribute
   value and result moto answers with) through a list of candidate keys kept per member
   shape: moto worked the list out again, six alias rules and a name transform, for every
   member of every value of every response (a fifth of the emulator's time in a busy
   week). For a plain dict the list depends on the member's shape and its structure only
   (the rules that read the object read its class and its `Meta`, which a dict lacks), so
   it is the list moto would build; the value is then looked up in moto's order.
12. A request's action is looked up on its handler class directly: moto listed every
   member of the class (`inspect.getmembers`, a few hundred for DynamoDB's) on every
   request to ask whether one name is among its functions.
13. An update expression is parsed once per text, and UpdateItem's validator works on a
   copy of the tree made from its nodes' own fields (type, children, parent), not a deep
   copy: moto parsed each update's text twice (the request's checks, then the backend),
   and deep-copied the untouched tree for each validation (to keep it for a second one);
   copying took as long as parsing. The parser is deterministic and nothing changes the
   tree it returns before the copy, so one tree per text serves every update of it (a
   startup check compares the copy with a deep copy, field by field).
14. A request reaches moto's view for it without Flask (emulator.DirectDispatcher): the
   view's steps (record the request, call the service's handler with moto's request
   class, answer its status, headers and body, a ClientError as a 400) run on the same
   URL map; Flask around them (request context, dispatch, CORS, debug-mode form checks)
   took a tenth of the emulator's time. moto's own API still goes through Flask.
The router and TTL process also read moto's DynamoDB stream shard (`items`,
`starting_sequence_number`, each record's `record`), and the router its Step Functions
executions (`state_machines`, `executions`, `status`), checked here as well.
"""

from __future__ import annotations

import copy
import inspect
import json
import threading
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, timedelta
from importlib.metadata import version
from types import SimpleNamespace
from typing import Any

from .clock import VirtualClock


class EmulatorMismatch(RuntimeError):
    """moto is not what the local stack's patches were written against."""


try:
    from moto import backends as moto_backends
    from moto.awslambda.models import LambdaFunction
    from moto.core import responses as moto_responses
    from moto.core import serialize as moto_serialize
    from moto.core import utils as moto_utils
    from moto.dynamodb import responses as moto_dynamodb_responses
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import StreamRecord, StreamShard, Table
    from moto.dynamodb.parsing import validators as dynamodb_validators
    from moto.dynamodb.parsing.ast_nodes import Node, UpdateExpression
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.moto_server import werkzeug_app
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.scheduler.models import EventBridgeSchedulerBackend
    from moto.sqs import models as sqs_models
    from moto.stepfunctions import models as sfn_models
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl as retrier_module
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )
except ImportError as exc:  # moto moved what we patch
    raise EmulatorMismatch(f"moto {version('moto')}: {exc} (local/moto_patches.py, SUPPORTED)") from exc

# The moto releases the local stack is known to work with (lower inclusive, upper not).
SUPPORTED = ((5, 2, 5), (5, 3, 0))

# Held while moto handles a DynamoDB request; the router takes it to trim streams and
# the TTL process to delete expired items.
DYNAMODB_LOCK = threading.Lock()


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


def check_version(installed: str | None = None) -> str:
    found = installed or version("moto")
    low, high = SUPPORTED
    if not low <= _release(found) < high:
        raise EmulatorMismatch(
            f"moto {found} is outside the supported range "
            f"{'.'.join(map(str, low))} <= moto < {'.'.join(map(str, high))} (local/moto_patches.py)"
        )
    return found


def patch_lambda(invoke_sync: Callable[[str, dict], Any], enqueue_async: Callable[[str, dict], None]) -> None:
    """Route moto's Lambda invokes (direct, Step Functions tasks) to the real handlers."""

    def invoke(self: LambdaFunction, body: Any, request_headers: Any, response_headers: Any) -> bytes:
        event = json.loads(body) if body else {}
        # An API Invoke carries its HTTP headers; SNS's delivery to a subscribed function
        # comes without any, and SNS invokes Lambda asynchronously.
        if not request_headers or request_headers.get("X-Amz-Invocation-Type") == "Event":
            enqueue_async(self.function_name, event)
            return b""
        try:
            result = invoke_sync(self.function_name, event)
        except Exception as exc:  # the handler's error becomes Lambda's error payload
            response_headers["x-amz-function-error"] = "Unhandled"
            payload = getattr(exc, "payload", {"errorType": type(exc).__name__, "errorMessage": str(exc)})
            return json.dumps(payload).encode()
        return json.dumps(result).encode()

    invoke._local_patch = True  # type: ignore[attr-defined]
    LambdaFunction.invoke = invoke  # type: ignore[method-assign]


def patch_waits(clock: VirtualClock) -> None:
    """Wait states, and the pause between a task's retries, block on the virtual clock
    (moto would sleep real seconds)."""

    def eval_body(self: WaitFunction, env: Any) -> None:
        if isinstance(self, Timestamp):
            self.string.eval(env=env)
            raw = env.stack.pop()
            parsed = Timestamp._from_timestamp_string(raw)
            if parsed is None:
                env.stack.append(raw)
                seconds = Timestamp._get_wait_seconds(self, env)  # raises the ASL failure
                target = clock.now() + timedelta(seconds=seconds)
            else:
                target = parsed.replace(tzinfo=UTC)
        else:
            target = clock.now() + timedelta(seconds=self._get_wait_seconds(env=env))
        clock.wait_until(target, still_running=env.is_running)

    eval_body._local_patch = True  # type: ignore[attr-defined]
    WaitFunction._eval_body = eval_body  # type: ignore[method-assign]

    def sleep_on_clock(seconds: float) -> None:
        clock.wait_until(clock.now() + timedelta(seconds=seconds))

    # The retrier's module calls time.sleep(interval); give it a `time` of its own.
    retrier_module.time = SimpleNamespace(sleep=sleep_on_clock, local_patch=True)  # type: ignore[attr-defined]


def _snapshot_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[Any]:
    """The items a transaction touches, deep-copied (None where absent)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName"))
        if table is None:
            continue
        raw = op.get("Key") or op.get("Item") or {}
        hash_key = DynamoType(raw[table.hash_key_attr])
        range_key = (
            DynamoType(raw[table.range_key_attr]) if table.range_key_attr and table.range_key_attr in raw else None
        )
        bucket = table.items.get(hash_key, {}) if table.range_key_attr else table.items
        current = bucket.get(range_key if table.range_key_attr else hash_key)
        saved.append((table, hash_key, range_key, copy.deepcopy(current)))
    return saved


def _restore(saved: list[Any], streams: dict[Any, int]) -> None:
    """Put the touched items and the stream lengths back as they were."""
    for table, hash_key, range_key, item in reversed(saved):
        _reindex(table, stored_item(table, hash_key, range_key), item)
        _tell(table, item)
        if table.range_key_attr:
            bucket = table.items[hash_key]
            if item is None:
                bucket.pop(range_key, None)
                if not bucket:
                    table.items.pop(hash_key, None)
            else:
                bucket[range_key] = item
        elif item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
    for shard, length in streams.items():
        del shard.items[length:]


def patch_transactions() -> None:
    """Make moto's TransactWriteItems cost O(items touched), not O(table).

    Runs only inside a DynamoDB request, i.e. under DYNAMODB_LOCK, which is what makes
    swapping the module's `copy` for the duration of the call safe.

    moto deep-copies every table a transaction names (items and stream included) so that
    it can roll back; on a table that keeps growing, each write becomes slower than the
    last. This snapshot keeps only the touched items and the stream length, and restores
    them if the transaction is cancelled: the same all-or-nothing outcome.
    """
    from moto.dynamodb.models import copy as moto_copy_module

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_local_patch", False):
        return

    class _NoTableCopy:
        """Stands in for the `copy` module inside moto's module: tables are not copied
        (our snapshot covers them), everything else is copied as before."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = _snapshot_items(self, transact_items)
        streams = {t.stream_shard: len(t.stream_shard.items) for t, *_ in saved if t.stream_shard is not None}
        module = original.__globals__
        module["copy"] = _NoTableCopy
        try:
            original(self, transact_items)
        except Exception:
            _restore(saved, streams)
            raise
        finally:
            module["copy"] = moto_copy_module

    transact_write_items._local_patch = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


# Who hears of every item a write leaves in a table with a stream (each passes the
# shard's `add`, a cancelled transaction `_restore`): the TTL process (ttl.py). One
# watcher: the stack started last.
_WRITE_WATCHER: list[Callable[[Any, Any], None]] = []


def watch_writes(callback: Callable[[Any, Any], None]) -> None:
    """`callback(table, item)` with the item each write leaves (None: it deleted one)."""
    _WRITE_WATCHER[:] = [callback]


def _tell(table: Any, item: Any) -> None:
    for watcher in _WRITE_WATCHER:
        watcher(table, item)


def _index_names(table: Any) -> tuple[str, ...]:
    """The attributes the table's global indexes are partitioned by."""
    return tuple(
        {k["AttributeName"] for index in table.global_indexes for k in index.schema if k["KeyType"] == "HASH"}
    )


def _base_key(table: Any, item: Any) -> tuple[Any, Any]:
    return item.hash_key, item.range_key if table.range_key_attr else None


def _reindex(table: Any, old: Any, new: Any) -> None:
    """Keep the table's index partitions (see patch_queries) in step with one change."""
    kept = getattr(table, "_local_partitions", None)
    if kept is None or kept[0] is not table.stream_shard:
        return
    partitions = kept[1]
    for item, add in ((old, False), (new, True)):
        if item is None:
            continue
        key = _base_key(table, item)
        for name in _index_names(table):
            value = item.attrs.get(name)
            if value is None:
                continue
            members = partitions.setdefault((name, value.type, value.value), {})
            if add:
                members[key] = None
            else:
                members.pop(key, None)


def _partitions(table: Any) -> dict[tuple[str, str, Any], dict[tuple[Any, Any], None]]:
    """Each global index partition's base keys, built once and then kept in step by every
    write (each one passes through the stream shard's `add`, a cancelled transaction through
    `_restore`). Rebuilt if the table's stream was replaced."""
    kept = getattr(table, "_local_partitions", None)
    if kept is None or kept[0] is not table.stream_shard:
        table._local_partitions = (table.stream_shard, {})
        for item in every_item(table):
            _reindex(table, None, item)
    return table._local_partitions[1]  # type: ignore[no-any-return]


def patch_queries() -> None:
    """Patch 6: moto's Table.query walks `self.all_items()`, which sorts the whole table;
    while a query runs, that method answers with the items whose key attributes equal
    the query's (the same items, in the same order), found without looking at the rest:
    the table's own partition by its key, a global index's partition through a map from
    each index key to its items' keys, kept in step with every write (only on a table with
    a stream, whose `add` sees every write; others are walked whole)."""
    original = Table.query
    if getattr(original, "_local_patch", False):
        return
    original_add = StreamShard.add

    def add(self: Any, old: Any, new: Any) -> None:
        original_add(self, old, new)
        _reindex(self.table, old, new)
        _tell(self.table, new)

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        conditions = kwargs.get("hash_key_conditions") or []
        on_index = kwargs.get("index_name") or (len(args) > 6 and args[6])  # index_name, 7th after the key
        if on_index and not conditions:
            return original(self, hash_key, *args, **kwargs)
        typed = dict(conditions) if on_index else {self.hash_key_attr: hash_key}
        wanted = [(name, value.type, value.value) for name, value in typed.items()]

        def matches(item: Any) -> bool:
            for name, kind, raw in wanted:
                value = item.attrs.get(name)
                if value is None or value.type != kind or value.value != raw:
                    return False
            return True

        def partition(found: Any) -> list[Any]:
            if found is None:
                return []
            return list(found.values()) if self.range_key_attr else [found]

        first = wanted[0][0]
        if first == self.hash_key_attr:
            candidates = partition(self.items.get(typed[first]))
        elif self.stream_shard is not None and first in _index_names(self):
            keys = list(_partitions(self).get(wanted[0], {}))
            candidates = [item for item in (stored_item(self, h, r) for h, r in keys) if item is not None]
        else:
            candidates = every_item(self)
        rows = [item for item in candidates if matches(item)]
        rows.sort(key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)
        self.all_items = lambda: rows  # read by `original` only, under the emulator's lock
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    add._local_patch = True  # type: ignore[attr-defined]
    StreamShard.add = add  # type: ignore[method-assign]
    query._local_patch = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]


def every_item(table: Any) -> list[Any]:
    """The items of `table`, unsorted (moto's `all_items` sorts them all)."""
    if table.range_key_attr:
        return [item for partition in list(table.items.values()) for item in list(partition.values())]
    return list(table.items.values())


def stored_item(table: Any, hash_key: Any, range_key: Any) -> Any:
    """The item of `table` at this key, or None."""
    return table.items.get(hash_key, {}).get(range_key) if table.range_key_attr else table.items.get(hash_key)


def patch_queue_time(clock: VirtualClock) -> None:
    """SQS's delays, visibility timeouts and retention on the virtual clock."""

    def seconds() -> float:
        return clock.epoch()

    def millis() -> float:
        return clock.epoch() * 1000

    seconds._local_patch = millis._local_patch = True  # type: ignore[attr-defined]
    sqs_models.unix_time = seconds  # type: ignore[attr-defined]
    sqs_models.unix_time_millis = millis  # type: ignore[attr-defined]


def patch_dispatcher() -> None:
    """The service packages listed once, not on every request (they do not change)."""
    modules = tuple(moto_backends.list_of_moto_modules())

    def listed() -> tuple[str, ...]:
        return modules

    listed._local_patch = True  # type: ignore[attr-defined]
    moto_backends.list_of_moto_modules = listed  # type: ignore[assignment]


# Patch 9: who hears of each schedule created or updated (the local scheduler).
_SCHEDULE_WATCHER: list[Callable[[Any], None]] = []


def watch_schedules(callback: Callable[[Any], None]) -> None:
    """`callback(schedule)` after every CreateSchedule and UpdateSchedule (one watcher:
    the stack started last)."""
    _SCHEDULE_WATCHER[:] = [callback]


def patch_schedule_watch() -> None:
    for name in ("create_schedule", "update_schedule"):
        original = getattr(EventBridgeSchedulerBackend, name)
        if getattr(original, "_local_patch", False):
            continue

        def told(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            schedule = _original(self, *args, **kwargs)
            for watcher in _SCHEDULE_WATCHER:
                watcher(schedule)
            return schedule

        told._local_patch = True  # type: ignore[attr-defined]
        setattr(EventBridgeSchedulerBackend, name, told)


# Patch 10: set while moto's SendMessage runs (what it reads of a standard queue's
# attributes is absent from them whatever the counts).
_SENDING: ContextVar[bool] = ContextVar("sending", default=False)


def patch_send_message() -> None:
    original_send = sqs_models.SQSBackend.send_message
    if getattr(original_send, "_local_patch", False):
        return
    built = sqs_models.Queue.attributes.fget

    def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        token = _SENDING.set(True)
        try:
            return original_send(self, *args, **kwargs)
        finally:
            _SENDING.reset(token)

    def attributes(self: Any) -> dict[str, Any]:
        if _SENDING.get() and not self.fifo_queue:
            return {}  # ContentBasedDeduplication: a FIFO queue's attribute only
        return built(self)

    send_message._local_patch = attributes._local_patch = True  # type: ignore[attr-defined]
    sqs_models.SQSBackend.send_message = send_message  # type: ignore[method-assign]
    sqs_models.Queue.attributes = property(attributes)  # type: ignore[method-assign,assignment]


# Patch 11: the candidate keys of a member of a plain dict, per picker kind, alias rules,
# member name, member shape and its structure (both kept, and compared: ids are reused).
_CANDIDATES: dict[tuple[Any, ...], tuple[Any, Any, tuple[str, ...]]] = {}
# moto's alias rules: for a plain dict each reads the member's shape and structure, or the
# object's class and `Meta` (a dict's are always the same).
_ALIAS_RULES = ("ExplicitAlias", "ShapeNameAlias", "NoAlias", "ShapePrefixAlias", "ClassPrefixAlias", "ModelAlias")
_DICT_BLIND_ALIASES = frozenset(
    getattr(moto_serialize, name) for name in _ALIAS_RULES if hasattr(moto_serialize, name)
)


def patch_value_picker() -> None:
    serializer = moto_serialize.ResponseSerializer
    original_get = serializer.get_value
    if getattr(original_get, "_local_patch", False):
        return
    pickers = (moto_serialize.AttributePicker, moto_serialize.XFormedAttributePicker)
    context_of = moto_serialize.AttributePickerContext
    missing = moto_serialize.MISSING

    def get_value(self: Any, value: Any, key: str, shape: Any) -> Any:
        picker = self._value_picker
        if (
            type(value) is not dict
            or type(picker) not in pickers
            or picker.response_transformers
            or not _DICT_BLIND_ALIASES.issuperset(picker.alias_providers)
        ):
            return original_get(self, value, key, shape)
        parent = getattr(shape, "parent", None)
        slot = (type(picker), tuple(picker.alias_providers), key, id(shape), id(parent))
        known = _CANDIDATES.get(slot)
        if known is None or known[0] is not shape or known[1] is not parent:
            context = context_of(obj=value, key=key, shape=shape)
            known = _CANDIDATES[slot] = (shape, parent, tuple(picker.get_possible_keys(context)))
        for candidate in known[2]:
            found = value.get(candidate, missing) if "." not in candidate else get_value_at(value, candidate)
            if found is not missing:
                return found
        return None

    def get_value_at(value: Any, path: str) -> Any:
        return moto_serialize.get_value(value, path, missing)

    get_value._local_patch = True  # type: ignore[attr-defined]
    get_value._original = original_get  # type: ignore[attr-defined]
    serializer.get_value = get_value  # type: ignore[method-assign]


class _FunctionNames:
    """Patch 12: what `method_names_from_class(cls)` answers to `name in ...`: whether the
    class, or a base, has a plain function by that name (`inspect.getmembers` with
    `inspect.isfunction` lists exactly those: a staticmethod's function counts, a
    classmethod or a property does not), found directly instead of listing every member."""

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and inspect.isfunction(getattr(self.cls, name, None))


def patch_action_lookup() -> None:
    if getattr(moto_responses.method_names_from_class, "_local_patch", False):
        return

    def method_names_from_class(cls: type) -> _FunctionNames:
        return _FunctionNames(cls)

    method_names_from_class._local_patch = True  # type: ignore[attr-defined]
    moto_responses.method_names_from_class = method_names_from_class  # type: ignore[assignment]


# Patch 13: the text each update expression tree moto's parser returned was parsed from.
_PARSED_FROM = "_local_parsed_from"


_KEPT_TREES = 4096  # distinct update expressions kept (ours are a few dozen)
_LEAVES = (str, int)  # what a tree's nodes hold besides nodes


def _copied(node: Any, parent: Any = None) -> Any:
    """A copy of a parsed update expression tree to change: each node's own fields (its
    type, its children, copied in turn, and its parent, the copy's) without the tag."""
    twin = object.__new__(type(node))
    fields = node.__dict__.copy()
    fields.pop(_PARSED_FROM, None)
    if "parent" in fields:
        fields["parent"] = parent
    if fields.get("children") is not None:  # a name, a placeholder or a function: text
        fields["children"] = [c if type(c) in _LEAVES else _copied(c, twin) for c in fields["children"]]
    twin.__dict__.update(fields)
    return twin


def patch_update_validation() -> None:
    make = UpdateExpressionParser.__dict__["make"]
    if getattr(make, "_local_patch", False):
        return
    parse = make.__func__
    kept: dict[str, Any] = {}

    def parsed(cls: Any, expression: str) -> Any:
        tree = kept.get(expression)
        if tree is None:  # a text that does not parse raises, each time, as moto's
            tree = parse(cls, expression)
            setattr(tree, _PARSED_FROM, expression)  # untouched as it leaves the parser
            if len(kept) >= _KEPT_TREES:
                kept.clear()
            kept[expression] = tree
        return tree

    def fresh(tree: Any, memo: Any = None) -> Any:
        if type(tree) is UpdateExpression and getattr(tree, _PARSED_FROM, None) is not None:
            return _copied(tree)  # a copy to change; the kept tree stays as parsed
        return copy.deepcopy(tree, memo)

    parsed._local_patch = fresh._local_patch = True  # type: ignore[attr-defined]
    UpdateExpressionParser.make = classmethod(parsed)  # type: ignore[method-assign,assignment]
    dynamodb_validators.deepcopy = fresh  # type: ignore[attr-defined]


def apply(
    clock: VirtualClock,
    invoke_sync: Callable[[str, dict[str, Any]], Any],
    enqueue_async: Callable[[str, dict[str, Any]], None],
) -> None:
    """Apply every patch, then check each took effect (EmulatorMismatch otherwise)."""
    check_version()
    problems = _preconditions()
    if problems:
        raise EmulatorMismatch("moto changed under the local stack: " + "; ".join(problems))
    patch_lambda(invoke_sync, enqueue_async)
    patch_waits(clock)
    patch_transactions()
    patch_queries()
    patch_queue_time(clock)
    patch_dispatcher()
    patch_schedule_watch()
    patch_send_message()
    patch_value_picker()
    patch_action_lookup()
    patch_update_validation()
    problems = verify()
    if problems:
        raise EmulatorMismatch("a moto patch did not take effect: " + "; ".join(problems))


def _source(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""


def _preconditions() -> list[str]:
    """What the patches rely on in moto's code, before patching."""
    transact, query = DynamoDBBackend.transact_write_items, Table.query
    server_init, shard = _source(ThreadedMotoServer.__init__), _source(StreamShard)
    sqs_source = _source(sqs_models)
    update_request = _source(moto_dynamodb_responses.DynamoHandler.update_item)
    holds = {
        "Timestamp wait helpers are gone": all(
            hasattr(Timestamp, name) for name in ("_from_timestamp_string", "_get_wait_seconds")
        ),
        "WaitFunction._eval_body is gone": hasattr(WaitFunction, "_eval_body"),
        "the retrier no longer pauses with time.sleep": "time.sleep(" in _source(retrier_module),
        "TransactWriteItems no longer deep-copies through its module's `copy`": (
            getattr(transact, "_local_patch", False) or "copy.deepcopy" in _source(transact)
        ),
        "ThreadedMotoServer._server_entry is gone": all(
            hasattr(ThreadedMotoServer, name) for name in ("_server_entry", "get_host_and_port")
        ),
        "ThreadedMotoServer's fields changed": all(
            f"self.{name}" in server_init for name in ("_server_ready_event", "_ip_address", "_port")
        ),
        "StreamShard no longer keeps items / starting_sequence_number": (
            "self.items" in shard and "self.starting_sequence_number" in shard
        ),
        "StreamRecord no longer keeps its record": "self.record" in _source(StreamRecord),
        "StreamShard.add(old, new) no longer sees every write": (
            getattr(StreamShard.add, "_local_patch", False) or "def add(self, old" in _source(StreamShard)
        ),
        "Table.all_items / delete_item / stream_shard changed": (
            all(hasattr(Table, name) for name in ("all_items", "delete_item"))
            and "self.stream_shard" in _source(Table.__init__)
        ),
        "Table.query no longer reads self.all_items() / hash_key_conditions": (
            getattr(query, "_local_patch", False)
            or ("self.all_items()" in _source(query) and "hash_key_conditions" in _source(query))
        ),
        "moto's SQS no longer reads unix_time / unix_time_millis": all(
            f"{name}()" in sqs_source for name in ("unix_time", "unix_time_millis")
        ),
        "Scheduler's create_schedule / update_schedule no longer return the schedule": all(
            getattr(getattr(EventBridgeSchedulerBackend, name), "_local_patch", False)
            or "return schedule" in _source(getattr(EventBridgeSchedulerBackend, name))
            for name in ("create_schedule", "update_schedule")
        ),
        "Step Functions' backend no longer keeps state_machines / executions / status (router.py)": (
            "self.state_machines" in _source(sfn_models.StepFunctionBackend.__init__)
            and "self.executions" in _source(sfn_models.StateMachine)
            and "self.status" in _source(sfn_models.Execution)
        ),
        "SendMessage reads more of a standard queue's attributes than ContentBasedDeduplication": (
            getattr(sqs_models.SQSBackend.send_message, "_local_patch", False)
            or _reads_only_content_deduplication(sqs_models)
        ),
        "the response serializer no longer picks values as patch 11 mirrors": _picks_as_mirrored(),
        "UpdateItem's validator no longer deep-copies the tree UpdateItem parsed": _validates_a_copy(),
        "an update expression's tree holds more than patch 13 copies": _copies_as_deep_copies(),
        "the request's checks do more than read the update expression's tree": (
            update_request.count("update_expression_ast") == 1 + update_request.count("ast.find_clauses(")
        ),
        "a request's action is no longer found with `action in method_names_from_class(...)` only": (
            getattr(moto_responses.method_names_from_class, "_local_patch", False)
            or (
                _source(moto_responses).count("method_names") == 4  # the import, the call, the test
                and "method_names = method_names_from_class(self.__class__)" in _source(moto_responses)
                and "if action in method_names:" in _source(moto_responses)
            )
        ),
        "the server's dispatcher no longer calls backends.list_of_moto_modules()": (
            "backends.list_of_moto_modules()" in _source(werkzeug_app.DomainDispatcherApplication)
        ),
        "moto's Flask view no longer does only what patch 14 mirrors": _views_as_mirrored(),
    }
    return [problem for problem, held in holds.items() if not held]


def _reads_only_content_deduplication(sqs: Any) -> bool:
    """moto's SendMessage path reads the queue's attributes for ContentBasedDeduplication
    only, and outside FIFO-only branches nowhere else (patch 10 relies on it)."""
    send, validate = _source(sqs.SQSBackend.send_message), _source(sqs.SQSBackend._validate_message)
    add = _source(sqs.Queue.add_message)
    wanted = 'queue.attributes.get("ContentBasedDeduplication")'
    return (
        send.count("queue.attributes") == send.count(wanted) == 1
        and validate.count("queue.attributes") == validate.count(wanted)
        and validate.index("if queue.fifo_queue") < validate.index(wanted)
        and add.count("self.attributes") == 1
        and add.index("if self.fifo_queue") < add.index("self.attributes")
    )


def _picks_as_mirrored() -> bool:
    """moto's picker tries the candidate keys in order (the first found wins, None when
    none is), then its response transformers; the default rules are the six patch 11
    knows, and the serializer asks the picker only through `get_value`."""
    if getattr(moto_serialize.ResponseSerializer.get_value, "_local_patch", False):
        return True
    pick = _source(moto_serialize.AttributePicker.__call__)
    get = _source(moto_serialize.ResponseSerializer.get_value)
    serializer = _source(moto_serialize)
    return (
        set(moto_serialize.DEFAULT_ALIAS_PROVIDERS) == _DICT_BLIND_ALIASES
        and len(_DICT_BLIND_ALIASES) == len(_ALIAS_RULES)
        and "for possible_key in self.get_possible_keys(context):" in pick
        and "get_value(obj, possible_key, MISSING)" in pick
        and "value = None" in pick
        and "self.response_transformers" in pick
        and "return self._value_picker(context)" in get
        and serializer.count("self._value_picker(") == 1
        and serializer.count("def get_value(") == 1
    )


def _views_as_mirrored() -> bool:
    """moto's Flask app routes each service path to `convert_to_flask_response(handler)`
    with `BackendRequest` as its request class, and that view records the request, calls
    the handler with it, its raw URL and headers, and answers a ClientError as a 400
    (patch 14 does these steps itself)."""
    view = _source(moto_utils.convert_to_flask_response.__call__)
    app = _source(werkzeug_app.create_backend_app)
    return (
        "backend_app.request_class = BackendRequest" in app
        and "view_func = convert_to_flask_response(handler)" in app
        and "before_request" not in app
        and "recorder._record_request(request)" in view
        and "self.callback(request, request.raw_url, dict(request.headers))" in view
        and 'result = 400, {}, exc.response["Error"]["Message"]' in view
        and view.count("self.") == 1  # the callback, called once
    )


def _validates_a_copy() -> bool:
    """The validator copies the tree it is given with its module's `deepcopy` (once, in
    __init__, plus list values elsewhere), and UpdateItem hands it the tree it parsed from
    its text, changing nothing in it before (patch 13 relies on both)."""
    if getattr(getattr(dynamodb_validators, "deepcopy", None), "_local_patch", False):
        return True
    validators = _source(dynamodb_validators)
    update = _source(DynamoDBBackend.update_item)
    return (
        "from copy import deepcopy" in validators
        and _source(dynamodb_validators.Validator.__init__).count("deepcopy(expression)") == 1
        and update.count("UpdateExpressionParser.make(update_expression)") == 1
        and update.count("update_expression_ast") == 3  # parsed, then handed to each validator
        and isinstance(UpdateExpressionParser.__dict__.get("make"), classmethod)
    )


def _copies_as_deep_copies() -> bool:
    """Patch 13's copy of a tree is a deep copy's twin: the same node types and fields,
    each child's parent its own copy's node, nothing shared with the tree it copies."""
    sample = (
        "SET #0 = list_append(if_not_exists(#0, :0), :1), #1 = #1 + :2, #2.k[1] = :3"
        " ADD #3 :4 REMOVE #4 DELETE #5 :5"
    )
    tree = UpdateExpressionParser.make(sample)

    def twins(deep: Any, ours: Any, parent: Any) -> bool:
        if type(deep) is not type(ours):
            return False
        if not isinstance(deep, Node):
            return bool(deep == ours)
        fields = {k: v for k, v in deep.__dict__.items() if k != _PARSED_FROM}
        if fields.keys() != ours.__dict__.keys() or not fields.keys() <= {"type", "children", "parent"}:
            return False
        if ours.__dict__.get("parent", parent) is not parent or fields.get("type") != ours.__dict__.get("type"):
            return False
        children, copied = fields.get("children"), ours.__dict__.get("children")
        if children is None or copied is None:
            return children is copied
        return len(children) == len(copied) and all(
            twins(d, o, ours) for d, o in zip(children, copied, strict=True)
        )

    return twins(copy.deepcopy(tree), _copied(tree), None) and not any(
        isinstance(getattr(cls, "__slots__", None), tuple) for cls in _node_classes()
    )


def _node_classes() -> list[type]:
    found, todo = [], [Node]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def verify() -> list[str]:
    """Each patch in place (an empty list when all are)."""

    def patched(*functions: Any, flag: str = "_local_patch") -> bool:
        return all(getattr(f, flag, False) for f in functions)

    holds = {
        "Lambda invokes would need Docker (LambdaFunction.invoke not patched)": patched(LambdaFunction.invoke),
        "Wait states would sleep real time (WaitFunction._eval_body not patched)": patched(
            WaitFunction._eval_body
        ),
        "retry intervals would sleep real time (retrier's time not patched)": patched(
            getattr(retrier_module, "time", None), flag="local_patch"
        ),
        "transactions would copy whole tables (transact_write_items not patched)": patched(
            DynamoDBBackend.transact_write_items
        ),
        "queries would sort the whole table (Table.query / StreamShard.add not patched)": patched(
            Table.query, StreamShard.add
        ),
        "SQS delays would wait real time (moto.sqs.models time not patched)": patched(
            sqs_models.unix_time, sqs_models.unix_time_millis
        ),
        "every request would list moto's packages from disk (list_of_moto_modules not patched)": patched(
            moto_backends.list_of_moto_modules
        ),
        "the local scheduler would not hear of new schedules (create/update_schedule not patched)": patched(
            EventBridgeSchedulerBackend.create_schedule, EventBridgeSchedulerBackend.update_schedule
        ),
        "every SendMessage would count the queue's messages (send_message not patched)": patched(
            sqs_models.SQSBackend.send_message, sqs_models.Queue.attributes.fget
        ),
        "every response member would be looked for under six aliases (get_value not patched)": patched(
            moto_serialize.ResponseSerializer.get_value
        ),
        "every request would list its handler's members (method_names_from_class not patched)": patched(
            moto_responses.method_names_from_class
        ),
        "each UpdateItem would deep-copy its expression tree (validators' deepcopy not patched)": patched(
            getattr(dynamodb_validators, "deepcopy", None)
        ),
    }
    return [problem for problem, held in holds.items() if not held]
