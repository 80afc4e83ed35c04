from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect
from sqlmodel import select

from server.audit.models import AuditEvent
from server.audit.service import record

VIETNAM = timezone(timedelta(hours=7))


def test_upgrade__creates_schema_on_both_backends(engine):
    assert "audit_event" in inspect(engine).get_table_names()


def test_aware_datetime__keeps_the_instant_and_returns_it_aware(session):
    local = datetime(2026, 12, 3, 23, 30, tzinfo=VIETNAM)
    record(session=session, actor="tester", action="case.view", resource_type="case")
    session.commit()
    event = session.exec(select(AuditEvent)).one()
    event.at = local
    session.add(event)
    session.commit()
    session.expire_all()

    stored = session.exec(select(AuditEvent)).one().at

    assert stored.tzinfo is not None
    assert stored == local
    assert stored.astimezone(UTC).hour == 16


def test_aware_datetime__refuses_a_naive_value(session):
    session.add(
        AuditEvent(
            actor="tester",
            action="case.view",
            resource_type="case",
            at=datetime(2026, 12, 3, 12, 0),
        )
    )
    with pytest.raises(Exception, match="naive datetime"):
        session.commit()


def test_json_column__keeps_every_value_orjson_refuses_too(session):
    # orjson writes JSON columns; an integer beyond 64 bits goes through the
    # standard library instead and must come back unchanged.
    details = {"big": 2**70, "text": "Trẻ em", "nested": {"n": [1, 2.5, None, True]}}
    record(session=session, actor="tester", action="case.view", resource_type="case")
    session.commit()
    event = session.exec(select(AuditEvent)).one()
    event.details = details
    session.add(event)
    session.commit()
    session.expire_all()

    assert session.exec(select(AuditEvent)).one().details == details
