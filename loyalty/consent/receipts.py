"""Consent receipts in Kantara CR v1.1 JSON, one per grant and per withdrawal.

The category code lists are the spec's (KI-CR-v1.1.0, "N - Label" strings as in its example);
purposes map by their DPV term (then by legal basis), fields by their DPV personal-data term.
"""

import uuid
from typing import Any

import rules
from loyalty.consent.models import GRANTED, WITHDRAWN, ConsentEvent
from loyalty.program.models import PurposeNotice
from loyalty.settings import Settings

VERSION = "KI-CR-v1.1.0"
JURISDICTION = "EU"

CORE, CONTRACTED, CONTACT_REQUESTED = "1 - Core Function", "2 - Contracted Service", "4 - Contact Requested"
PERSONALISED, MARKETING = "5 - Personalize Experience", "6 - Marketing"
MARKETING_THIRD, SHARING_MARKETING = "7 - Marketing Third Parties", "9 - Sharing for Marketing"
LEGAL_RETENTION, INTERESTS, IMPROVE = (
    "12 - Legally Required Data Retention",
    "15 - Protecting Our Interests",
    ("16 - Improve Performance"),
)

PURPOSE_CATEGORIES: dict[str, str] = {
    **dict.fromkeys(
        [
            "Advertising",
            "DirectMarketing",
            "Marketing",
            "SocialMediaMarketing",
            "PublicRelations",
            "TargetedAdvertising",
            "PersonalisedAdvertising",
            "SellProducts",
            "SellProductsToDataSubject",
        ],
        MARKETING,
    ),
    **dict.fromkeys(
        [
            "Personalisation",
            "PersonalisedBenefits",
            "ServicePersonalisation",
            "ProvidePersonalisedRecommendations",
            "ProvideProductRecommendations",
            "ProvideEventRecommendations",
        ],
        PERSONALISED,
    ),
    **dict.fromkeys(
        ["CommunicationManagement", "CommunicationForCustomerCare", "CustomerCare"], CONTACT_REQUESTED
    ),
    **dict.fromkeys(
        [
            "ServiceUsageAnalytics",
            "ServiceOptimisation",
            "OptimisationForController",
            "CommercialResearch",
            "ImproveExistingProductsAndServices",
            "ImproveInternalCRMProcesses",
            "ServiceMonitoring",
        ],
        IMPROVE,
    ),
    **dict.fromkeys(
        [
            "CustomerRelationshipManagement",
            "CustomerManagement",
            "AccountManagement",
            "ServiceProvision",
            "RequestedServiceProvision",
            "ServiceRegistration",
            "FulfilmentOfContractualObligation",
            "EstablishContractualAgreement",
            "CustomerOrderManagement",
            "PaymentManagement",
        ],
        CONTRACTED,
    ),
    **dict.fromkeys(["SellDataToThirdParties", "SellInsightsFromData"], SHARING_MARKETING),
    **dict.fromkeys(["LegalCompliance", "RecordManagement", "FulfilmentOfObligation"], LEGAL_RETENTION),
    **dict.fromkeys(
        ["FraudPreventionAndDetection", "MisusePreventionAndDetection", "EnforceSecurity"], INTERESTS
    ),
}
BASIS_CATEGORIES = {
    "contract": CONTRACTED,
    "legal_obligation": LEGAL_RETENTION,
    "legitimate_interest": INTERESTS,
    "consent": CORE,
}

BIOGRAPHICAL, CONTACT, SOCIAL, FINANCIAL = (
    "1 - Biographical",
    "2 - Contact",
    "4 - Communications/Social",
    ("7 - Financial"),
)
MEMBERSHIP, BEHAVIORAL, PROFILING, NETWORK = (
    "14 - Membership",
    "15 - Behavioral",
    "16 - Profiling",
    ("5 - Network Service"),
)
PII_CATEGORIES: dict[str, str] = {
    **dict.fromkeys(
        [
            "Age",
            "AgeRange",
            "BirthDate",
            "Gender",
            "Name",
            "Nationality",
            "Language",
            "Demographic",
            "Family",
            "FamilyStructure",
            "Household",
            "Offspring",
            "Relationship",
            "Picture",
        ],
        BIOGRAPHICAL,
    ),
    **dict.fromkeys(
        [
            "Contact",
            "EmailAddress",
            "EmailAddressPersonal",
            "TelephoneNumber",
            "PhysicalAddress",
            "PostalCode",
            "Street",
            "HouseNumber",
            "City",
            "Region",
            "Country",
            "HomeLocation",
            "Location",
            "Geographic",
        ],
        CONTACT,
    ),
    **dict.fromkeys(
        [
            "Communication",
            "EmailContent",
            "Social",
            "SocialMedia",
            "SocialNetwork",
            "SocialBehaviour",
            "GroupMembership",
        ],
        SOCIAL,
    ),
    **dict.fromkeys(
        [
            "Financial",
            "FinancialAccount",
            "BankAccount",
            "PaymentCard",
            "IncomeBracket",
            "Credit",
            "CreditScore",
            "Transaction",
            "Purchase",
            "PurchasesAndSpendingHabit",
            "Sale",
        ],
        FINANCIAL,
    ),
    **dict.fromkeys(
        [
            "Behavioural",
            "BrowsingBehaviour",
            "ServiceConsumptionBehaviour",
            "Favourite",
            "FavouriteFood",
            "Preference",
            "Like",
            "Dislike",
            "Interest",
            "Intention",
            "Opinion",
            "TravelHistory",
        ],
        BEHAVIORAL,
    ),
    **dict.fromkeys(["Profile", "IndividualProfile", "GroupProfile", "InferredPersonalData"], PROFILING),
    **dict.fromkeys(["IPAddress", "UserAgent", "DeviceBased", "BrowserFingerprint", "MACAddress"], NETWORK),
}
CHANNEL_PII = {"email": CONTACT, "sms": CONTACT, "phone": CONTACT, "post": CONTACT, "push": NETWORK}


