"""Cases: creating a report with its receipt, reading it back, deleting it for good.

A receipt code is 16 random digits in four groups (about 53 bits), shown once and stored
only as a keyed hash. Deleting a case is a hard delete of its rows (its recordings included)
plus the destruction of its data key (crypto-shredding): copies of its ciphertexts in
backups cannot be opened.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import audit, ledger
from storage.keyring import PURPOSE_RECEIPT
from storage.models import Case, CaseMessage, CasePlan, DataKey, Media, Receipt, Referral
from storage.records import data_key_of, new_data_key, open_all, seal_into
from storage.sealing import Vault

RECEIPT_DIGITS = 16
_REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U: easy to read aloud


def new_receipt_code() -> str:
    """A fresh receipt code, e.g. ``"4821 0937 5512 7764"``."""
    digits = "".join(secrets.choice("0123456789") for _ in range(RECEIPT_DIGITS))
    return " ".join(digits[i : i + 4] for i in range(0, RECEIPT_DIGITS, 4))


def normalise_receipt_code(code: str) -> str | None:
    """The code's digits, ignoring spaces and dashes; ``None`` if it cannot be a code."""
    digits = re.sub(r"[\s\-.]", "", code)
    if len(digits) != RECEIPT_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def new_case_ref() -> str:
    """A short case reference for focal points, e.g. ``"LT-7K3Q9P"`` (random, not secret)."""
    return "LT-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))


@dataclass
class NewCase:
    """What is needed to create a case: plaintext routing fields and sealed content."""

    channel: str
    reporter: str
    urgency: str = "normal"
    category: str | None = None
    place_scheme: str | None = None
    province_code: str | None = None
    commune_code: str | None = None
    age_band: str | None = None
    sex: str | None = None
    disability: bool | None = None
    # Only when she agreed to be counted: the report carries them only then (dialogs.report).
    ethnic_code: str | None = None
    migrant: bool | None = None
    contexts: str | None = None  # comma-separated, of dialogs.report.COUNTED_CONTEXTS
    consent_referral: bool = False
    consent_orgs: str | None = None
    consent_stats: bool = False
    sealed: dict[str, Any] = field(default_factory=dict)


async def create_case(
    session: AsyncSession, vault: Vault, new: NewCase, *, now: datetime
) -> tuple[Case, str]:
    """Store a new case with its own data key; returns the case and its receipt code."""
    key_id, aead = await new_data_key(session, vault)
    case = Case(
        id=secrets.token_hex(16),
        ref=new_case_ref(),
        data_key_id=key_id,
        created_at=now,
        updated_at=now,
        channel=new.channel,
        reporter=new.reporter,
        urgency=new.urgency,
        category=new.category,
        place_scheme=new.place_scheme,
        province_code=new.province_code,
        commune_code=new.commune_code,
        age_band=new.age_band,
        sex=new.sex,
        disability=new.disability,
        ethnic_code=new.ethnic_code,
        migrant=new.migrant,
        contexts=new.contexts,
        consent_referral=new.consent_referral,
        consent_referral_at=now,
        consent_orgs=new.consent_orgs,
        consent_orgs_at=now,
        consent_stats=new.consent_stats,
        consent_stats_at=now,
    )
    seal_into(vault, aead, case, **new.sealed)
    code = new_receipt_code()
    session.add(case)
    await session.flush()  # the case exists before the receipt that points at it
    await ledger.record(session, "created", case, at=now)
    session.add(
        Receipt(
            code_hash=vault.lookup_hash(PURPOSE_RECEIPT, code.replace(" ", "")),
            case_id=case.id,
            created_at=now,
        )
    )
    await audit.append(
        session,
        vault.keyring,
        action="case.created",
        actor_role=new.reporter,
        case_id=case.id,
        at=now,
    )
    return case, code


async def find_by_receipt(session: AsyncSession, vault: Vault, code: str) -> Case | None:
    """The case a receipt code belongs to, or ``None``."""
    digits = normalise_receipt_code(code)
    if digits is None:
        return None
    receipt = await session.get(Receipt, vault.lookup_hash(PURPOSE_RECEIPT, digits))
    if receipt is None:
        return None
    return await session.get(Case, receipt.case_id)


async def open_case(session: AsyncSession, vault: Vault, case: Case) -> dict[str, Any]:
    """Every sealed field of a case, opened."""
    return open_all(vault, await data_key_of(session, vault, case), case)


async def delete_case(
    session: AsyncSession,
    vault: Vault,
    case: Case,
    *,
    now: datetime,
    actor_role: str,
    actor_id: str | None = None,
) -> None:
    """Hard-delete a case and everything attached (messages, plan, receipt, referrals,
    recordings), and destroy its data key; audited."""
    case_id, key_id = case.id, case.data_key_id
    for model in (CaseMessage, CasePlan, Receipt, Referral, Media):
        await session.exec(delete(model).where(model.case_id == case_id))
    await session.exec(delete(Case).where(Case.id == case_id))
    await session.exec(delete(DataKey).where(DataKey.id == key_id))
    vault.forget(key_id)
    await audit.append(
        session,
        vault.keyring,
        action="case.deleted",
        actor_role=actor_role,
        actor_id=actor_id,
        case_id=case_id,
        at=now,
    )


async def all_cases(session: AsyncSession) -> list[Case]:
    return list((await session.exec(select(Case))).all())
