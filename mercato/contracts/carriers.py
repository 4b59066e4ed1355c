"""The parcel carriers Mercato knows: one table for orders (which names a shipment's carrier and links
its tracking page), notifications (the shipping e-mail) and the admin app (the carrier choices).

A shipment's `carrier` is stored and published as the table's display name (`DHL`, `Royal Mail`);
orders accepts the name or the code in any case and stores the name. A carrier that is not in the
table (a local courier) is kept as typed and has no tracking link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import quote


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    tracking_url: str | None
    """The carrier's public tracking page, `{number}` standing for the tracking number."""

    def tracking_link(self, tracking_number: str) -> str | None:
        if not self.tracking_url:
            return None
        return self.tracking_url.format(number=quote(tracking_number, safe=""))


CARRIERS: Final[tuple[Carrier, ...]] = (
    Carrier("dhl", "DHL", "https://www.dhl.com/global-en/home/tracking.html?tracking-id={number}&submit=1"),
    Carrier("dpd", "DPD", "https://tracking.dpd.de/status/en_US/parcel/{number}"),
    Carrier("ups", "UPS", "https://www.ups.com/track?tracknum={number}"),
    Carrier("fedex", "FedEx", "https://www.fedex.com/fedextrack/?trknbr={number}"),
    Carrier("gls", "GLS", "https://gls-group.com/GROUP/en/parcel-tracking?match={number}"),
    Carrier("hermes", "Hermes", "https://www.myhermes.de/empfangen/sendungsverfolgung/?suche={number}"),
    Carrier("postnl", "PostNL", "https://jouw.postnl.nl/track-and-trace/{number}"),
    Carrier(
        "royal_mail", "Royal Mail", "https://www.royalmail.com/track-your-item#/tracking-results/{number}"
    ),
    Carrier("usps", "USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}"),
    Carrier("la_poste", "La Poste", "https://www.laposte.fr/outils/suivre-vos-envois?code={number}"),
    Carrier("other", "Other", None),
)

_BY_KEY: Final[dict[str, Carrier]] = {
    key: carrier for carrier in CARRIERS for key in (carrier.code, carrier.name.casefold())
}


def find_carrier(name_or_code: str | None) -> Carrier | None:
    """The table's carrier for a code or a display name, in any case and spacing; None if unknown."""
    if not name_or_code:
        return None
    key = " ".join(name_or_code.split()).casefold()
    return _BY_KEY.get(key) or _BY_KEY.get(key.replace(" ", "_"))


def carrier_name(name_or_code: str) -> str:
    """The display name of a known carrier; anything else as given."""
    found = find_carrier(name_or_code)
    return found.name if found else name_or_code


def tracking_link(carrier: str | None, tracking_number: str | None) -> str | None:
    """The carrier's tracking page for this parcel, if the carrier is known and has one."""
    found = find_carrier(carrier)
    return found.tracking_link(tracking_number) if found and tracking_number else None
