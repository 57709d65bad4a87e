"""What counts as a domain an organization can own, and its one spelling."""

import pytest

from app.domains.names import (
    DomainRefused,
    domain_of_email,
    is_consumer_mail_domain,
    normalized_domain,
)


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("techcorp.com", "techcorp.com"),
        ("  TechCorp.COM  ", "techcorp.com"),
        ("techcorp.com.", "techcorp.com"),
        ("mail.eu.techcorp.co.uk", "mail.eu.techcorp.co.uk"),
        ("Bücher.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("münchen.de", "xn--mnchen-3ya.de"),
    ],
)
def test_domains_are_kept_in_their_dns_spelling(raw: str, kept: str) -> None:
    assert normalized_domain(raw) == kept


@pytest.mark.parametrize(
    "raw",
    [
        "",
        ".",
        "localhost",
        "192.0.2.1",
        "2001:db8::1",
        "[2001:db8::1]",
        "techcorp.com:443",
        "https://techcorp.com",
        "techcorp.com/path",
        "admin@techcorp.com",
        "tech corp.com",
        "-techcorp.com",
        "techcorp-.com",
        "tech..corp.com",
        "tech_corp.com",
        "a" * 64 + ".com",
        ".".join(["abcdefghi"] * 26) + ".com",
        "techcorp.123",
    ],
)
def test_what_is_no_ownable_domain_is_refused(raw: str) -> None:
    with pytest.raises(DomainRefused) as refused:
        normalized_domain(raw)
    assert refused.value.location == ("body", "domain")


@pytest.mark.parametrize(
    "domain", ["gmail.com", "outlook.com", "yahoo.com", "proton.me", "gmx.de", "mail.gmail.com"]
)
def test_consumer_mail_domains_are_known(domain: str) -> None:
    assert is_consumer_mail_domain(domain)


@pytest.mark.parametrize("domain", ["techcorp.com", "example.org", "gmail.com.techcorp.com"])
def test_company_domains_are_not_consumer_ones(domain: str) -> None:
    assert not is_consumer_mail_domain(domain)


def test_an_email_address_gives_its_domain_in_the_same_spelling() -> None:
    assert domain_of_email("Alice@TechCorp.com") == "techcorp.com"
    assert domain_of_email("jörg@Bücher.example") == "xn--bcher-kva.example"
    assert domain_of_email("root@localhost") is None