def purpose_categories(dpv: str | None, basis: str | None) -> list[str]:
    return [PURPOSE_CATEGORIES.get(dpv or "") or BASIS_CATEGORIES.get(basis or "consent", CORE)]


def pii_categories(program: rules.Program | None, purpose: str, channel: str) -> list[str]:
    """Membership always; the channel's address; each field declared for the purpose."""
    found = [MEMBERSHIP]
    if channel in CHANNEL_PII:
        found.append(CHANNEL_PII[channel])
    for info in program.fields if program else []:
        if purpose in info.purposes:
            found.append(PII_CATEGORIES.get(info.category or "", BIOGRAPHICAL))
    return sorted(set(found), key=lambda label: int(label.split(" ")[0]))


def receipt_events(events: list[ConsentEvent]) -> list[ConsentEvent]:
    """Grants that took effect (at once or by confirmation) and withdrawals."""
    return [
        e for e in events if (e.action in ("grant", "confirm") and e.state == GRANTED) or e.state == WITHDRAWN
    ]


def build_receipt(
    event: ConsentEvent,
    *,
    notice: PurposeNotice | None,
    program: rules.Program | None,
    settings: Settings,
    policy_url: str,
) -> dict[str, Any]:
    basis = notice.basis if notice else "consent"
    text = notice.text if notice else event.purpose
    withdrawn = event.state == WITHDRAWN
    when = event.occurred_at.strftime("%Y-%m-%d %H:%M UTC")
    controller_name, _, controller_mail = settings.mail_from.partition("<")
    purpose_text = f"{notice.title}: {text}" if notice else text
    if event.channel:
        purpose_text += f" (channel: {event.channel})"
    return {
        "version": VERSION,
        "jurisdiction": JURISDICTION,
        "consentTimestamp": int(event.occurred_at.timestamp()),
        "collectionMethod": f"{'withdrawal' if withdrawn else event.method} via {event.source}",
        "consentReceiptID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"loyalty:consent-event:{event.hash}")),
        "language": "en",
        "piiPrincipalId": f"member:{event.member_id}",
        "piiControllers": [
            {
                "piiController": controller_name.strip() or "Loyalty programme",
                "contact": "Data protection officer",
                "address": {},
                "email": controller_mail.rstrip(">").strip() or settings.mail_from,
                "phone": "",
            }
        ],
        "policyUrl": policy_url,
        "services": [
            {
                "service": "Loyalty programme",
                "purposes": [
                    {
                        "purpose": purpose_text,
                        "consentType": "EXPLICIT" if basis == "consent" else "N/A",
                        "purposeCategory": purpose_categories(notice.dpv if notice else None, basis),
                        "piiCategory": pii_categories(program, event.purpose, event.channel),
                        "primaryPurpose": basis == "contract",
                        "termination": f"Withdrawn on {when}"
                        if withdrawn
                        else "Until withdrawn by the member",
                        "thirdPartyDisclosure": False,
                    }
                ],
            }
        ],
        "sensitive": False,
        "spiCat": [],
    }


def member_receipts(
    session: Any, *, member_id: int, settings: Settings, base_url: str
) -> list[dict[str, Any]]:
    """Every receipt of the member, oldest first, each built from the notice the member saw."""
    from loyalty.consent import repository
    from loyalty.program import service as program_service

    published = program_service.current(session)
    program = published.program if published else None
    notices: dict[tuple[str, str], PurposeNotice | None] = {}
    receipts = []
    for event in receipt_events(repository.events_of(session, member_id)):
        key = (event.purpose, event.notice_version)
        if key not in notices:
            notices[key] = program_service.notice(
                session, purpose=event.purpose, version=event.notice_version
            )
        receipts.append(
            build_receipt(
                event,
                notice=notices[key],
                program=program,
                settings=settings,
                policy_url=f"{base_url.rstrip('/')}/privacy",
            )
        )
    return receipts
