"""Every write through the API leaves exactly one audit row; a rolled-back one leaves none."""

from __future__ import annotations

from sqlalchemy import func, select

from hub.db import session_scope
from hub.models import AuditEntry, Merchant
from hub.services.audit import digest, snapshot
from tests.factories import create_catalog, merchant_body


def audit_rows(app) -> list[AuditEntry]:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_create_update_delete_each_leave_one_row_with_digests(app, operator, tenants):
    created = operator.post("/api/v1/merchants", json=merchant_body(1))
    merchant_id = created.get_json()["id"]
    rows = audit_rows(app)
    assert len(rows) == 1
    entry = rows[0]
    assert (entry.action, entry.entity_type, entry.entity_id) == ("create", "merchant",
                                                                  merchant_id)
    assert entry.actor.startswith("token:") and entry.tenant_id == tenants["hanbit"]
    assert entry.before_digest is None and len(entry.after_digest or "") == 64
    assert entry.request_id == created.headers["X-Request-Id"]
    with session_scope(app.extensions["gudok"].session_factory) as session:
        assert entry.after_digest == digest(snapshot(session.get(Merchant, merchant_id)))

    operator.patch(f"/api/v1/merchants/{merchant_id}", json={"name": "새 이름"})
    update = audit_rows(app)[-1]
    assert update.action == "update"
    assert update.before_digest == entry.after_digest
    assert update.after_digest not in (None, entry.after_digest)

    assert operator.delete(f"/api/v1/merchants/{merchant_id}").status_code == 204
    delete = audit_rows(app)[-1]
    assert (delete.action, delete.before_digest, delete.after_digest) == (
        "delete", update.after_digest, None)
    assert len(audit_rows(app)) == 3


def test_rolled_back_writes_leave_no_audit_row(app, operator):
    catalog = create_catalog(operator)
    count = len(audit_rows(app))
    merchant_id = catalog["merchant"]["id"]
    # Refused after the audit row was added: the merchant still has items.
    assert operator.delete(f"/api/v1/merchants/{merchant_id}").status_code == 409
    # Refused by a rule checked while applying the change.
    response = operator.patch(f"/api/v1/merchants/{merchant_id}",
                              json={"commission_rate_bp": None})
    assert response.status_code == 400
    # Refused for bad input before anything was written.
    assert operator.post("/api/v1/items", json={"sku": "X"}).status_code == 400
    assert len(audit_rows(app)) == count
    with session_scope(app.extensions["gudok"].session_factory) as session:
        assert session.scalar(select(func.count()).select_from(Merchant)) == 1


def test_reads_leave_no_audit_row(app, operator):
    create_catalog(operator)
    count = len(audit_rows(app))
    for path in ("/api/v1/merchants", "/api/v1/boxes", "/api/v1/connections"):
        assert operator.get(path).status_code == 200
    assert len(audit_rows(app)) == count


def test_the_audit_log_is_readable_by_its_tenant_only(app, operator, other_operator, admin):
    catalog = create_catalog(operator)
    merchant_id = catalog["merchant"]["id"]
    entries = operator.get(f"/api/v1/audit-log?entity_type=merchant&entity_id={merchant_id}")
    assert [(e["action"], e["entity_id"]) for e in entries.get_json()["data"]] == [
        ("create", merchant_id)]
    everything = operator.get("/api/v1/audit-log?limit=500").get_json()["data"]
    assert len(everything) == len(audit_rows(app))
    assert other_operator.get("/api/v1/audit-log").get_json()["data"] == []
    assert admin.get("/api/v1/audit-log?tenant=hanbit").get_json()["data"] == everything
