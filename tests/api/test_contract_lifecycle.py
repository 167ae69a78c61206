"""POST /api/v1/contracts/<id>/{pause,resume,skip,cadence,cancel,renew,end} and GET
/api/v1/contracts/<id>/rounds: each change answers the contract with its upcoming rounds and
is audited; viewers cannot change, other tenants do not see, an impossible change is a 409
naming the status and a bad body a 400 with field paths."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hub.db import session_scope, utcnow
from hub.models import Connection, Contract, Order, OutboxMessage, Round, Tenant
from hub.schemas.round import RoundSchema
from hub.services.orders import apply_event
from hub.services.periods import local_day
from hub.services.rounds import schedule_rounds
from tests.factories import create_catalog, error_paths, problem
from tests.services.test_orders import apply, order_event, partner_connection


def _today(app: Flask) -> date:
    with session_scope(app.extensions["gudok"].session_factory) as db:
        return local_day(db.scalars(select(Tenant).where(Tenant.code == "hanbit")).one(),
                            utcnow())


@pytest.fixture
def sub(app: Flask, operator: Any, tenants: dict[str, int]) -> dict[str, Any]:
    """A weekly contract of 2 boxes whose first round is in three days, with its four rounds
    within the horizon scheduled, every one still before its cut-off."""
    create_catalog(operator)
    partner = partner_connection(operator)
    apply(app, partner, order_event("order.upserted", "paid", 1))
    today = _today(app)
    first = today + timedelta(days=3)
    with session_scope(app.extensions["gudok"].session_factory) as db:
        contract = db.scalars(select(Contract)).one()
        contract.cadence, contract.next_round_on = "weekly", first
        db.flush()
        assert schedule_rounds(db, tenants["hanbit"], today).created == 4
        rounds = list(db.scalars(select(Round.id).order_by(Round.number)))
        return {"id": contract.id, "today": today, "first": first, "rounds": rounds,
                "url": f"/api/v1/contracts/{contract.id}"}


def _days(sub: dict[str, Any], *offsets: int) -> list[str]:
    return [(sub["first"] + timedelta(days=n)).isoformat() for n in offsets]


def _past_cut_off(app: Flask, round_id: int) -> None:
    with session_scope(app.extensions["gudok"].session_factory) as db:
        db.get_one(Round, round_id).cutoff_at = utcnow() - timedelta(hours=1)


def test_rounds_are_listed_by_number_for_the_contracts_tenant_only(operator, viewer,
                                                                   other_operator, sub):
    listed = viewer.get(f"{sub['url']}/rounds")
    assert listed.status_code == 200, listed.get_json()
    rounds = listed.get_json()
    assert set(rounds[0]) == set(RoundSchema().fields)
    assert [(r["number"], r["sequence"], r["scheduled_on"], r["quantity"], r["status"])
            for r in rounds] == [(n + 1, n + 1, day, 2, "scheduled")
                                 for n, day in enumerate(_days(sub, 0, 7, 14, 21))]
    assert rounds[0]["cutoff_at"].endswith("+00:00")
    problem(other_operator.get(f"{sub['url']}/rounds"), 404)
    problem(operator.get("/api/v1/contracts/999999/rounds"), 404)


def test_pause_withdraws_rounds_before_cut_off_and_resume_schedules_again(app, operator, sub):
    _past_cut_off(app, sub["rounds"][0])
    paused = operator.post(f"{sub['url']}/pause")
    assert paused.status_code == 200, paused.get_json()
    body = paused.get_json()
    assert body["status"] == "paused"
    assert [r["scheduled_on"] for r in body["upcoming_rounds"]] == _days(sub, 0)
    assert "paused" in problem(operator.post(f"{sub['url']}/pause"), 409)["detail"]
    resumed = operator.post(f"{sub['url']}/resume").get_json()
    assert resumed["status"] == "active"
    assert [(r["number"], r["sequence"], r["scheduled_on"])
            for r in resumed["upcoming_rounds"]] == [
        (n + 1, n + 1, day) for n, day in enumerate(_days(sub, 0, 7, 14, 21))]
    assert "active" in problem(operator.post(f"{sub['url']}/resume"), 409)["detail"]
    actions = [e["action"] for e in operator.get(
        f"/api/v1/audit-log?entity_type=contract&entity_id={sub['id']}").get_json()["data"]]
    assert actions == ["pause", "resume"]


def test_skip_keeps_the_paid_rounds_and_refuses_after_cut_off(app, operator, sub):
    skipped = operator.post(f"{sub['url']}/skip", json={"round_id": sub["rounds"][1]})
    assert skipped.status_code == 200, skipped.get_json()
    assert [(r["number"], r["sequence"]) for r in skipped.get_json()["upcoming_rounds"]] == [
        (1, 1), (3, 2), (4, 3)]
    by_date = operator.post(f"{sub['url']}/skip", json={"scheduled_on": _days(sub, 21)[0]})
    assert [r["number"] for r in by_date.get_json()["upcoming_rounds"]] == [1, 3]
    rounds = operator.get(f"{sub['url']}/rounds").get_json()
    assert [(r["status"], r["sequence"]) for r in rounds] == [
        ("scheduled", 1), ("skipped", None), ("scheduled", 2), ("skipped", None)]
    _past_cut_off(app, sub["rounds"][0])
    late = problem(operator.post(f"{sub['url']}/skip", json={"round_id": sub["rounds"][0]}),
                   409)
    assert "cut-off" in late["detail"]
    again = problem(operator.post(f"{sub['url']}/skip", json={"round_id": sub["rounds"][1]}),
                    409)
    assert "skipped" in again["detail"]


@pytest.mark.parametrize(("body", "path"), [
    ({}, "round_id"), ({"round_id": "two"}, "round_id"), ({"round_id": 0}, "round_id"),
    ({"scheduled_on": "2026-13-01"}, "scheduled_on"), ({"round_id": 999999}, "round_id"),
    ({"round_id": 1, "scheduled_on": "2026-12-03"}, "round_id"),
    ({"scheduled_on": "2031-01-01"}, "scheduled_on"), ({"when": 1}, "when")])
def test_a_skip_that_names_no_round_of_the_contract_is_a_400(operator, sub, body, path):
    assert path in error_paths(operator.post(f"{sub['url']}/skip", json=body), 400)


def test_a_new_cadence_remakes_the_rounds_before_cut_off(app, operator, sub):
    operator.post(f"{sub['url']}/skip", json={"round_id": sub["rounds"][2]})
    changed = operator.post(f"{sub['url']}/cadence", json={"cadence": "biweekly"})
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert body["cadence"] == "biweekly"
    assert [(r["sequence"], r["scheduled_on"]) for r in body["upcoming_rounds"]] == list(
        zip([1, 2], _days(sub, 0, 14), strict=True))
    statuses = [r["status"] for r in operator.get(f"{sub['url']}/rounds").get_json()]
    assert statuses.count("skipped") == 1
    assert error_paths(operator.post(f"{sub['url']}/cadence", json={"cadence": "daily"}),
                       400) == ["cadence"]
    assert error_paths(operator.post(f"{sub['url']}/cadence", json={}), 400) == ["cadence"]


def test_cancel_cancels_rounds_before_cut_off_and_nothing_more_can_change(app, operator,
                                                                         sub):
    _past_cut_off(app, sub["rounds"][0])
    cancelled = operator.post(f"{sub['url']}/cancel", json={"reason": "이사"})
    assert cancelled.status_code == 200, cancelled.get_json()
    body = cancelled.get_json()
    assert (body["status"], body["cancelled_on"]) == ("cancelled", sub["today"].isoformat())
    assert body["cancel_reason"] == "이사"
    assert [r["number"] for r in body["upcoming_rounds"]] == [1]  # past cut-off: still goes
    assert [r["status"] for r in operator.get(f"{sub['url']}/rounds").get_json()] == [
        "scheduled", "cancelled", "cancelled", "cancelled"]
    for action in ("pause", "resume", "cancel", "renew", "end"):
        assert "cancelled" in problem(operator.post(f"{sub['url']}/{action}"), 409)["detail"]
    assert "cancelled" in problem(operator.post(f"{sub['url']}/cadence",
                                                json={"cadence": "monthly"}), 409)["detail"]
    assert error_paths(operator.post(f"{sub['url']}/cancel", json={"reason": ""}),
                       400) == ["reason"]


def test_end_stops_after_the_term_and_renew_starts_another(operator, sub):
    assert "renews by itself" in problem(operator.post(f"{sub['url']}/renew"), 409)["detail"]
    ended = operator.post(f"{sub['url']}/end").get_json()
    assert (ended["status"], ended["next_round_on"]) == ("active", None)
    renewed = operator.post(f"{sub['url']}/renew").get_json()
    assert (renewed["status"], renewed["renewals"]) == ("active", 1)
    assert renewed["next_round_on"] == _days(sub, 28)[0]


def test_only_operators_and_admins_of_the_tenant_change_a_contract(admin, viewer,
                                                                  other_operator, sub):
    assert "viewer" in problem(viewer.post(f"{sub['url']}/pause"), 403)["detail"]
    problem(other_operator.post(f"{sub['url']}/pause"), 404)
    problem(other_operator.post("/api/v1/contracts/999999/pause"), 404)
    paused = admin.post(f"{sub['url']}/pause")
    assert paused.status_code == 200 and paused.get_json()["status"] == "paused"


def test_another_tenants_contract_is_a_404_whatever_the_body(other_operator, sub):
    for action, body in (("skip", {}), ("cadence", {"cadence": "hourly"}),
                         ("cancel", {"reason": ""})):
        problem(other_operator.post(f"{sub['url']}/{action}", json=body), 404)


def test_the_platform_is_told_what_an_operator_changed_and_not_what_it_sent(app, operator,
                                                                            sub):
    factory = app.extensions["gudok"].session_factory
    with session_scope(factory) as db:
        contract = db.get_one(Contract, sub["id"])
        connection = db.get_one(Connection, db.get_one(Order, contract.order_id).connection_id)
        connection.config = {**connection.config,
                             "outbound_url": "http://127.0.0.1:9/notifications"}
        connection_id = connection.id
    assert operator.post(f"{sub['url']}/pause").status_code == 200
    with session_scope(factory) as db:  # the platform resumes it itself: nothing to echo
        resumed = {"kind": "subscription.changed", "external_id": "DAON-1",
                   "occurred_at": utcnow(), "data": {"action": "resume"}}
        assert apply_event(db, db.get_one(Connection, connection_id), resumed) == "updated"
    rounds = operator.get(f"{sub['url']}/rounds").get_json()
    second = [r for r in rounds if r["status"] == "scheduled"][1]
    assert operator.post(f"{sub['url']}/skip",
                         json={"round_id": second["id"]}).status_code == 200
    assert operator.post(f"{sub['url']}/cadence", json={"cadence": "biweekly"}).status_code == 200
    assert operator.post(f"{sub['url']}/cancel", json={"reason": "이사"}).status_code == 200
    with session_scope(factory) as db:
        sent = [(row.event_type, json.loads(row.payload)["data"]) for row in db.scalars(
            select(OutboxMessage).where(OutboxMessage.connection_id == connection_id)
            .order_by(OutboxMessage.id))]
    assert [event_type for event_type, _ in sent] == [
        "subscription.paused", "subscription.skipped", "subscription.cadence_changed",
        "subscription.cancelled"]
    assert all((data["order_id"], data["line_id"]) == ("DAON-1", "1") for _, data in sent)
    assert sent[0][1]["status"] == "paused"
    assert sent[1][1]["scheduled_on"] == second["scheduled_on"]
    assert sent[2][1]["cadence"] == "biweekly"
    assert (sent[3][1]["status"], sent[3][1]["reason"], sent[3][1]["cancelled_on"]) == (
        "cancelled", "이사", sub["today"].isoformat())
