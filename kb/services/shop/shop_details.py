"""The shop's own details for printed pages and mail: legal name, business ID and addresses.

They are shop settings (``legal_name``, ``business_id``, ``shop_address``,
``return_address``), edited by admins; an address is stored as lines separated by
newlines. The invoice (HTML and PDF) and the return instructions read them here, so
both print the same seller.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kb.services.errors import InvalidInput
from kb.services.shop.channels import get_setting

#: A Finnish business ID (Y-tunnus): seven digits, a dash and a check digit.
BUSINESS_ID = re.compile(r"^\d{7}-\d$")
ADDRESS_MAX = 300
ADDRESS_LINES = 6


@dataclass(frozen=True)
class ShopDetails:
    """Who the seller is and where returns go."""

    name: str
    legal_name: str
    business_id: str
    address: tuple[str, ...]
    return_address: tuple[str, ...]

    def pdf_fields(self) -> dict[str, str]:
        """The ``shop`` mapping that :func:`kb.services.orders.invoices.invoice_pdf` reads."""
        return {"name": self.name, "legal_name": self.legal_name, "business_id": self.business_id,
                "address": ", ".join(self.address)}


def address_lines(value: str) -> tuple[str, ...]:
    """Non-empty, stripped lines of a stored address."""
    return tuple(line.strip() for line in (value or "").splitlines() if line.strip())


def shop_details(session: Session, *, default_name: str) -> ShopDetails:
    """The seller's details from the shop settings; the return address falls back to the shop's own."""
    name = get_setting(session, "shop_name") or default_name
    address = address_lines(get_setting(session, "shop_address"))
    legal_name = get_setting(session, "legal_name") or name
    returns = address_lines(get_setting(session, "return_address"))
    if not returns and address:
        returns = (legal_name, *address)
    return ShopDetails(name=name, legal_name=legal_name, business_id=get_setting(session, "business_id"),
                       address=address, return_address=returns)


def clean_address(value: str, *, field: str) -> str:
    """An address as stored: stripped lines; InvalidInput when too long."""
    lines = address_lines(value)
    text = "\n".join(lines)
    if len(text) > ADDRESS_MAX or len(lines) > ADDRESS_LINES:
        raise InvalidInput(f"at most {ADDRESS_LINES} lines and {ADDRESS_MAX} characters", field=field)
    return text


def clean_business_id(value: str) -> str:
    """A business ID in the form 1234567-8, or empty; InvalidInput otherwise."""
    value = (value or "").strip()
    if value and not BUSINESS_ID.match(value):
        raise InvalidInput("a business ID looks like 1234567-8", field="business_id")
    return value
