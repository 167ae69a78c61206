"""Connector registry by key, with discovery through the `gudok.connectors` entry points."""

from __future__ import annotations

from importlib.metadata import entry_points

from connectors.base import Connector
from connectors.partner import PartnerConnector
from connectors.saleor import SaleorConnector

ENTRY_POINT_GROUP = "gudok.connectors"

_BUILT_IN: tuple[type[Connector], ...] = (SaleorConnector, PartnerConnector)


class UnknownConnector(LookupError):
    pass


def registry() -> dict[str, type[Connector]]:
    """Built-in connectors plus those other installed packages declare."""
    found: dict[str, type[Connector]] = {c.key: c for c in _BUILT_IN}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        connector = entry.load()
        if isinstance(connector, type) and issubclass(connector, Connector):
            found.setdefault(connector.key, connector)
    return found


def get_connector(key: str) -> type[Connector]:
    try:
        return registry()[key]
    except KeyError:
        raise UnknownConnector(key) from None
