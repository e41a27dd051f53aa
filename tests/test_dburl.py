"""libpq URLs with several hosts are read as libpq reads them, and rewritten without losing a part."""

from __future__ import annotations

import psycopg.conninfo
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from app import dburl
from app.config import Settings
from app.dburl import sqlalchemy_url
from app.roles import as_role

MULTI = "postgresql://reader:s%40cret@standby:5442,127.0.0.1:5441/trade?target_session_attrs=prefer-standby&load_balance_hosts=random"


def driver_args(url: str) -> dict[str, object]:
    """Return what SQLAlchemy's psycopg dialect would hand psycopg.connect for `url`."""
    sa_url = sqlalchemy_url(url)
    _, kwargs = create_engine(sa_url).dialect.create_connect_args(make_url(sa_url))
    return {k: v for k, v in kwargs.items() if k != "context"}


def test_settings_accept_a_multi_host_url() -> None:
    assert Settings(api_database_url=MULTI).api_database_url == MULTI


def test_sqlalchemy_gets_every_host_port_and_parameter() -> None:
    assert driver_args(MULTI) == {
        "user": "reader",
        "password": "s@cret",
        "dbname": "trade",
        "host": "standby,127.0.0.1",
        "port": "5442,5441",
        "target_session_attrs": "prefer-standby",
        "load_balance_hosts": "random",
    }


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@db.example:6432/x",
        "postgres://postgres:@/postgres?host=/run/pg",
        "postgresql://u@h/x?sslmode=require",
    ],
)
def test_single_host_urls_reach_sqlalchemy_as_before(url: str) -> None:
    assert sqlalchemy_url(url) == "postgresql+psycopg://" + url.split("://", 1)[1]


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("postgresql://u@/x?host=a,b&port=6000", "a,b", "6000,6000"),
        ("postgresql://u@a,b:6000/x", "a,b", "5432,6000"),
    ],
)
def test_every_spelling_of_several_hosts_reaches_psycopg(url: str, host: str, port: str) -> None:
    args = driver_args(url)
    assert (args["host"], args["port"]) == (host, port)


def test_primary_url_asks_for_a_server_taking_writes_and_keeps_the_rest() -> None:
    primary = psycopg.conninfo.conninfo_to_dict(dburl.primary_url(MULTI))
    assert primary == {
        **psycopg.conninfo.conninfo_to_dict(MULTI),
        "target_session_attrs": "read-write",
    }


def test_as_role_swaps_the_user_on_a_multi_host_url() -> None:
    swapped = psycopg.conninfo.conninfo_to_dict(as_role(MULTI, "tradegraph_reader", "p@ss/word"))
    assert swapped["user"] == "tradegraph_reader" and swapped["password"] == "p@ss/word"
    assert (swapped["host"], swapped["port"], swapped["dbname"]) == ("standby,127.0.0.1", "5442,5441", "trade")


def test_describe_names_every_server_and_no_password() -> None:
    described = dburl.describe(MULTI)
    assert described == "standby:5442,127.0.0.1:5441/trade (prefer-standby)"
    assert "s@cret" not in described and "s%40cret" not in described


def test_servers_reads_one_port_for_every_host_as_libpq_does() -> None:
    assert dburl.servers("postgresql://u@/x?host=a,b&port=6000") == [("a", "6000"), ("b", "6000")]
    assert dburl.servers("postgresql://u@a,b:6000/x") == [("a", ""), ("b", "6000")]  # a: the default port
    assert dburl.is_multi_host("postgresql://u@a,b:6000/x")
    assert not dburl.is_multi_host("postgresql://u@a:6000/x")


def test_a_url_of_another_kind_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="postgresql://"):
        dburl.primary_url("mysql://u@h/x") and dburl.with_user("mysql://u@h/x", "v")
