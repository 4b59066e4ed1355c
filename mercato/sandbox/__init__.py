"""Local stand-ins for Mercato's external providers, speaking the providers' own wire protocols.

They exist so that local runs and tests exercise the real client code (the official SDKs) rather than
mock objects: `payments` answers the Stripe REST API subset that Mercato's payments service uses.
They are not Mercato services: nothing here imports `mercato.platform` or a service, only the topology.
"""
