"""`python -m mercato.admin`: serve the admin app on its own port (from the topology)."""

from __future__ import annotations

import uvicorn

from mercato.admin.settings import AdminSettings


def main() -> None:
    settings = AdminSettings()
    uvicorn.run(
        "mercato.admin.app:app",
        host=settings.host,
        port=settings.port,
        proxy_headers=False,
        server_header=False,
        access_log=settings.access_log,
    )


if __name__ == "__main__":
    main()
