"""Issue 16: one read per item per invocation (notify/dal/read_cache.py), against the
emulator's table, counting the DynamoDB requests botocore makes."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def _requests() -> Iterator[Counter[str]]:
    import botocore.client

    counted: Counter[str] = Counter()
    original = botocore.client.BaseClient._make_api_call

    def counting(self, operation, params):
        counted[operation] += 1
        return original(self, operation, params)

    botocore.client.BaseClient._make_api_call = counting
    try:
        yield counted
    finally:
        botocore.client.BaseClient._make_api_call = original


@pytest.fixture
def practice(local_stack):
    """A practice profile and one patient of it, written outside any invocation."""
    from notify.dal.models import PatientItem, PracticeItem

    practice_id = f"p-{uuid.uuid4().hex[:10]}"
    PracticeItem(*PracticeItem.key(practice_id), practice_id=practice_id, settings={"name": "Before"}).save()
    PatientItem(*PatientItem.key(practice_id, "pat"), practice_id=practice_id, patient_id="pat").save()
    return practice_id


def _invocation(body):
    from notify.dal.read_cache import per_invocation

    return per_invocation(body)()


def _name(practice_id: str) -> str:
    from notify.dal.models import PracticeItem

    return PracticeItem.get(*PracticeItem.key(practice_id), consistent_read=True).settings["name"]


def test_an_item_is_read_once_per_invocation_and_again_in_the_next(practice):
    with _requests() as counted:
        assert _invocation(lambda: [_name(practice) for _ in range(3)]) == ["Before"] * 3
    assert counted["GetItem"] == 1
    with _requests() as counted:
        _invocation(lambda: _name(practice))
        _name(practice)  # outside an invocation: always the table
        _name(practice)
    assert counted["GetItem"] == 3


def test_a_write_forgets_the_item_it_wrote(practice):
    from notify.dal.models import PracticeItem

    def body() -> list[str]:
        seen = [_name(practice)]
        PracticeItem(*PracticeItem.key(practice)).update(actions=[PracticeItem.settings.set({"name": "After"})])
        seen.append(_name(practice))
        return seen

    with _requests() as counted:
        assert _invocation(body) == ["Before", "After"]
    assert counted["GetItem"] == 2


def test_a_refused_conditional_write_is_followed_by_a_fresh_read(practice):
    """Another process changes the item after this invocation read it: the cached read is
    what the invocation saw, the conditional write checks the table and is refused, and
    the read after it is the table's."""
    import boto3
    from pynamodb.exceptions import UpdateError

    from notify.dal.models import TABLE_NAME, PracticeItem

    def body() -> list[str]:
        seen = [_name(practice)]
        boto3.client("dynamodb").update_item(  # another process, meanwhile
            TableName=TABLE_NAME,
            Key={"pk": {"S": f"PRACTICE#{practice}"}, "sk": {"S": "PROFILE"}},
            UpdateExpression="SET stamp = :s",
            ExpressionAttributeValues={":s": {"S": "theirs"}},
        )
        seen.append(str(PracticeItem.get(*PracticeItem.key(practice), consistent_read=True).stamp))
        with pytest.raises(UpdateError):
            PracticeItem(*PracticeItem.key(practice)).update(
                actions=[PracticeItem.stamp.set("ours")], condition=PracticeItem.stamp.does_not_exist()
            )
        seen.append(str(PracticeItem.get(*PracticeItem.key(practice), consistent_read=True).stamp))
        return seen

    assert _invocation(body) == ["Before", "None", "theirs"]


def test_a_transaction_forgets_the_items_it_writes_and_only_those(practice):
    from pynamodb.connection import Connection

    from notify.dal.models import REGION, PatientItem
    from notify.dal.read_cache import Transaction

    def body() -> tuple[str, str]:
        _name(practice)
        PatientItem.get(*PatientItem.key(practice, "pat"))
        patient = PatientItem(*PatientItem.key(practice, "pat"))
        with Transaction(connection=Connection(region=REGION)) as tx:
            tx.update(patient, actions=[PatientItem.name.set("Anna")])
        return _name(practice), PatientItem.get(*PatientItem.key(practice, "pat")).name

    with _requests() as counted:
        assert _invocation(body) == ("Before", "Anna")
    assert counted["GetItem"] == 3  # profile once, patient before and after


def test_prefetch_reads_several_items_in_one_request_and_remembers_what_is_absent(practice):
    from notify.dal import keys
    from notify.dal.models import PatientItem, PracticeItem
    from notify.dal.read_cache import prefetch

    def body() -> tuple[str, str, bool]:
        prefetch(keys.profile(practice), keys.patient(practice, "pat"), keys.patient(practice, "nobody"), None)
        try:
            PatientItem.get(*PatientItem.key(practice, "nobody"))
            absent = False
        except PatientItem.DoesNotExist:
            absent = True
        patient = PatientItem.get(*PatientItem.key(practice, "pat"), consistent_read=True)
        return PracticeItem.get(*PracticeItem.key(practice)).settings["name"], patient.patient_id, absent

    with _requests() as counted:
        assert _invocation(body) == ("Before", "pat", True)
    assert dict(counted) == {"BatchGetItem": 1}


def test_a_consistent_read_is_never_answered_by_an_eventually_consistent_one(practice):
    from notify.dal.models import PracticeItem

    def body() -> None:
        PracticeItem.get(*PracticeItem.key(practice))
        PracticeItem.get(*PracticeItem.key(practice), consistent_read=True)
        PracticeItem.get(*PracticeItem.key(practice))  # the consistent answer serves this one

    with _requests() as counted:
        _invocation(body)
    assert counted["GetItem"] == 2


def test_an_item_of_another_kind_under_the_key_is_not_returned(practice):
    from notify.dal.models import PatientItem, PracticeItem

    def body() -> bool:
        PracticeItem.get(*PracticeItem.key(practice))
        try:
            PatientItem.get(*PracticeItem.key(practice))
        except PatientItem.DoesNotExist:
            return True
        return False

    assert _invocation(body)


def test_prefetch_leaves_what_dynamodb_did_not_process_to_its_own_read(practice, monkeypatch):
    """A partial BatchGetItem answer (throttling, over 1 MB from one partition) lists the
    rest in UnprocessedKeys: those items are read by their own GetItem, not taken as absent."""
    from notify.dal import keys
    from notify.dal.models import NotifyItem, PatientItem
    from notify.dal.read_cache import prefetch

    connection = NotifyItem._get_connection()
    real = connection.batch_get_item

    def partial(asked, **kwargs):
        answer = real(asked, **kwargs)
        rows = answer["Responses"][connection.table_name]
        held = [r for r in rows if r["sk"]["S"].startswith("PATIENT#")]
        answer["Responses"][connection.table_name] = [r for r in rows if r not in held]
        answer["UnprocessedKeys"] = {
            connection.table_name: {"Keys": [{"pk": r["pk"], "sk": r["sk"]} for r in held]}
        }
        return answer

    monkeypatch.setattr(connection, "batch_get_item", partial)

    def body() -> str:
        prefetch(keys.profile(practice), keys.patient(practice, "pat"))
        return PatientItem.get(*PatientItem.key(practice, "pat")).patient_id

    with _requests() as counted:
        assert _invocation(body) == "pat"
    assert dict(counted) == {"BatchGetItem": 1, "GetItem": 1}
