"""The promotions engine: which cart promotions apply to a quote's lines and shipping, and what each takes
off — pure, no I/O; `pricing.quote` calls it before tax (docs/money.md, "Discounts").

1. Candidates: the `Offers` (live automatic promotions and the promotions of the cart's codes; sales are
   catalog's, already in the unit prices), weighed by priority (higher first), then id.
2. Each is checked against its conditions (eligibility.py); one that fails is rejected with its reason.
3. Stacking: a promotion is applied if nothing is applied yet, or if it and everything applied so far
   combine; otherwise it is rejected as `not-combinable`, naming the promotion in its way. So a higher
   exclusive promotion blocks the rest, and an exclusive one after a combinable one is rejected.
4. Each applied action works on what is left of the lines (and shipping) after those before it
   (actions.py); the lines' shares sum exactly to what it took off.
5. Every code on the cart is accounted for, in the order entered: applied (and what it took off), or
   rejected with a reason the shopper reads (the I/O layer's refusals passed through).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mercato.services.orders.promotions import actions
from mercato.services.orders.promotions.eligibility import (
    GIFT_CARD,
    Cart,
    Item,
    Rejection,
    check,
    eligible,
    not_combinable,
)
from mercato.services.orders.promotions.rules import AppliedDiscount, CodeOutcome, Offer, Offers, Promotion

__all__ = ["GIFT_CARD", "Item", "Outcome", "apply"]


@dataclass(frozen=True)
class Outcome:
    discounts: tuple[AppliedDiscount, ...]
    codes: tuple[CodeOutcome, ...]
    line_discounts: tuple[int, ...]  # per item, in the items' order: Σ of the promotions' shares
    shipping_discount: int

    @property
    def total(self) -> int:
        return sum(self.line_discounts) + self.shipping_discount


def _order(offers: Offers) -> list[Offer]:
    position = {code: i for i, code in enumerate(offers.codes)}
    cart_offers = [o for o in offers.offers if o.promotion.trigger != "sale"]
    return sorted(
        cart_offers,
        key=lambda o: (-o.promotion.priority, o.promotion.id, position.get(o.code or "", -1)),
    )


def _blocker(promotion: Promotion, applied: Sequence[Promotion]) -> Promotion | None:
    """The applied promotion that keeps `promotion` out, if any."""
    if not applied:
        return None
    if any(p.id == promotion.id for p in applied):
        return next(p for p in applied if p.id == promotion.id)
    if not promotion.combines:
        return applied[0]
    return next((p for p in applied if not p.combines), None)


def apply(items: Sequence[Item], *, shipping: int, market_id: str, currency: str, offers: Offers) -> Outcome:
    """The cart promotions of `offers` applied to `items` and the chosen method's `shipping` charge."""
    cart = Cart(items, market_id, currency, offers.first_order, offers.at)
    left = [item.amount for item in items]
    shipping_left = shipping
    applied: list[Promotion] = []
    discounts: list[AppliedDiscount] = []
    by_code: dict[str, CodeOutcome] = {}
    for offer in _order(offers):
        promotion = offer.promotion
        label = offer.code or promotion.name
        rejection: Rejection | None = check(promotion, label, cart)
        if rejection is None and (blocker := _blocker(promotion, applied)) is not None:
            rejection = not_combinable(label, blocker)
        if rejection is not None:
            if offer.code:
                by_code[offer.code] = CodeOutcome(
                    offer.code, False, promotion.name, rejection.reason, rejection.message
                )
            continue
        indexes = [i for i, item in enumerate(items) if eligible(promotion.conditions, item)]
        amounts = actions.line_amounts(
            promotion.action, [items[i] for i in indexes], [left[i] for i in indexes], currency
        )
        shipping_off = shipping_left if promotion.action.type == "free_shipping" else 0
        for i, amount in zip(indexes, amounts, strict=True):
            left[i] -= amount
        shipping_left -= shipping_off
        discount = AppliedDiscount(
            promotion_id=promotion.id,
            name=promotion.name,
            code=offer.code,
            type=promotion.action.type,
            amount=sum(amounts) + shipping_off,
            shipping_amount=shipping_off,
            lines=tuple((items[i].sku, a) for i, a in zip(indexes, amounts, strict=True) if a),
        )
        applied.append(promotion)
        discounts.append(discount)
        if offer.code:
            by_code[offer.code] = CodeOutcome(offer.code, True, promotion.name, None, None, discount.amount)
    return Outcome(
        discounts=tuple(discounts),
        codes=tuple(_outcome(code, offers, by_code) for code in offers.codes),
        line_discounts=tuple(item.amount - rest for item, rest in zip(items, left, strict=True)),
        shipping_discount=shipping - shipping_left,
    )


def _outcome(code: str, offers: Offers, weighed: dict[str, CodeOutcome]) -> CodeOutcome:
    if code in weighed:
        return weighed[code]
    refused = next((r for r in offers.refused if r.code == code), None)
    if refused is not None:
        return CodeOutcome(code, False, refused.promotion_name, refused.reason, refused.message)
    return CodeOutcome(code, False, None, "unknown-code", f"{code} is not a valid code.")
