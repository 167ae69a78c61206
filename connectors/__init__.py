"""Connector registry by key, with discovery through the `gudok.connectors` entry points."""

from __future__ import annotations

import functools
import logging
import sys
from importlib.metadata import entry_points

from connectors.base import CAPABILITIES, Connector
from connectors.partner import PartnerConnector
from connectors.saleor import SaleorConnector

ENTRY_POINT_GROUP = "gudok.connectors"
log = logging.getLogger("gudok.connectors")

_BUILT_IN: tuple[type[Connector], ...] = (SaleorConnector, PartnerConnector)


class UnknownConnector(LookupError):
    pass


def registry() -> dict[str, type[Connector]]:
    """Built-in connectors plus those other installed packages declare.

    An outside connector that fails to load, is not a Connector, declares an unknown
    capability or reuses a taken key is left out with a warning, never taking the hub down.
    Discovery reads every installed package's metadata (milliseconds), so it runs once per
    import path: every webhook and listing asks for a connector."""
    return dict(_discover(tuple(sys.path)))


@functools.lru_cache(maxsize=8)
def _discover(_path: tuple[str, ...]) -> dict[str, type[Connector]]:
    found: dict[str, type[Connector]] = {c.key: c for c in _BUILT_IN}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            connector = entry.load()
        except Exception as error:  # noqa: BLE001 - a broken plugin must not stop the hub
            log.warning("connector entry point %s failed to load: %s", entry.name, error)
            continue
        if not (isinstance(connector, type) and issubclass(connector, Connector)):
            log.warning("connector entry point %s is not a Connector class", entry.name)
            continue
        unknown = set(connector.capabilities) - set(CAPABILITIES)
        if unknown:
            log.warning("connector %s declares unknown capabilities %s", entry.name,
                        sorted(unknown))
            continue
        if connector.key in found:
            if found[connector.key] is not connector:
                log.warning("connector key %r of %s is taken; ignored", connector.key,
                            entry.name)
            continue
        found[connector.key] = connector
    return found


def get_connector(key: str) -> type[Connector]:
    try:
        return _discover(tuple(sys.path))[key]
    except KeyError:
        raise UnknownConnector(key) from None
