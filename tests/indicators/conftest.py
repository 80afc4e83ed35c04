"""A database holding typed form tables, as the sync would have written them."""

from datetime import UTC, date, datetime

import pytest

from tests.factories import indicators as f


def sample_tables():
    """Q3 2026: 6 CSC children in 30280 (5 assisted, one record edited, one
    deleted, one rejected), 7 abused children in 30283 (6 with a plan), a 2026
    commune assessment for 30280, and 5 verified trafficking victims."""
    children = [
        *(f.child(commune="30280", is_csc="1", support_received="health")
          for _ in range(4)),
        f.child(commune="30280", is_csc="1", support_received="psych",
                review_state="edited", edits=1, instance_id="uuid:edited-v2"),
        f.child(commune="30280", is_csc="1", support_received="none"),
        f.child(commune="30280", is_csc="1", support_received="health",
                deleted_at=datetime(2026, 9, 1, tzinfo=UTC)),
        f.child(commune="30280", is_csc="1", support_received="health",
                review_state="rejected"),
        *(f.child(commune="30283", abused="1", has_plan="1",
                  abuse_date=date(2026, 7, 1)) for _ in range(6)),
        f.child(commune="30283", abused="1", has_plan="0",
                abuse_date=date(2026, 7, 2)),
    ]  # fmt: skip
    communes = [f.commune(commune="30280", recog_status="new", drug_comm="1")]
    tips = [
        f.tip(verif_started="1", id_outcome="victim", support_received="psych")
        for _ in range(5)
    ]
    return f.tables(children=children, communes=communes, tips=tips)


@pytest.fixture
def form_tables(engine):
    names = f.create_form_tables(engine, sample_tables())
    yield engine
    f.drop_tables(engine, names)
