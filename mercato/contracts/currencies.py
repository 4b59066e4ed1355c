"""ISO 4217: the currencies money may be in, with the number of digits of their minor unit.

The active codes of ISO 4217 list one (as of 2025): the currencies in circulation somewhere. Left out on
purpose: the codes that are not money one pays with — precious metals (XAU, XAG, XPD, XPT), bond-market
and IMF units (XBA to XBD, XDR, XSU, XUA), fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW), and
the testing and "no currency" codes XTS and XXX — and withdrawn ones (HRK, SLL, ZWL, ANG, CUC…).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

# By digits of the minor unit (EUR 2: amounts are in cents; JPY 0: in yen; KWD 3: in fils).
_TWO_DIGITS = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CNY
    COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF
    IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR
    MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG
    SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VED VES
    WST XCD XCG YER ZAR ZMW ZWG
"""
_NO_DIGITS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF"
_THREE_DIGITS = "BHD IQD JOD KWD LYD OMR TND"

MINOR_UNITS: dict[str, int] = {
    code: digits
    for codes, digits in ((_TWO_DIGITS, 2), (_NO_DIGITS, 0), (_THREE_DIGITS, 3))
    for code in codes.split()
}
"""Code -> digits of its minor unit, for every currency money may be in."""
CODES = tuple(sorted(MINOR_UNITS))


class _IsoCurrency:
    """A currency code: three capital letters that ISO 4217 lists as an active currency."""

    def _check(self, value: str) -> str:
        if value not in MINOR_UNITS:
            raise PydanticCustomError(
                "currency", "must be an ISO 4217 currency code in capitals, such as EUR"
            )
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(schema) | {"enum": list(CODES), "examples": ["EUR"]}


Currency = Annotated[str, _IsoCurrency()]
