"""Redirect targets of the front ends: on our own host, always a path; never protocol-relative."""

from __future__ import annotations

import pytest

from mercato.webkit.redirects import site_path


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("http://evil.example.com/cart", "/cart"),  # built from the Host header: made a path
        ("http://EVIL.example.com/cart?x=1#top", "/cart?x=1#top"),
        ("http://evil.example.com//other.example.com/", "/other.example.com/"),  # not //other...
        ("http://evil.example.com/\\\\other.example.com", "/other.example.com"),
        ("/\\\\other.example.com", "/other.example.com"),
        ("/login?next=%2Fcart", "/login?next=%2Fcart"),
        ("https://checkout.stripe.com/pay", "https://checkout.stripe.com/pay"),  # someone else's host
        ("next-page", "next-page"),
    ],
)
def test_a_redirect_on_the_requested_host_becomes_a_path_on_the_site(location, expected):
    assert site_path(location, host="evil.example.com") == expected
