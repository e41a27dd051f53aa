#!/bin/bash
# The scale profile's standby: cloned from the primary once (pg_basebackup -R writes the
# standby.signal and primary_conninfo), then a hot standby streaming from it.
set -euo pipefail
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
mkdir -p "$PGDATA"
chown postgres:postgres "$PGDATA"
chmod 0700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until gosu postgres pg_basebackup -h "$PRIMARY_HOST" -U "$PGUSER" -D "$PGDATA" -R -X stream -c fast; do
    echo "standby: waiting for the primary at $PRIMARY_HOST"
    rm -rf "${PGDATA:?}"/*
    sleep 2
  done
fi
exec gosu postgres postgres -c hot_standby=on -c hot_standby_feedback=on
