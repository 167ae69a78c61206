"""The suite's own guard: no test looks up a name off loopback (a DNS query leaves the
machine), and the hub under test is closed to everything but its allow-list."""

from __future__ import annotations

import socket

import pytest

from connectors.http import client_for
from hub.errors import ConfigurationError
from hub.settings import load_settings
from tests.conftest import LOOKUPS_REFUSED, app_config


def test_a_lookup_off_loopback_is_refused_and_named() -> None:
    with pytest.raises(socket.gaierror, match="test guard: mall.example.kr not looked up"):
        socket.getaddrinfo("mall.example.kr", 443)
    assert LOOKUPS_REFUSED == ["mall.example.kr"]
    LOOKUPS_REFUSED.clear()  # the one lookup this test made on purpose
    for loopback in ("localhost", "127.0.0.1", "::1", "2130706433"):
        assert socket.getaddrinfo(loopback, 80)


def test_the_hub_under_test_refuses_a_name_off_its_list_without_looking_it_up() -> None:
    settings = load_settings(app_config("sqlite://", outbound_allow_hosts=["127.0.0.1"]),
                             environ={})
    with client_for(settings, 1) as http, pytest.raises(ConfigurationError, match="refused"):
        http.request("GET", "https://mall.hanbit.example.kr/graphql/")
    assert LOOKUPS_REFUSED == []
