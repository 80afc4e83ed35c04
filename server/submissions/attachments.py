"""Attachments of submission versions (photos, audio), downloaded from Central and
stored once by the SHA-256 of their content."""

import hashlib
import logging

from sqlalchemy import func
from sqlmodel import Session, select

from server.central.submissions import CentralSubmissions
from server.submissions.ledger import Item
from server.submissions.models import Blob, SubmissionAttachment

logger = logging.getLogger(__name__)


def fetch(*, session: Session, central: CentralSubmissions, items: list[Item]) -> int:
    """Download what the ledger lacks of these versions' attachments; returns how
    many files were added. A version is asked about only while it holds fewer
    files than Central says are present (files may arrive after the form)."""
    stored = _stored_counts(session, items)
    added = 0
    for item in items:
        version = item.version
        if stored.get(version.instance_id, 0) >= item.attachments_present:
            continue
        added += _fetch_version(session, central, item)
    return added


def _fetch_version(session: Session, central: CentralSubmissions, item: Item) -> int:
    version = item.version
    listing = central.attachments(
        version.xml_form_id, version.submission_id, version.instance_id
    )
    have = set(_stored_names(session, item))
    added = 0
    for entry in listing:
        if not entry.get("exists") or entry["name"] in have:
            continue
        content, content_type = central.attachment(
            version.xml_form_id,
            version.submission_id,
            entry["name"],
            version.instance_id,
        )
        sha256 = store_blob(session=session, content=content, content_type=content_type)
        session.add(
            SubmissionAttachment(
                project_id=version.project_id,
                xml_form_id=version.xml_form_id,
                submission_id=version.submission_id,
                instance_id=version.instance_id,
                name=entry["name"],
                sha256=sha256,
            )
        )
        added += 1
    session.flush()
    return added


def store_blob(*, session: Session, content: bytes, content_type: str | None) -> str:
    """The content's SHA-256, adding the blob unless the same bytes are stored."""
    sha256 = hashlib.sha256(content).hexdigest()
    if session.get(Blob, sha256) is None:
        session.add(
            Blob(
                sha256=sha256,
                size=len(content),
                content_type=content_type,
                content=content,
            )
        )
        session.flush()
    return sha256


def _stored_counts(session: Session, items: list[Item]) -> dict[str, int]:
    counts: dict[str, int] = {}
    if not items:
        return counts
    first = items[0].version
    instance_ids = [i.version.instance_id for i in items]
    for start in range(0, len(instance_ids), 900):
        query = (
            select(SubmissionAttachment.instance_id, func.count())
            .where(
                SubmissionAttachment.project_id == first.project_id,
                SubmissionAttachment.xml_form_id == first.xml_form_id,
                SubmissionAttachment.instance_id.in_(instance_ids[start : start + 900]),
            )
            .group_by(SubmissionAttachment.instance_id)
        )
        counts.update(session.exec(query).all())
    return counts


def _stored_names(session: Session, item: Item) -> list[str]:
    version = item.version
    query = select(SubmissionAttachment.name).where(
        SubmissionAttachment.project_id == version.project_id,
        SubmissionAttachment.xml_form_id == version.xml_form_id,
        SubmissionAttachment.instance_id == version.instance_id,
    )
    return list(session.exec(query).all())
