"""The one authorization rule (routing.access.may_act, may_read), as tables."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from routing.access import may_act, may_hand, may_read

CASE = NS(status="notified", province_code="66", commune_code="24133",
          consent_referral=True, consent_orgs="health")  # fmt: skip
REFERRAL = NS(focal_point_id="a", status="notified")


def fp(id, role="primary", commune="24133", province="66", active=True):
    return NS(id=id, role=role, commune_code=commune, province_code=province, active=active)


@pytest.mark.parametrize(
    ("focal", "case", "referral", "allowed"),
    [
        (fp("a"), CASE, REFERRAL, True),  # the assignee
        (fp("b", "backup"), CASE, REFERRAL, True),  # the same commune
        (fp("d", "province_desk", commune="22015"), CASE, REFERRAL, True),  # its desk
        (fp("e", commune="24373"), CASE, REFERRAL, False),  # another commune
        (fp("f", "province_desk", province="52"), CASE, REFERRAL, False),  # another province
        (fp("p", "police_desk"), CASE, REFERRAL, False),  # she did not agree to the police
        (fp("p", "police_desk"), NS(**{**vars(CASE), "consent_orgs": "police"}), REFERRAL, True),
        (fp("a", active=False), CASE, REFERRAL, False),
        (fp("b", "backup"), NS(**{**vars(CASE), "status": "closed"}), REFERRAL, False),
        (fp("a"), CASE, NS(focal_point_id="a", status="transferred"), True),  # still commune
        (fp("a", commune="24373"), CASE, NS(focal_point_id="a", status="transferred"), False),
        (fp("a"), NS(**{**vars(CASE), "consent_referral": False}), REFERRAL, False),
    ],
)
def test_may_act(focal, case, referral, allowed):
    assert may_act(focal, referral, case) is allowed


CLOSED = NS(**{**vars(CASE), "status": "closed"})
ENDED = NS(focal_point_id="a", status="closed")


@pytest.mark.parametrize(
    ("focal", "case", "referral", "allowed"),
    [
        (fp("a"), CASE, REFERRAL, True),  # what it may act on, it may read
        (fp("a"), CLOSED, ENDED, True),  # the holder of a closed case
        (fp("d", "province_desk", commune="22015"), CLOSED, ENDED, True),  # its desk
        (fp("b", "backup"), CLOSED, ENDED, False),  # the commune's others: not once closed
        (fp("f", "province_desk", province="52"), CLOSED, ENDED, False),
        (fp("a", active=False), CLOSED, ENDED, False),  # revoked
        (fp("a"), NS(**{**vars(CLOSED), "consent_referral": False}), ENDED, False),
        (fp("p", "police_desk"), CLOSED, NS(focal_point_id="p", status="closed"), False),
    ],
)
def test_may_read(focal, case, referral, allowed):
    assert may_read(focal, referral, case) is allowed


DESK = fp("d", "province_desk", commune="22015")


@pytest.mark.parametrize(
    ("desk", "case", "target", "allowed"),
    [
        (DESK, CASE, DESK, True),  # takes it over
        (DESK, CASE, fp("b", "backup"), True),  # hands it to someone of the province
        (DESK, CASE, fp("x", province="52"), False),  # not of the province
        (DESK, CASE, fp("b", "backup", active=False), False),
        (DESK, CASE, fp("p", "police_desk"), False),  # she did not agree to the police
        (fp("a"), CASE, fp("a"), False),  # only a province desk
        (fp("f", "province_desk", province="52"), CASE, fp("b"), False),  # another province
        (DESK, CLOSED, DESK, False),
        (DESK, NS(**{**vars(CASE), "consent_referral": False}), DESK, False),
    ],
)
def test_may_hand(desk, case, target, allowed):
    assert may_hand(desk, case, target) is allowed


def test_womens_union_and_education_need_their_own_consent():
    from types import SimpleNamespace as NS

    from routing.access import may_refer

    focal = NS(id="p", role="primary", province_code="66", commune_code="1", active=True)
    referral = NS(focal_point_id="p", status="acknowledged")
    for role, org in (("womens_union", "womens_union"), ("education", "education")):
        agency = NS(id="a", role=role, province_code="66", active=True)
        social = NS(status="acknowledged", province_code="66", commune_code="1",
                    consent_referral=True, consent_orgs="social,health")  # fmt: skip
        agreed = NS(status="acknowledged", province_code="66", commune_code="1",
                    consent_referral=True, consent_orgs=org)  # fmt: skip
        assert not may_refer(focal, referral, social, agency)
        assert may_refer(focal, referral, agreed, agency)
