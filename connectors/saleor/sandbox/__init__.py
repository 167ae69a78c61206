"""A local Saleor-like mall for the demo and the integration tests.

It executes the real Saleor schema (`shared/reference/saleor/schema.graphql`) with
graphql-core and in-memory resolvers, enforces app tokens and permissions, performs the
app install handshake, signs the webhooks it sends (JWKS at /.well-known/jwks.json) and can
be told to inject faults. It binds to and calls loopback addresses only.

    with SaleorSandbox() as mall:
        app = mall.install_app("http://127.0.0.1:5000/saleor/manifest")
        ...
"""

from __future__ import annotations

from connectors.saleor.sandbox.faults import Faults
from connectors.saleor.sandbox.install import InstalledApp, InstallError
from connectors.saleor.sandbox.net import NotLoopback
from connectors.saleor.sandbox.orders import OrderError
from connectors.saleor.sandbox.schema import (
    SALEOR_VERSION,
    from_global_id,
    load_schema,
    reference_schema_path,
    to_global_id,
)
from connectors.saleor.sandbox.server import SaleorSandbox
from connectors.saleor.sandbox.webhooks import Delivery

__all__ = [
    "SALEOR_VERSION", "Delivery", "Faults", "InstallError", "InstalledApp", "NotLoopback",
    "OrderError", "SaleorSandbox", "from_global_id", "load_schema", "reference_schema_path",
    "to_global_id",
]
