"""libpq connection URLs, multi-host ones included, read and rewritten the way libpq reads them.

`postgresql://reader@standby:5432,primary:5432/db?target_session_attrs=prefer-standby` names
several servers; libpq and psycopg try them in order (or shuffled, `load_balance_hosts=random`)
and keep the first whose state `target_session_attrs` accepts. SQLAlchemy's URL parser reads
one host and one port, so every URL this project handles goes through here instead.
"""

from __future__ import annotations

import urllib.parse

from psycopg.conninfo import conninfo_to_dict

SCHEMES = ("postgresql+psycopg://", "postgresql://", "postgres://")


def _split(url: str) -> tuple[str, str, str, str]:
    """Return (scheme, userinfo, hosts, rest: '/db?query') of a postgresql URL."""
    for scheme in SCHEMES:
        if url.startswith(scheme):
            break
    else:
        raise ValueError("not a postgresql:// URL")
    after = url[len(scheme) :]
    cut = min((i for i in (after.find("/"), after.find("?")) if i >= 0), default=len(after))
    netloc, rest = after[:cut], after[cut:]
    userinfo, at, hosts = netloc.rpartition("@")
    return scheme, userinfo if at else "", hosts, rest


def params(url: str) -> dict[str, str]:
    """Return the libpq parameters of `url` (host and port comma-separated when several)."""
    _split(url)
    libpq = "postgresql://" + url.split("://", 1)[1]
    return {k: str(v) for k, v in conninfo_to_dict(libpq).items()}


def servers(url: str) -> list[tuple[str, str]]:
    """Return the (host, port) pairs `url` names, in order; '' where libpq's default applies."""
    p = params(url)
    hosts = p.get("host", "").split(",")
    ports = p.get("port", "").split(",")
    if len(ports) == 1:  # one port for every host, as libpq reads it
        ports = ports * len(hosts)
    return list(zip(hosts, ports, strict=False))


def is_multi_host(url: str) -> bool:
    """Return whether `url` names more than one server."""
    return len(servers(url)) > 1


def describe(url: str) -> str:
    """Return where `url` points, without credentials: host:port[,host:port]/db or the socket."""
    p = params(url)
    where = ",".join(f"{h or 'local socket'}{':' + port if port else ''}" for h, port in servers(url))
    attrs = p.get("target_session_attrs")
    return f"{where}/{p.get('dbname', '')}" + (f" ({attrs})" if attrs and attrs != "any" else "")


def with_query(url: str, **values: str | None) -> str:
    """Return `url` with these query parameters set (None: removed), the others kept in order."""
    head, _, query = url.partition("?")
    pairs = [(k, v) for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True) if k not in values]
    pairs += [(k, v) for k, v in values.items() if v is not None]
    return head + ("?" + urllib.parse.urlencode(pairs) if pairs else "")


def with_user(url: str, user: str, password: str | None = None) -> str:
    """Return `url` connecting as `user` (with `password`, if any) instead of its own user."""
    scheme, _, hosts, rest = _split(url)
    userinfo = urllib.parse.quote(user, safe="")
    if password is not None:
        userinfo += ":" + urllib.parse.quote(password, safe="")
    return f"{scheme}{userinfo}@{hosts}{rest}"


def primary_url(url: str) -> str:
    """Return `url` accepting only a server that takes writes: the primary, whichever host it is.

    What writes (migrate, seed) and what must hear every notification (LISTEN) connects
    through this: among several hosts libpq then skips the standbys, and on one host a standby
    is refused at connect time with a clear reason instead of failing at the first write."""
    return with_query(url, target_session_attrs="read-write")


def sqlalchemy_url(url: str) -> str:
    """Return the SQLAlchemy form of a libpq URL, with the psycopg 3 driver; several hosts as
    SQLAlchemy spells them (`?host=h1,h2&port=p1,p2`), since its parser reads one netloc port."""
    scheme, userinfo, _, rest = _split(url)
    if not is_multi_host(url):
        return "postgresql+psycopg://" + url[len(scheme) :]
    pairs = servers(url)
    ports = {"port": ",".join(port or "5432" for _, port in pairs)} if any(port for _, port in pairs) else {}
    path, _, query = rest.partition("?")
    base = f"postgresql+psycopg://{userinfo + '@' if userinfo else ''}{path or '/'}"
    return with_query(base + (f"?{query}" if query else ""), host=",".join(h for h, _ in pairs), **ports)
