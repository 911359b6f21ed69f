import pytest

from crm_desktop.domain.eligibility import (
    ALL,
    ChannelState,
    Exclusion,
    MarketingFacts,
    exclusion_reasons,
    is_mobile,
)
from crm_desktop.domain.enums import Channel, LawfulBasis, SubscriberType
from crm_desktop.domain.subscribers import infer_subscriber_type, subscriber_type

LI = LawfulBasis.LEGITIMATE_INTEREST
OK_EMAIL = "jane@oak.sch.uk"
MOBILE = "+447700900123"
LANDLINE = "+441632960001"


def facts(**kw) -> MarketingFacts:
    base = {"email": OK_EMAIL, "phone": MOBILE, "basis": LI, "has_li_note": True}
    base.update(kw)
    return MarketingFacts(**base)


def reasons(f, channel=Channel.EMAIL, personalised=False):
    return exclusion_reasons(f, channel, personalised=personalised)


def test_corporate_li_with_note_may_be_marketed_on_every_channel():
    for channel in Channel:
        assert reasons(facts(), channel) == []


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"erased": True}, Exclusion.ERASED),
        ({"restricted": True}, Exclusion.RESTRICTED),
        ({"channels": {Channel.EMAIL: ChannelState(opted_out=True)}}, Exclusion.OPTED_OUT),
        ({"suppressed_email": frozenset({ALL})}, Exclusion.SUPPRESSED),
        ({"suppressed_email": frozenset({"email"})}, Exclusion.SUPPRESSED),
        ({"email": None}, Exclusion.NO_ADDRESS),
        ({"email": "not an address@"}, Exclusion.INVALID_ADDRESS),
        ({"basis": LawfulBasis.NONE}, Exclusion.NO_BASIS),
        ({"basis": LawfulBasis.CONSENT}, Exclusion.NO_BASIS),  # consent, but not for email
        ({"has_li_note": False}, Exclusion.LI_WITHOUT_NOTE),
        ({"subscriber_type": SubscriberType.INDIVIDUAL}, Exclusion.INDIVIDUAL_WITHOUT_CONSENT),
    ],
)
def test_each_reason_alone(kw, expected):
    assert reasons(facts(**kw)) == [expected]


def test_personalisation_refused_only_matters_for_personalised_campaigns():
    f = facts(personalisation_refused=True)
    assert reasons(f) == []
    assert reasons(f, personalised=True) == [Exclusion.PERSONALISATION_REFUSED]


def test_every_reason_is_returned_not_just_the_first():
    f = facts(
        erased=True,
        restricted=True,
        email=None,
        basis=LawfulBasis.NONE,
        personalisation_refused=True,
        channels={Channel.EMAIL: ChannelState(opted_out=True)},
        suppressed_email=frozenset({ALL}),
    )
    assert reasons(f, personalised=True) == [
        Exclusion.ERASED,
        Exclusion.RESTRICTED,
        Exclusion.OPTED_OUT,
        Exclusion.SUPPRESSED,
        Exclusion.NO_ADDRESS,
        Exclusion.NO_BASIS,
        Exclusion.PERSONALISATION_REFUSED,
    ]


def test_consent_on_the_channel_is_a_basis_even_for_individuals():
    f = facts(
        basis=LawfulBasis.NONE,
        subscriber_type=SubscriberType.INDIVIDUAL,
        channels={Channel.EMAIL: ChannelState(consent=True)},
    )
    assert reasons(f, Channel.EMAIL) == []
    assert reasons(f, Channel.SMS) == [Exclusion.NO_BASIS]


def test_opt_out_beats_consent():
    f = facts(channels={Channel.EMAIL: ChannelState(consent=True, opted_out=True)})
    assert reasons(f) == [Exclusion.OPTED_OUT]


def test_individuals_need_consent_for_email_and_sms_but_li_serves_phone_and_online():
    f = facts(subscriber_type=SubscriberType.INDIVIDUAL)
    assert reasons(f, Channel.SMS) == [Exclusion.INDIVIDUAL_WITHOUT_CONSENT]
    assert reasons(f, Channel.PHONE) == []
    assert reasons(f, Channel.ONLINE) == []


def test_sms_needs_a_mobile_number():
    assert reasons(facts(phone=LANDLINE), Channel.SMS) == [Exclusion.NO_ADDRESS]
    assert reasons(facts(phone=LANDLINE), Channel.PHONE) == []
    assert reasons(facts(phone=None), Channel.PHONE) == [Exclusion.NO_ADDRESS]


def test_suppression_applies_to_the_addresses_a_channel_uses():
    phone_suppressed = facts(suppressed_phone=frozenset({ALL}))
    assert reasons(phone_suppressed, Channel.EMAIL) == []
    assert reasons(phone_suppressed, Channel.SMS) == [Exclusion.SUPPRESSED]
    assert reasons(phone_suppressed, Channel.ONLINE) == [Exclusion.SUPPRESSED]
    email_only_for_sms = facts(suppressed_email=frozenset({"sms"}))
    assert reasons(email_only_for_sms, Channel.EMAIL) == []


def test_online_audiences_match_on_email_or_phone():
    assert reasons(facts(email=None), Channel.ONLINE) == []
    assert reasons(facts(email=None, phone=None), Channel.ONLINE) == [Exclusion.NO_ADDRESS]


@pytest.mark.parametrize(
    ("number", "mobile"),
    [
        ("+447700900123", True),  # Ofcom drama mobile range
        ("+447911123456", True),
        ("+442079460000", False),
        ("+447020123456", False),  # 070: personal numbering
        ("+447600123456", False),  # 076: pagers
        (None, False),
    ],
)
def test_is_mobile(number, mobile):
    assert is_mobile(number) is mobile


def test_subscriber_type_inference_and_override():
    assert infer_subscriber_type("Jane@GMAIL.com") is SubscriberType.INDIVIDUAL
    assert infer_subscriber_type("jane@btinternet.com") is SubscriberType.INDIVIDUAL
    assert infer_subscriber_type("head@oak.sch.uk") is SubscriberType.CORPORATE
    assert infer_subscriber_type(None) is SubscriberType.CORPORATE
    assert subscriber_type("sole.trader@acme.co.uk", "individual") is SubscriberType.INDIVIDUAL
    assert subscriber_type("jane@gmail.com", "corporate") is SubscriberType.CORPORATE


def test_every_exclusion_has_a_label():
    assert all(e.label and e.label[0].isupper() for e in Exclusion)
