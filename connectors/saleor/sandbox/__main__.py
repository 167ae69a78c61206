"""Runs the sandbox mall standalone: python -m connectors.saleor.sandbox --port 8010"""

from __future__ import annotations

import argparse
import threading

from connectors.saleor.sandbox import InstallError, SaleorSandbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connectors.saleor.sandbox",
                                     description="A local Saleor-like mall (loopback only).")
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--install", metavar="MANIFEST_URL",
                        help="install the app serving this manifest once started")
    args = parser.parse_args(argv)
    sandbox = SaleorSandbox(host=args.host, port=args.port).start()
    print(f"Saleor sandbox at {sandbox.graphql_url}  (JWKS {sandbox.jwks_url}, "
          f"control {sandbox.url}/__sandbox__/)", flush=True)
    if args.install:
        try:
            app = sandbox.install_app(args.install)
        except InstallError as failure:
            print(f"install failed: {failure}", flush=True)
        else:
            print(f"installed {app.name} ({app.id}) with {', '.join(app.permissions)}",
                  flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
