"""Request and response bodies of the billing endpoints."""

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)

from app.access.credentials import Email
from app.billing.models import BillingChanges, PostalAddress
from app.billing.service import BillingView
from app.kit.names import MAX_RAW_NAME_LENGTH, name_rule
from app.kit.request_body import RequestBody
from app.plans import Plan

# ISO 3166-1 alpha-2: the 249 officially assigned codes (user-assigned ones such as XK are not).
_ASSIGNED_COUNTRY_CODES = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
ISO_COUNTRY_CODES = frozenset(_ASSIGNED_COUNTRY_CODES.split())


def _check_country(value: str) -> str:
    if value not in ISO_COUNTRY_CODES:
        raise ValueError(f"country {value!r} is not an assigned ISO 3166-1 alpha-2 code")
    return value


# Printed on invoices: the rule of every name (whitespace collapsed, not empty, no control or
# invisible characters), each with its own length.
AddressLine = Annotated[str, Field(max_length=MAX_RAW_NAME_LENGTH), name_rule(200)]
PlaceName = Annotated[str, Field(max_length=MAX_RAW_NAME_LENGTH), name_rule(100)]
PostalCode = Annotated[str, Field(max_length=MAX_RAW_NAME_LENGTH), name_rule(20)]
CountryCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166-1 alpha-2 code, upper case.",
        examples=["DE"],
    ),
    AfterValidator(_check_country),
]
StripeCustomerId = Annotated[
    str, Field(pattern=r"^cus_[A-Za-z0-9]{1,64}$", examples=["cus_NffrFeUfNV2Hib"])
]
LagoCustomerId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,128}$", examples=["acme-corp_42"])]


class BillingAddressBody(RequestBody):
    """A whole postal address: sending one replaces the stored one entirely."""

    line1: AddressLine
    line2: AddressLine | None = None
    city: PlaceName
    postal_code: PostalCode
    region: PlaceName | None = None
    country: CountryCode

    def to_address(self) -> PostalAddress:
        return PostalAddress(
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            postal_code=self.postal_code,
            region=self.region,
            country=self.country,
        )


class BillingUpdate(RequestBody):
    """Only the fields present change; `null` clears an optional one."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"plan": "pro", "billing_email": "billing@techcorp.com"},
                {
                    "billing_address": {
                        "line1": "Friedrichstraße 68",
                        "city": "Berlin",
                        "postal_code": "10117",
                        "country": "DE",
                    },
                    "stripe_customer_id": "cus_NffrFeUfNV2Hib",
                },
                {"lago_customer_id": None},
            ]
        }
    )

    plan: Plan | None = Field(
        default=None,
        description=(
            "The new plan; refused (409) when its member limit is below the organization's "
            "members plus pending invitations. Cannot be null."
        ),
    )
    billing_email: Email | None = None
    billing_address: BillingAddressBody | None = Field(
        default=None, description="Replaces the whole address; null removes it."
    )
    stripe_customer_id: StripeCustomerId | None = None
    lago_customer_id: LagoCustomerId | None = None

    @field_validator("plan", mode="before")
    @classmethod
    def _plan_is_never_null(cls, value: object) -> object:
        # Runs only for a value that was sent: an absent plan stays unchanged.
        if value is None:
            raise ValueError("plan cannot be null; choose free, pro or enterprise")
        return value

    def changes(self) -> BillingChanges:
        sent = self.model_fields_set
        changes: BillingChanges = {}
        if self.plan is not None:
            changes["plan"] = self.plan
        if "billing_email" in sent:
            changes["billing_email"] = self.billing_email
        if "billing_address" in sent:
            address = self.billing_address
            changes["billing_address"] = address.to_address() if address else None
        if "stripe_customer_id" in sent:
            changes["stripe_customer_id"] = self.stripe_customer_id
        if "lago_customer_id" in sent:
            changes["lago_customer_id"] = self.lago_customer_id
        return changes


class BillingAddressRead(BaseModel):
    line1: str
    line2: str | None
    city: str
    postal_code: str
    region: str | None
    country: str

    @classmethod
    def of(cls, address: PostalAddress) -> "BillingAddressRead":
        return cls(
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            postal_code=address.postal_code,
            region=address.region,
            country=address.country,
        )


class BillingRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "plan": "pro",
                    "member_limit": 50,
                    "billing_email": "billing@techcorp.com",
                    "billing_address": {
                        "line1": "Friedrichstraße 68",
                        "line2": None,
                        "city": "Berlin",
                        "postal_code": "10117",
                        "region": None,
                        "country": "DE",
                    },
                    "stripe_customer_id": "cus_NffrFeUfNV2Hib",
                    "lago_customer_id": None,
                }
            ]
        }
    )

    plan: Plan
    member_limit: int | None = Field(
        description="Members, pending invitations included, the plan allows; null: no limit."
    )
    billing_email: str | None
    billing_address: BillingAddressRead | None
    stripe_customer_id: str | None
    lago_customer_id: str | None

    @classmethod
    def of(cls, view: BillingView) -> "BillingRead":
        record = view.record
        address = record.billing_address
        return cls(
            plan=view.plan,
            member_limit=view.member_limit,
            billing_email=record.billing_email,
            billing_address=BillingAddressRead.of(address) if address else None,
            stripe_customer_id=record.stripe_customer_id,
            lago_customer_id=record.lago_customer_id,
        )
