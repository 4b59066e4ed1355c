"""The Mercato shopping app (Toga). It talks only to the gateway: /mobile/v1 and the shopper's /api/v1."""
