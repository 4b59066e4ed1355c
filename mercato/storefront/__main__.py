"""`python -m mercato.storefront`: serve the storefront on its own port (from the topology)."""

from __future__ import annotations

import uvicorn

from mercato.storefront.settings import StorefrontSettings


def main() -> None:
    settings = StorefrontSettings()
    uvicorn.run(
        "mercato.storefront.app:app",
        host=settings.host,
        port=settings.port,
        proxy_headers=False,
        server_header=False,
        access_log=settings.access_log,
    )


if __name__ == "__main__":
    main()
