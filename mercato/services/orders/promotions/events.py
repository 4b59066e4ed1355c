"""What a placed order tells of its promotions: OrderPlaced's `promotions`, and a PromotionApplied event
per promotion it applied (recorded with OrderPlaced, in the placing transaction)."""

from __future__ import annotations

from datetime import datetime

from mercato.contracts.events import AppliedPromotion, PromotionApplied
from mercato.contracts.money import Money
from mercato.services.orders.models import Order


def applied_promotions(order: Order) -> tuple[AppliedPromotion, ...]:
    return tuple(
        AppliedPromotion(
            promotion_id=p["promotion_id"],
            name=p["name"],
            code=p.get("code"),
            amount=Money(amount=p["amount"], currency=order.currency),
        )
        for p in order.promotions or ()
    )


def promotions_applied(order: Order, placed_at: datetime) -> list[PromotionApplied]:
    return [
        PromotionApplied(
            order_id=order.id,
            promotion_id=p["promotion_id"],
            name=p["name"],
            code=p.get("code"),
            customer_id=order.buyer_id,
            discount=Money(amount=p["amount"], currency=order.currency),
            placed_at=placed_at,
        )
        for p in order.promotions or ()
    ]
