"""B9: events arrive late, twice and out of order; the latest real-world change wins, per
appointment aspect, whatever the order of delivery."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from notify.domain.appointment_changes import (
    AsapChange,
    Held,
    NotificationsChange,
    RescheduleRequestChange,
    StatusChange,
    TimeChange,
    apply_changes,
    reconcile,
)
from notify.domain.event_order import ChangeStamp
from notify.domain.message_plan import settled_messages
from notify.domain.model import (
    Actor,
    Appointment,
    AppointmentStatus,
    FreedSlot,
    MessageKind,
    PracticeSettings,
)
from notify.domain.slot_offers import filled_by, freed_slot, moved_into, pick_candidates, refusal, rest_of_slot

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
MONDAY = datetime(2026, 6, 8, 9, 0, tzinfo=UTC)
TUESDAY = MONDAY + timedelta(days=1)


def created(start: datetime = MONDAY) -> Appointment:
    blank = Appointment("p", "a1", "pat", start, start + timedelta(minutes=30), T0)
    return apply_changes(
        blank,
        (
            TimeChange(start, start + timedelta(minutes=30)),
            StatusChange(AppointmentStatus.BOOKED),
            NotificationsChange(True),
        ),
        ChangeStamp(T0),
        T0,
    ).appointment


def at(minutes: int, sequence: int = 0) -> ChangeStamp:
    return ChangeStamp(T0 + timedelta(minutes=minutes), sequence)


def test_b9_the_newer_reschedule_wins_whatever_arrives_first():
    tuesday = (TimeChange(TUESDAY, TUESDAY + timedelta(minutes=30)),)
    monday_again = (TimeChange(MONDAY + timedelta(hours=2), MONDAY + timedelta(hours=2, minutes=30)),)
    newer_first = apply_changes(created(), tuesday, at(30), T0)
    older_late = apply_changes(newer_first.appointment, monday_again, at(0, 1), T0)
    assert older_late.stale and older_late.appointment.start == TUESDAY
    in_order = apply_changes(apply_changes(created(), monday_again, at(0, 1), T0).appointment, tuesday, at(30), T0)
    assert in_order.appointment.start == TUESDAY


def test_b9_sequence_orders_changes_of_the_same_instant():
    assert at(5, 2) > at(5, 1) and at(5, 1).key < at(5, 2).key < at(6).key


def test_b9_a_cancellation_before_its_creation_keeps_the_late_creation_cancelled():
    held, kept = Held().add((StatusChange(AppointmentStatus.CANCELLED, Actor.PRACTICE),), at(10))
    assert kept
    late = reconcile(created(), held, T0)
    assert late.status is AppointmentStatus.CANCELLED
    assert settled_messages(None, late) == []  # nobody was told of it: nothing to say


def test_b9_a_reschedule_before_its_creation_is_folded_in_and_an_older_one_is_not():
    newer, _ = Held().add((TimeChange(TUESDAY, TUESDAY + timedelta(minutes=30)),), at(10))
    assert reconcile(created(), newer, T0).start == TUESDAY
    older, _ = Held().add((TimeChange(TUESDAY, TUESDAY + timedelta(minutes=30)),), at(-10))
    assert reconcile(created(), older, T0).start == MONDAY


def test_b9_a_stale_change_changes_nothing():
    current = apply_changes(created(), (StatusChange(AppointmentStatus.ATTENDED),), at(60), T0)
    stale = apply_changes(
        current.appointment, (StatusChange(AppointmentStatus.CANCELLED, Actor.PRACTICE),), at(30), T0
    )
    assert stale.stale and stale.appointment == current.appointment


CHANGES = st.lists(
    st.tuples(
        st.integers(1, 500),
        st.integers(0, 3),
        st.one_of(
            st.builds(
                lambda d, frees: TimeChange(
                    MONDAY + timedelta(hours=d), MONDAY + timedelta(hours=d, minutes=30), frees
                ),
                st.integers(0, 72),
                st.booleans(),  # F1: the practice keeps the time it leaves, or not
            ),
            st.sampled_from(
                [
                    StatusChange(AppointmentStatus.CANCELLED, Actor.PRACTICE),
                    StatusChange(AppointmentStatus.CANCELLED, Actor.PRACTICE, releases_slot=False),
                    StatusChange(AppointmentStatus.ATTENDED),
                    StatusChange(AppointmentStatus.NO_SHOW),
                ]
            ),
            st.builds(NotificationsChange, st.booleans()),
        ),
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda c: (c[0], c[1]),
)


def _outcome(appointment: Appointment) -> tuple:
    return (
        appointment.start,
        appointment.end,
        appointment.status,
        appointment.notifications_enabled,
        appointment.moved_keeping_slot,  # F1: whether the time it left is free
        appointment.cancelled_keeping_slot,
    )


@settings(max_examples=300, deadline=None)
@given(changes=CHANGES, order=st.randoms(use_true_random=False), held_first=st.integers(0, 6))
def test_b9_any_delivery_order_ends_in_the_same_appointment(changes, order, held_first):
    """Changes commute: delivered in occurred_at order, or shuffled with some of them
    arriving before the creation (held), the appointment ends the same."""
    in_order = created()
    for minutes, sequence, change in sorted(changes, key=lambda c: (c[0], c[1])):
        in_order = apply_changes(in_order, (change,), at(minutes, sequence), T0).appointment
    shuffled = list(changes)
    order.shuffle(shuffled)
    held = Held()
    for minutes, sequence, change in shuffled[:held_first]:
        held, _ = held.add((change,), at(minutes, sequence))
    result = reconcile(created(), held, T0)
    for minutes, sequence, change in shuffled[held_first:]:
        result = apply_changes(result, (change,), at(minutes, sequence), T0).appointment
    assert _outcome(result) == _outcome(in_order)


def test_b9_notices_follow_the_settled_state_not_the_states_in_between():
    told = created().snapshot()
    moved_there_and_back = replace(created(), version=3)
    assert settled_messages(told, moved_there_and_back) == []
    moved = replace(created(), start=TUESDAY, end=TUESDAY + timedelta(minutes=30), version=2)
    assert settled_messages(told, moved) == [MessageKind.RESCHEDULE]


def test_f1_the_patient_who_left_a_slot_is_never_offered_it():
    """The practice moves an appointment 3 days later: its old slot is offered to the
    other later patients, not to the patient who just left it (nor to their other
    appointments)."""
    settings_ = PracticeSettings()
    announced = created()
    moved = replace(
        announced,
        start=MONDAY + timedelta(days=3),
        end=MONDAY + timedelta(days=3, minutes=30),
        version=2,
        changed_at=T0,
    )
    slot = freed_slot(announced, moved, settings_)
    assert isinstance(slot, FreedSlot) and slot.left_by == "pat"
    later = [
        moved,
        replace(moved, appointment_id="a2", start=MONDAY + timedelta(days=4)),
        replace(moved, appointment_id="b1", patient_id="other", start=MONDAY + timedelta(days=5)),
    ]
    assert [a.appointment_id for a in pick_candidates(slot, later, settings_)] == ["b1"]


def test_f1_a_slot_held_only_inside_a_burst_of_edits_is_not_offered():
    never_announced = None
    cancelled = replace(created(), status=AppointmentStatus.CANCELLED, changed_at=T0)
    assert freed_slot(never_announced, cancelled, PracticeSettings()) is None


def _cancel(appointment: Appointment, stamp: ChangeStamp, releases: bool = True) -> Appointment:
    change = StatusChange(AppointmentStatus.CANCELLED, Actor.PRACTICE, releases)
    return apply_changes(appointment, (change,), stamp, T0).appointment


def test_f1_a_cancellation_or_move_that_keeps_its_slot_frees_nothing():
    """`release_slot: false` (the practitioner is away): the time the change leaves is
    offered to nobody; a later change that frees it, frees it (the newest change wins)."""
    settings_ = PracticeSettings()
    announced = created()
    assert freed_slot(announced, _cancel(announced, at(10), releases=False), settings_) is None
    assert freed_slot(announced, _cancel(announced, at(10)), settings_) is not None
    away = (TimeChange(TUESDAY, TUESDAY + timedelta(minutes=30), releases_slot=False),)
    moved = apply_changes(announced, away, at(10), T0).appointment
    assert moved.moved_keeping_slot and freed_slot(announced, moved, settings_) is None
    # The practice cancels too, freeing its (new) time: the announced Monday stays kept.
    assert freed_slot(announced, _cancel(moved, at(20)), settings_) is None
    # A confirmation after the move keeps what the move said.
    confirmed = apply_changes(moved, (StatusChange(AppointmentStatus.CONFIRMED),), at(15), T0).appointment
    assert freed_slot(announced, confirmed, settings_) is None


def test_f1_a_next_wave_skips_whoever_was_offered_and_their_other_appointments():
    settings_ = replace(PracticeSettings(), offer_candidates=2)
    slot = FreedSlot("p", "a1.v1", "default", MONDAY, MONDAY + timedelta(minutes=30), left_by="pat")
    later = [
        replace(created(MONDAY + timedelta(days=3 + i)), appointment_id=f"b{i}", patient_id=f"other{i % 4}")
        for i in range(5)
    ]  # other0 holds b0 and b4
    first = pick_candidates(slot, later, settings_, limit=3)
    assert [a.appointment_id for a in first] == ["b0", "b1", "b2"]  # a third: someone is left
    offered = frozenset(a.appointment_id for a in first[:2])
    assert [a.appointment_id for a in pick_candidates(slot, later, settings_, offered=offered)] == ["b2", "b3"]


def test_f1_a_visit_longer_than_the_freed_time_is_not_offered_it_and_a_shorter_one_keeps_its_length():
    settings_ = PracticeSettings()
    slot = FreedSlot("p", "a1.v1", "default", MONDAY, MONDAY + timedelta(minutes=30), left_by="pat")
    start = MONDAY + timedelta(days=3)
    long_visit = replace(created(start), appointment_id="long", patient_id="p1", end=start + timedelta(minutes=60))
    short_visit = replace(
        created(start), appointment_id="short", patient_id="p2", end=start + timedelta(minutes=20)
    )
    assert [a.appointment_id for a in pick_candidates(slot, [long_visit, short_visit], settings_)] == ["short"]
    assert refusal(slot, long_visit, T0) == "your appointment is longer than this time"
    moved = moved_into(short_visit, slot, T0)
    assert (moved.start, moved.end) == (MONDAY, MONDAY + timedelta(minutes=20))


def test_f1_d23_the_rest_of_a_slot_a_shorter_visit_took_is_freed_once_while_it_stays_there():
    settings_ = PracticeSettings()
    hour = FreedSlot("p", "a1.v1", "default", MONDAY, MONDAY + timedelta(hours=1), left_by="pat")
    start = MONDAY + timedelta(days=3)
    visit = replace(created(start), appointment_id="short", patient_id="p2", end=start + timedelta(minutes=20))
    moved = moved_into(visit, hour, T0)
    rest = rest_of_slot(visit, moved, settings_)
    assert rest is not None and (rest.start, rest.end) == (MONDAY + timedelta(minutes=20), hour.end)
    assert rest.left_by == "p2" and rest.slot_id == "short.v2.rest"
    assert rest.freed_stamp == ChangeStamp(T0).key  # booked into it after the acceptance: filled (D20)
    assert rest_of_slot(moved, moved, settings_) is None  # settled once: not again
    # Too little left, or too close to offer (F1's notice), or moved elsewhere since.
    three_quarters = replace(hour, end=MONDAY + timedelta(minutes=30))
    assert rest_of_slot(visit, moved_into(visit, three_quarters, T0), settings_) is None
    late = moved_into(visit, hour, MONDAY - timedelta(hours=47))
    assert rest_of_slot(visit, late, settings_) is None
    elsewhere = apply_changes(moved, (TimeChange(TUESDAY, TUESDAY + timedelta(minutes=20)),), at(90), T0)
    assert elsewhere.appointment.took_slot_until is None
    assert rest_of_slot(visit, elsewhere.appointment, settings_) is None


def _slot(freed_at: ChangeStamp, start: datetime = MONDAY) -> FreedSlot:
    return FreedSlot("p", "a1.v1", "default", start, start + timedelta(minutes=30), freed_stamp=freed_at.key)


def test_f2_a_booking_into_the_slots_time_after_it_was_freed_fills_it():
    """The practice books someone into the freed time itself: a booking that starts in
    it, or earlier and runs into it, made after the slot was freed, fills it."""
    slot = _slot(at(10))
    booked = replace(created(MONDAY + timedelta(minutes=15)), appointment_id="walk-in")
    booked = replace(booked, stamps=(("time", at(20).key),))
    assert filled_by(slot, [booked]) == booked
    long_before = replace(booked, start=MONDAY - timedelta(hours=2), end=MONDAY + timedelta(minutes=1))
    assert filled_by(slot, [long_before]) == long_before
    just_after = replace(booked, start=MONDAY + timedelta(minutes=30), end=MONDAY + timedelta(hours=1))
    assert filled_by(slot, [just_after]) is None  # touches, does not overlap
    other_room = replace(booked, calendar_id="room-2")
    cancelled = replace(booked, status=AppointmentStatus.CANCELLED)
    assert filled_by(slot, [other_room, cancelled]) is None


def test_f2_an_appointment_that_shared_the_slots_time_before_leaves_it_free():
    """A calendar that books two at once: the one that was already there, or the slot's
    own appointment, is not a new booking into the freed time."""
    slot = _slot(at(10))
    twin = replace(created(), appointment_id="twin", stamps=(("time", at(0).key),))
    confirmed_since = replace(twin, stamps=(("time", at(0).key), ("status", at(30).key)))
    own = replace(created(), stamps=(("time", at(30).key),))  # the slot's own appointment
    assert filled_by(slot, [twin, confirmed_since, own]) is None


def test_b9_the_settles_own_record_of_what_it_announced_plans_nothing():
    """The planner skips the stream record of a settle writing `announced` (no profile
    read, no schedule touched), and only that record."""
    from notify.services.table_changes import _only_announcement

    before = created()
    told = replace(before, announced=before.snapshot())
    assert _only_announcement(before, told)
    moved = replace(told, start=TUESDAY, end=TUESDAY + timedelta(minutes=30))
    assert not _only_announcement(told, moved)  # a real change
    stale = replace(moved, announced=told.snapshot())
    assert not _only_announcement(moved, replace(stale, announced=before.snapshot()))  # told, but not this state
    cancelled = replace(told, status=AppointmentStatus.CANCELLED, announced=told.snapshot())
    assert not _only_announcement(told, cancelled)


def test_b9_a_patients_confirmation_settles_nothing_and_what_follows_still_does():
    """Issue 16: booked -> confirmed tells nobody anything and frees no slot, so it plans
    no settle (no schedule, no settle run, no write); a cancellation or a move after it
    settles as before, against what was announced."""
    from notify.domain.message_plan import needs_settling

    told = replace(created(), announced=created().snapshot())
    assert not needs_settling(told)
    confirmed = replace(told, status=AppointmentStatus.CONFIRMED)
    assert not needs_settling(confirmed)
    assert settled_messages(told.announced, confirmed) == []
    assert freed_slot(told, confirmed, PracticeSettings()) is None
    cancelled = replace(confirmed, status=AppointmentStatus.CANCELLED, cancelled_by=Actor.PRACTICE)
    assert needs_settling(cancelled)
    assert settled_messages(confirmed.announced, cancelled) == [MessageKind.CANCELLATION]
    moved = replace(confirmed, start=TUESDAY, end=TUESDAY + timedelta(minutes=30), version=2)
    assert needs_settling(moved) and settled_messages(confirmed.announced, moved) == [MessageKind.RESCHEDULE]
    assert needs_settling(replace(confirmed, notifications_enabled=False))


def test_b9_a_visits_outcome_settles_nothing():
    """Issue 16: attended and no-show announce nothing and free no slot, so they plan no
    settle (no schedule, no settle run, no write) whatever was announced before."""
    from notify.domain.message_plan import needs_settling

    told = replace(created(), announced=created().snapshot())
    for announced in (told, replace(told, announced=None)):
        for over in (AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW):
            outcome = replace(announced, status=over, changed_at=MONDAY + timedelta(hours=1))
            assert not needs_settling(outcome)
            assert settled_messages(announced.announced, outcome) == []
            assert freed_slot(announced, outcome, PracticeSettings()) is None


def test_r5_a_cancellation_once_the_visit_is_over_tells_nobody():
    """A practice cancelling an appointment once its time was over (correcting its
    records, e.g. after an attended or no-show, which leave the announced visit as it was)
    sends no notice and frees no slot; one cancelled during the visit still tells the
    patient (they may be on their way)."""
    from notify.domain.message_plan import needs_settling

    told = replace(created(), announced=created().snapshot())
    attended = replace(told, status=AppointmentStatus.ATTENDED, changed_at=MONDAY + timedelta(hours=1))
    cancelled = {"status": AppointmentStatus.CANCELLED, "cancelled_by": Actor.PRACTICE}
    for at in (told.end, told.end + timedelta(days=1)):
        corrected = replace(attended, changed_at=at, **cancelled)
        assert needs_settling(corrected)
        assert settled_messages(told.announced, corrected) == []
        assert freed_slot(told, corrected, PracticeSettings()) is None
    for at in (MONDAY - timedelta(minutes=1), told.end - timedelta(minutes=1)):
        early = replace(told, changed_at=at, **cancelled)
        assert settled_messages(told.announced, early) == [MessageKind.CANCELLATION]


def test_b9_r4_f4_a_move_answers_what_the_patient_asked_before_it_in_any_delivery_order():
    """A patient's request (another time, D22; an earlier one, F4) is stamped when they
    make it, and never arrives late; the practice's moves may. A move that happened after
    the request ends it, however late it comes; one that happened before it does not, even
    delivered after it; a move that leaves the time as it was answers nothing."""
    asked = apply_changes(
        created(), (RescheduleRequestChange(T0 + timedelta(minutes=10)), AsapChange(T0)), at(10), T0
    ).appointment
    tuesday = (TimeChange(TUESDAY, TUESDAY + timedelta(minutes=30)),)
    answered = apply_changes(asked, tuesday, at(20), T0).appointment
    assert answered.reschedule_requested_at is None and answered.asap_since is None
    older = apply_changes(asked, tuesday, at(5), T0)
    assert older.appointment.start == TUESDAY and older.appointment.reschedule_requested_at is not None
    assert older.appointment.asap_since is not None
    same_time = (TimeChange(MONDAY, MONDAY + timedelta(minutes=30)),)
    unmoved = apply_changes(asked, same_time, at(20), T0).appointment
    assert unmoved.reschedule_requested_at is not None and unmoved.asap_since is not None
    # Asked again after the answer: a late copy of the answering move does not end it.
    again = apply_changes(answered, (RescheduleRequestChange(T0 + timedelta(minutes=30)),), at(30), T0)
    late_copy = apply_changes(again.appointment, tuesday, at(20), T0)
    assert late_copy.appointment.reschedule_requested_at is not None
