"""The demo catalog that `make up` seeds into the catalog service.

A fresh checkout should look like a real shop, not like `Product 1 … Product 9`: a fashion and lifestyle
store with nested categories, invented brands, sized and coloured variants, sold-out items, realistic
prices and a small illustration per colour. Search, facets, pagination and the storefront all need that
much data before they can be tried out or demonstrated.

The catalog is pure data: this module does no I/O and knows nothing about the database, so the seeding
code, tests and docs can all share it. It is deterministic: everything random comes from one
`random.Random(seed)`, so the same seed always yields the same catalog, down to the bytes of every SVG.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

# --------------------------------------------------------------------------------------------------------
# Public seed types (the seeding code is written against these).
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategorySeed:
    slug: str  # unique, url-safe, e.g. "women-tshirts"
    name: str  # "T-Shirts"
    parent_slug: str | None
    position: int  # order among siblings, 0-based


@dataclass(frozen=True)
class VariantSeed:
    sku: str  # unique, upper-case, e.g. "TSH-CLS-BLK-M"
    attributes: dict[str, str]  # e.g. {"size": "M", "colour": "Black"}; {} for one-size items
    price_amount: int  # the EUR price, integer minor units (cents), never a float
    stock: int  # units on hand; some variants 0 (sold out)
    prices: dict[str, int]  # the price list: EUR, GBP and (but for a few products) USD — see price_list()
    weight_grams: int
    kind: str = "physical"  # or gift_card: a digital card e-mailed to the buyer (GIFT_CARD below)


@dataclass(frozen=True)
class ImageSeed:
    filename: str  # e.g. "classic-cotton-t-shirt-black.svg"
    content_type: str  # "image/svg+xml"
    data: bytes  # the SVG document
    alt: str  # human alt text, e.g. "Classic Cotton T-Shirt in Black"


@dataclass(frozen=True)
class ProductSeed:
    slug: str  # unique, url-safe
    name: str
    brand: str
    description: str  # 2-4 sentences of plausible copy
    category_slug: str  # a LEAF category slug
    currency: str  # "EUR": the currency prices are set in; the others follow from it (price_list)
    tax_class: str  # standard | reduced | zero (the gift card)
    variants: tuple[VariantSeed, ...]
    images: tuple[ImageSeed, ...]


# --------------------------------------------------------------------------------------------------------
# Data tables.
# --------------------------------------------------------------------------------------------------------

CURRENCY = "EUR"
# The price list of every variant follows from its EUR price (VAT included), each ending in .99:
#   GBP ≈ EUR * 0.86 (VAT included, like the EU's), to the nearest pound, less a penny;
#   USD ≈ EUR / 1.19 * 1.08 (the US prices are net: VAT out at Germany's 19 %, then the exchange rate),
#   likewise.
# Candles are not shipped to the US: they have no USD price, so the US market does not sell them.
GBP_PER_EUR = 0.86
USD_NET_PER_EUR = 1.08 / 1.19
NOT_SOLD_IN_US = ("home-candles",)
# Tax classes: the demo sells nothing that is reduced-rate by law (books, food); sports drinks bottles
# stand in for such goods so that a reduced rate shows in carts and invoices.
REDUCED_RATE = ("sports-hydration",)
# A variant's weight: its category's, plus 4 % a size step (XS, S, M, ...).
WEIGHTS = {
    "women-tshirts": 160,
    "women-sweaters": 420,
    "women-dresses": 340,
    "women-skirts": 280,
    "women-jeans": 600,
    "women-jackets": 850,
    "women-sneakers": 750,
    "women-boots": 1300,
    "women-sandals": 480,
    "men-tshirts": 190,
    "men-shirts": 280,
    "men-sweaters": 520,
    "men-jeans": 700,
    "men-jackets": 1000,
    "men-sneakers": 900,
    "men-boots": 1600,
    "accessories-bags": 700,
    "accessories-hats": 120,
    "accessories-scarves": 200,
    "accessories-belts": 250,
    "home-mugs": 350,
    "home-tableware": 650,
    "home-cushions": 550,
    "home-candles": 400,
    "home-throws": 950,
    "sports-running": 220,
    "sports-yoga": 1200,
    "sports-hydration": 320,
}
SVG_CONTENT_TYPE = "image/svg+xml"
SOLD_OUT_RATE = 0.07
MAX_STOCK = 120
MAX_IMAGES_PER_PRODUCT = 3
XXL_SURCHARGE = 200

APPAREL_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
MENS_APPAREL_SIZES = ("S", "M", "L", "XL", "XXL")
BELT_SIZES = ("S", "M", "L", "XL")
WOMENS_SHOE_SIZES = ("38", "39", "40", "41", "42", "43")
MENS_SHOE_SIZES = ("40", "41", "42", "43", "44", "45", "46")

# Colour name -> (hex, SKU code). SKU codes are unique.
COLOURS: dict[str, tuple[str, str]] = {
    "Black": ("#222222", "BLK"),
    "White": ("#f4f3ef", "WHT"),
    "Navy": ("#1f3a5f", "NVY"),
    "Grey Marl": ("#9a9da1", "GRY"),
    "Charcoal": ("#3b3f45", "CHR"),
    "Cream": ("#eee4cf", "CRM"),
    "Sand": ("#d6c19c", "SND"),
    "Stone": ("#b8b2a7", "STN"),
    "Olive": ("#6b7243", "OLV"),
    "Forest Green": ("#2f5d43", "FGR"),
    "Sage": ("#9caf88", "SGE"),
    "Teal": ("#2a7f7f", "TEA"),
    "Burgundy": ("#7a2438", "BRG"),
    "Red": ("#c8323a", "RED"),
    "Rust": ("#b5522b", "RST"),
    "Terracotta": ("#c0654a", "TRC"),
    "Mustard": ("#d4a537", "MST"),
    "Coral": ("#f07f6a", "CRL"),
    "Blush Pink": ("#e8b4b8", "BLS"),
    "Lavender": ("#b9a7d6", "LAV"),
    "Sky Blue": ("#8fbfe0", "SKY"),
    "Denim Blue": ("#3f5f8a", "DNM"),
    "Indigo": ("#33406e", "IND"),
    "Cobalt": ("#2d5bd1", "CBT"),
    "Tan": ("#b88a5a", "TAN"),
    "Brown": ("#6b4a33", "BRN"),
}

WOMENS_BRANDS = ("Aldermoor", "Fernhollow", "Linnet & Lace", "Maribel Studio")
MENS_BRANDS = ("Brackenfield", "Oakhurst Supply", "Tidewell", "Harrow & Pike")
SHOE_BRANDS = ("Stridewell", "Cobble Lane", "Pathwise Footwear")
ACCESSORY_BRANDS = ("Quillon", "Marrow & Mill", "Loomwise")
HOME_BRANDS = ("Emberlune Home", "Saltmarsh Studio", "Pebblecraft", "Kilnhouse")
SPORT_BRANDS = ("Aster Athletics", "Kestrelline", "Summit Hollow")

# Inner (branch) categories as (slug, name, parent_slug), parents first.
BRANCH_CATEGORIES: tuple[tuple[str, str, str | None], ...] = (
    ("women", "Women", None),
    ("women-clothing", "Clothing", "women"),
    ("women-shoes", "Shoes", "women"),
    ("men", "Men", None),
    ("men-clothing", "Clothing", "men"),
    ("men-shoes", "Shoes", "men"),
    ("accessories", "Accessories", None),
    ("home", "Home", None),
    ("home-kitchen", "Kitchen", "home"),
    ("home-living", "Living", "home"),
    ("sports", "Sports", None),
    ("gift-cards", "Gift cards", None),
)


@dataclass(frozen=True)
class LeafSpec:
    """A leaf category and the recipe for the products in it."""

    slug: str
    name: str
    parent_slug: str
    code: str  # SKU prefix, unique per leaf
    shape: str  # key into SHAPES
    copy: str  # key into DESCRIPTION_COPY
    sizes: tuple[str, ...]  # () when the products are not sized
    palette: tuple[str, ...]  # colours the products come in
    prices: tuple[int, ...]  # price ladder in cents
    brands: tuple[str, ...]
    products: tuple[str, ...]  # product names, unique across the catalog
    colour_attribute: bool = True  # False: a single variant with no attributes


LEAF_CATEGORIES: tuple[LeafSpec, ...] = (
    LeafSpec(
        slug="women-tshirts",
        name="T-Shirts",
        parent_slug="women-clothing",
        code="WTS",
        shape="tee",
        copy="apparel",
        sizes=APPAREL_SIZES,
        palette=("White", "Black", "Navy", "Grey Marl", "Blush Pink", "Sage", "Coral", "Cream"),
        prices=(1499, 1999, 2450, 2900, 3500),
        brands=WOMENS_BRANDS,
        products=(
            "Classic Cotton T-Shirt",
            "Boxy Organic Tee",
            "Ribbed Fitted Tee",
            "Striped Breton Tee",
            "Relaxed Linen Tee",
            "Cropped Jersey Tee",
            "Long-Sleeve Pima Tee",
            "Scoop Neck Slub Tee",
            "Pocket Boyfriend Tee",
        ),
    ),
    LeafSpec(
        slug="women-sweaters",
        name="Sweaters & Cardigans",
        parent_slug="women-clothing",
        code="WSW",
        shape="sweater",
        copy="apparel",
        sizes=APPAREL_SIZES,
        palette=("Cream", "Charcoal", "Burgundy", "Sage", "Lavender", "Mustard", "Navy", "Sand"),
        prices=(5900, 6900, 7900, 8900, 12900),
        brands=WOMENS_BRANDS,
        products=(
            "Merino Crew Sweater",
            "Chunky Cable Knit Jumper",
            "Cashmere V-Neck Sweater",
            "Mohair Blend Cardigan",
            "Ribbed Turtleneck Sweater",
            "Cotton Fisherman Sweater",
            "Oversized Alpaca Jumper",
            "Fine Gauge Polo Knit",
            "Brushed Wool Cardigan",
        ),
    ),
    LeafSpec(
        slug="women-dresses",
        name="Dresses",
        parent_slug="women-clothing",
        code="WDR",
        shape="dress",
        copy="apparel",
        sizes=APPAREL_SIZES,
        palette=("Black", "Navy", "Terracotta", "Sage", "Blush Pink", "Cream", "Cobalt", "Rust"),
        prices=(4900, 5900, 6900, 7900, 9900),
        brands=WOMENS_BRANDS,
        products=(
            "Wrap Midi Dress",
            "Linen Shirt Dress",
            "Satin Slip Dress",
            "Tiered Cotton Maxi Dress",
            "Knitted Jumper Dress",
            "Smocked Poplin Dress",
            "Jersey T-Shirt Dress",
            "Pleated Chiffon Dress",
            "Belted Utility Dress",
        ),
    ),
    LeafSpec(
        slug="women-skirts",
        name="Skirts",
        parent_slug="women-clothing",
        code="WSK",
        shape="skirt",
        copy="apparel",
        sizes=APPAREL_SIZES,
        palette=("Black", "Olive", "Denim Blue", "Sand", "Burgundy", "Lavender", "Rust"),
        prices=(3900, 4500, 5500, 6900),
        brands=WOMENS_BRANDS,
        products=(
            "Pleated Midi Skirt",
            "Denim Mini Skirt",
            "Satin Bias Skirt",
            "Linen Wrap Skirt",
            "Corduroy A-Line Skirt",
            "Tiered Cotton Skirt",
            "Knitted Pencil Skirt",
        ),
    ),
    LeafSpec(
        slug="women-jeans",
        name="Jeans",
        parent_slug="women-clothing",
        code="WJN",
        shape="trousers",
        copy="apparel",
        sizes=APPAREL_SIZES,
        palette=("Denim Blue", "Indigo", "Black", "Sky Blue", "Stone"),
        prices=(5900, 6900, 7900, 8900, 9900),
        brands=WOMENS_BRANDS,
        products=(
            "High-Rise Straight Jeans",
            "Wide-Leg Denim Jeans",
            "Slim Stretch Jeans",
            "Mom Fit Jeans",
            "Bootcut Indigo Jeans",
            "Cropped Flare Jeans",
            "Barrel Leg Jeans",
            "Ankle Skinny Jeans",
        ),
    ),
    LeafSpec(
        slug="women-jackets",
        name="Jackets & Coats",
        parent_slug="women-clothing",
        code="WJK",
        shape="jacket",
        copy="apparel",
        sizes=APPAREL_SIZES,
        palette=("Black", "Olive", "Sand", "Navy", "Tan", "Cream", "Burgundy"),
        prices=(8900, 11900, 14900, 17900, 22900),
        brands=WOMENS_BRANDS,
        products=(
            "Quilted Liner Jacket",
            "Cropped Denim Jacket",
            "Wool Blend Overcoat",
            "Waxed Cotton Field Jacket",
            "Faux Shearling Aviator",
            "Lightweight Trench Coat",
            "Packable Down Jacket",
            "Boucle Collarless Blazer",
        ),
    ),
    LeafSpec(
        slug="women-sneakers",
        name="Sneakers",
        parent_slug="women-shoes",
        code="WSN",
        shape="sneaker",
        copy="shoes",
        sizes=WOMENS_SHOE_SIZES,
        palette=("White", "Black", "Blush Pink", "Sand", "Sky Blue", "Sage"),
        prices=(6900, 7900, 8900, 9900, 12900),
        brands=SHOE_BRANDS,
        products=(
            "Court Classic Leather Sneaker",
            "Canvas Low-Top Sneaker",
            "Platform Retro Sneaker",
            "Knit Slip-On Sneaker",
            "Suede Tennis Sneaker",
            "Cloudstep Runner Sneaker",
            "Gum Sole Plimsoll",
            "Chunky Dad Sneaker",
        ),
    ),
    LeafSpec(
        slug="women-boots",
        name="Boots",
        parent_slug="women-shoes",
        code="WBT",
        shape="boot",
        copy="shoes",
        sizes=WOMENS_SHOE_SIZES,
        palette=("Black", "Brown", "Tan", "Burgundy", "Stone"),
        prices=(11900, 13900, 15900, 18900),
        brands=SHOE_BRANDS,
        products=(
            "Chelsea Ankle Boot",
            "Lug Sole Combat Boot",
            "Suede Western Boot",
            "Knee-High Riding Boot",
            "Shearling Lined Snow Boot",
            "Heeled Sock Boot",
            "Lace-Up Hiker Boot",
        ),
    ),
    LeafSpec(
        slug="women-sandals",
        name="Sandals",
        parent_slug="women-shoes",
        code="WSD",
        shape="sandal",
        copy="shoes",
        sizes=WOMENS_SHOE_SIZES,
        palette=("Tan", "Black", "White", "Coral", "Sand", "Mustard"),
        prices=(3900, 4900, 5900, 6900),
        brands=SHOE_BRANDS,
        products=(
            "Crossover Slide Sandal",
            "Braided Leather Sandal",
            "Cork Footbed Sandal",
            "Strappy Block Heel Sandal",
            "Espadrille Wedge Sandal",
            "Sport Strap Sandal",
            "Woven Mule Sandal",
        ),
    ),
    LeafSpec(
        slug="men-tshirts",
        name="T-Shirts",
        parent_slug="men-clothing",
        code="MTS",
        shape="tee",
        copy="apparel",
        sizes=MENS_APPAREL_SIZES,
        palette=("White", "Black", "Navy", "Grey Marl", "Olive", "Rust", "Stone", "Forest Green"),
        prices=(1499, 1999, 2450, 2900, 3500),
        brands=MENS_BRANDS,
        products=(
            "Heavyweight Crew T-Shirt",
            "Essential Pocket Tee",
            "Supima Henley Tee",
            "Garment-Dyed Box Tee",
            "Waffle Knit Long-Sleeve Tee",
            "Marl Raglan Tee",
            "Ringer Retro Tee",
            "Slub Jersey V-Neck Tee",
            "Organic Everyday Tee",
        ),
    ),
    LeafSpec(
        slug="men-shirts",
        name="Shirts",
        parent_slug="men-clothing",
        code="MSH",
        shape="tee",
        copy="apparel",
        sizes=MENS_APPAREL_SIZES,
        palette=("White", "Sky Blue", "Navy", "Olive", "Stone", "Burgundy", "Denim Blue"),
        prices=(3900, 4500, 4900, 5900, 6900),
        brands=MENS_BRANDS,
        products=(
            "Oxford Button-Down Shirt",
            "Relaxed Linen Shirt",
            "Brushed Flannel Check Shirt",
            "Chambray Work Shirt",
            "Poplin Dress Shirt",
            "Corduroy Overshirt",
            "Camp Collar Shirt",
            "Seersucker Summer Shirt",
            "Twill Utility Overshirt",
        ),
    ),
    LeafSpec(
        slug="men-sweaters",
        name="Sweaters & Knitwear",
        parent_slug="men-clothing",
        code="MSW",
        shape="sweater",
        copy="apparel",
        sizes=MENS_APPAREL_SIZES,
        palette=("Navy", "Charcoal", "Cream", "Forest Green", "Rust", "Grey Marl", "Mustard"),
        prices=(5900, 6900, 7900, 8900, 12900),
        brands=MENS_BRANDS,
        products=(
            "Lambswool Crew Jumper",
            "Shawl Collar Cardigan",
            "Merino Quarter-Zip Sweater",
            "Cotton Waffle Crew Sweater",
            "Donegal Tweed Knit",
            "Ribbed Roll-Neck Sweater",
            "Heritage Fair Isle Jumper",
            "Loopback Sweatshirt",
        ),
    ),
    LeafSpec(
        slug="men-jeans",
        name="Jeans",
        parent_slug="men-clothing",
        code="MJN",
        shape="trousers",
        copy="apparel",
        sizes=MENS_APPAREL_SIZES,
        palette=("Indigo", "Denim Blue", "Black", "Stone", "Charcoal"),
        prices=(5900, 6900, 7900, 8900, 9900),
        brands=MENS_BRANDS,
        products=(
            "Slim Tapered Selvedge Jeans",
            "Straight Leg Raw Jeans",
            "Relaxed Carpenter Jeans",
            "Athletic Fit Stretch Jeans",
            "Vintage Wash Straight Jeans",
            "Loose Fit Workwear Jeans",
            "Black Rinse Skinny Jeans",
            "Regular Fit Dark Jeans",
        ),
    ),
    LeafSpec(
        slug="men-jackets",
        name="Jackets & Coats",
        parent_slug="men-clothing",
        code="MJK",
        shape="jacket",
        copy="apparel",
        sizes=MENS_APPAREL_SIZES,
        palette=("Navy", "Olive", "Black", "Tan", "Charcoal", "Forest Green", "Stone"),
        prices=(8900, 11900, 14900, 17900, 22900),
        brands=MENS_BRANDS,
        products=(
            "Harrington Cotton Jacket",
            "Sherpa Trucker Jacket",
            "Waterproof Shell Parka",
            "Wool Pea Coat",
            "Quilted Down Gilet",
            "Suede Bomber Jacket",
            "Ripstop Anorak",
            "Canvas Chore Coat",
        ),
    ),
    LeafSpec(
        slug="men-sneakers",
        name="Sneakers",
        parent_slug="men-shoes",
        code="MSN",
        shape="sneaker",
        copy="shoes",
        sizes=MENS_SHOE_SIZES,
        palette=("White", "Black", "Navy", "Grey Marl", "Olive", "Cobalt"),
        prices=(6900, 7900, 8900, 9900, 12900),
        brands=SHOE_BRANDS,
        products=(
            "Trail Runner 2 Sneaker",
            "Court Low Leather Sneaker",
            "Vulcanised Canvas Sneaker",
            "Retro Jogger Sneaker",
            "High-Top Basketball Sneaker",
            "Knit Runner Sneaker",
            "Suede Skate Sneaker",
            "Minimal White Sneaker",
        ),
    ),
    LeafSpec(
        slug="men-boots",
        name="Boots",
        parent_slug="men-shoes",
        code="MBT",
        shape="boot",
        copy="shoes",
        sizes=MENS_SHOE_SIZES,
        palette=("Brown", "Black", "Tan", "Sand", "Burgundy"),
        prices=(11900, 13900, 15900, 18900, 21900),
        brands=SHOE_BRANDS,
        products=(
            "Goodyear Welted Derby Boot",
            "Suede Desert Boot",
            "Moc Toe Work Boot",
            "Leather Chelsea Boot",
            "Waterproof Trail Hiker",
            "Lace-Up Logger Boot",
            "Side-Zip Commando Boot",
        ),
    ),
    LeafSpec(
        slug="accessories-bags",
        name="Bags",
        parent_slug="accessories",
        code="BAG",
        shape="bag",
        copy="accessory",
        sizes=(),
        palette=("Black", "Tan", "Brown", "Olive", "Navy", "Cream", "Burgundy", "Sand"),
        prices=(2900, 4900, 7900, 12900, 18900),
        brands=ACCESSORY_BRANDS,
        products=(
            "Canvas Market Tote",
            "Leather Weekender Bag",
            "Roll-Top Backpack",
            "Crossbody Camera Bag",
            "Nylon Belt Bag",
            "Structured Work Tote",
            "Mini Bucket Bag",
            "Recycled Laptop Sleeve",
            "Waxed Canvas Messenger",
            "Quilted Shoulder Bag",
        ),
    ),
    LeafSpec(
        slug="accessories-hats",
        name="Hats & Caps",
        parent_slug="accessories",
        code="HAT",
        shape="hat",
        copy="accessory",
        sizes=(),
        palette=("Black", "Navy", "Sand", "Olive", "Rust", "Cream", "Forest Green", "Mustard"),
        prices=(1999, 2450, 2900, 3900, 5900),
        brands=ACCESSORY_BRANDS,
        products=(
            "Wool Felt Fedora",
            "Washed Cotton Cap",
            "Ribbed Beanie",
            "Reversible Bucket Hat",
            "Straw Panama Hat",
            "Corduroy Baseball Cap",
            "Fisherman Knit Beanie",
            "Waxed Rain Hat",
        ),
    ),
    LeafSpec(
        slug="accessories-scarves",
        name="Scarves",
        parent_slug="accessories",
        code="SCF",
        shape="scarf",
        copy="accessory",
        sizes=(),
        palette=("Burgundy", "Tan", "Grey Marl", "Navy", "Mustard", "Forest Green", "Blush Pink"),
        prices=(2450, 3500, 4900, 7900),
        brands=ACCESSORY_BRANDS,
        products=(
            "Lambswool Check Scarf",
            "Silk Twill Square",
            "Chunky Rib Scarf",
            "Cashmere Blend Wrap",
            "Lightweight Cotton Scarf",
            "Mohair Fringe Scarf",
            "Printed Modal Scarf",
        ),
    ),
    LeafSpec(
        slug="accessories-belts",
        name="Belts",
        parent_slug="accessories",
        code="BLT",
        shape="belt",
        copy="accessory",
        sizes=BELT_SIZES,
        palette=("Black", "Brown", "Tan", "Navy", "Olive"),
        prices=(2900, 3900, 4900, 5900),
        brands=ACCESSORY_BRANDS,
        products=(
            "Classic Leather Belt",
            "Woven Elastic Belt",
            "Reversible Dress Belt",
            "Suede Skinny Belt",
            "Canvas Webbing Belt",
            "Braided Leather Belt",
            "Western Buckle Belt",
        ),
    ),
    LeafSpec(
        slug="home-mugs",
        name="Mugs & Cups",
        parent_slug="home-kitchen",
        code="MUG",
        shape="mug",
        copy="home",
        sizes=(),
        palette=("White", "Cream", "Sage", "Terracotta", "Charcoal", "Sky Blue", "Mustard", "Teal"),
        prices=(1250, 1499, 1800, 2200),
        brands=HOME_BRANDS,
        products=(
            "Stoneware Coffee Mug",
            "Speckled Espresso Cup",
            "Enamel Camp Mug",
            "Double-Wall Glass Mug",
            "Reactive Glaze Latte Mug",
            "Porcelain Tea Cup and Saucer",
            "Hand-Thrown Tumbler Cup",
            "Insulated Travel Mug",
            "Ribbed Ceramic Mug",
        ),
    ),
    LeafSpec(
        slug="home-tableware",
        name="Tableware",
        parent_slug="home-kitchen",
        code="TBL",
        shape="plate",
        copy="home",
        sizes=(),
        palette=("White", "Cream", "Stone", "Sage", "Terracotta", "Indigo", "Charcoal"),
        prices=(1499, 1999, 2450, 3500, 4500),
        brands=HOME_BRANDS,
        products=(
            "Stoneware Dinner Plate",
            "Side Plate Set of 4",
            "Shallow Pasta Bowl",
            "Linen Table Napkins",
            "Salt & Pepper Shaker Set",
            "Oval Serving Platter",
            "Ceramic Cereal Bowl",
            "Olive Wood Serving Board",
            "Glass Water Carafe",
        ),
    ),
    LeafSpec(
        slug="home-cushions",
        name="Cushions",
        parent_slug="home-living",
        code="CSH",
        shape="cushion",
        copy="home",
        sizes=(),
        palette=("Cream", "Mustard", "Sage", "Rust", "Navy", "Blush Pink", "Teal", "Charcoal"),
        prices=(2450, 2900, 3500, 4500),
        brands=HOME_BRANDS,
        products=(
            "Linen Cushion Cover",
            "Boucle Round Cushion",
            "Velvet Bolster Cushion",
            "Chunky Knit Cushion",
            "Striped Outdoor Cushion",
            "Embroidered Cotton Cushion",
            "Corduroy Floor Cushion",
            "Tufted Wool Cushion",
        ),
    ),
    LeafSpec(
        slug="home-candles",
        name="Candles",
        parent_slug="home-living",
        code="CND",
        shape="candle",
        copy="home",
        sizes=(),
        palette=("Cream", "Sand", "Sage", "Terracotta", "Charcoal", "Blush Pink"),
        prices=(1800, 2450, 2900, 3400),
        brands=HOME_BRANDS,
        products=(
            "Fig & Cedar Candle",
            "Sea Salt Soy Candle",
            "Amber Noir Candle",
            "Fresh Linen Candle",
            "Wild Fig Travel Tin",
            "Tobacco & Vanilla Candle",
            "Pine Forest Candle",
            "Citrus Grove Candle",
        ),
        colour_attribute=False,
    ),
    LeafSpec(
        slug="home-throws",
        name="Throws & Blankets",
        parent_slug="home-living",
        code="THR",
        shape="throw",
        copy="home",
        sizes=(),
        palette=("Cream", "Grey Marl", "Mustard", "Sage", "Rust", "Navy", "Forest Green"),
        prices=(4900, 5900, 7900, 9900, 12900),
        brands=HOME_BRANDS,
        products=(
            "Waffle Cotton Throw",
            "Merino Wool Blanket",
            "Herringbone Throw",
            "Fringed Alpaca Throw",
            "Chunky Knit Blanket",
            "Quilted Velvet Throw",
            "Gauze Muslin Blanket",
            "Fleece Sofa Throw",
        ),
    ),
    LeafSpec(
        slug="sports-running",
        name="Running",
        parent_slug="sports",
        code="RUN",
        shape="tee",
        copy="sport",
        sizes=APPAREL_SIZES,
        palette=("Black", "Cobalt", "Coral", "Teal", "Grey Marl", "Navy", "Mustard"),
        prices=(2450, 2900, 3500, 4900, 6900),
        brands=SPORT_BRANDS,
        products=(
            "Breathable Running Tee",
            "Seamless Running Top",
            "Half-Zip Running Layer",
            "Reflective Running Jacket",
            "Lightweight Running Vest",
            "Thermal Running Long-Sleeve",
            "Mesh Training Tee",
            "Windproof Running Gilet",
            "Merino Trail Tee",
        ),
    ),
    LeafSpec(
        slug="sports-yoga",
        name="Yoga",
        parent_slug="sports",
        code="YGA",
        shape="mat",
        copy="sport",
        sizes=(),
        palette=("Sage", "Lavender", "Charcoal", "Teal", "Blush Pink", "Sand", "Indigo"),
        prices=(1499, 2450, 3900, 5900, 7900),
        brands=SPORT_BRANDS,
        products=(
            "Natural Rubber Yoga Mat",
            "Cork Yoga Block",
            "Travel Yoga Mat",
            "Cotton Yoga Strap",
            "Alignment Yoga Mat",
            "Buckwheat Meditation Cushion",
            "Microfibre Yoga Towel",
            "Foam Yoga Wedge",
        ),
    ),
    LeafSpec(
        slug="sports-hydration",
        name="Bottles & Flasks",
        parent_slug="sports",
        code="HYD",
        shape="bottle",
        copy="sport",
        sizes=(),
        palette=("Black", "White", "Forest Green", "Cobalt", "Coral", "Stone", "Teal", "Red"),
        prices=(1999, 2450, 2900, 3500),
        brands=SPORT_BRANDS,
        products=(
            "Insulated Steel Water Bottle",
            "Collapsible Trail Bottle",
            "Stainless Food Flask",
            "Sport Water Bottle 750ml",
            "Hydration Bottle 1L",
            "Thermal Coffee Flask",
            "Glass Infuser Bottle",
            "Kids Sport Bottle",
        ),
    ),
)

# Description copy per kind of product: (openers, details, closers). "{name}" and "{brand}" are filled in.
DESCRIPTION_COPY: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "apparel": (
        (
            "The {name} is a wardrobe staple from {brand}, cut for an easy everyday fit.",
            "{brand} designed the {name} to be worn on repeat, season after season.",
            "Clean lines and a considered fit make the {name} an easy choice for most days.",
            "The {name} pairs relaxed comfort with the quiet detailing {brand} is known for.",
        ),
        (
            "It is made from responsibly sourced fibres that soften with every wash.",
            "Reinforced seams and a pre-shrunk finish help it keep its shape.",
            "The fabric breathes well and stays comfortable from morning to evening.",
            "Every piece is garment-dyed in small batches for a soft, lived-in colour.",
        ),
        (
            "Machine wash cold and dry flat.",
            "Our model is 178 cm tall and wears a size M.",
            "Size up for a more relaxed silhouette.",
        ),
    ),
    "shoes": (
        (
            "The {name} is built by {brand} for long days on your feet.",
            "With a cushioned footbed and a grippy outsole, the {name} handles city and trail alike.",
            "{brand} took a classic silhouette and refined it into the {name}.",
        ),
        (
            "The upper is cut from durable, easy-to-clean materials and lined for comfort.",
            "A removable insole makes room for orthotics.",
            "The rubber sole is stitched, not just glued, so it can be resoled.",
        ),
        (
            "Fits true to size; half sizes should size up.",
            "Comes in a recycled cardboard box with a cotton dust bag.",
        ),
    ),
    "accessory": (
        (
            "The {name} by {brand} is the finishing touch that works with almost everything.",
            "Practical and understated, the {name} is made to be used every day.",
            "{brand} makes the {name} in small runs with a focus on materials that age well.",
        ),
        (
            "Hardware is solid brass and every edge is hand-finished.",
            "It is light enough to forget about and tough enough for daily use.",
            "The materials are certified and traceable from mill to workshop.",
        ),
        (
            "Spot clean only.",
            "Arrives in a reusable cotton pouch.",
        ),
    ),
    "home": (
        (
            "The {name} brings a little calm to everyday routines.",
            "{brand} designs the {name} to be used daily and passed on rather than replaced.",
            "Simple in form and generous in use, the {name} suits modern and traditional homes alike.",
        ),
        (
            "Each piece is finished by hand, so small variations make every one unique.",
            "It is made in a family-run workshop using low-waste production.",
            "Natural materials and a muted palette make it easy to mix and match.",
        ),
        (
            "Dishwasher safe where applicable; see the care label for details.",
            "Ships in plastic-free packaging.",
        ),
    ),
    "sport": (
        (
            "The {name} is made by {brand} for training that fits around real life.",
            "Whether it is an early run or a late class, the {name} keeps up.",
            "{brand} tested the {name} with coaches and everyday athletes before release.",
        ),
        (
            "Lightweight, quick-drying materials keep you comfortable as the effort builds.",
            "Recycled materials make up most of the build without compromising performance.",
            "Flatlock seams and smart ventilation reduce chafing on longer sessions.",
        ),
        (
            "Backed by a two-year guarantee.",
            "Rinse after use and air dry.",
        ),
    ),
}

# Product illustrations on a 600x600 canvas, one per shape. Filled with the colour, outlined in a shade.
SHAPES: dict[str, str] = {
    "giftcard": (
        '<rect x="120" y="170" width="360" height="230" rx="24"/>'
        '<path d="M250 170 L250 400 M120 260 L480 260" fill="none" stroke="#ffffff"/>'
        '<path d="M250 260 Q200 200 225 185 Q250 175 250 260 Q275 175 295 190 Q310 210 250 260 Z" '
        'fill="#ffffff"/>'
    ),
    "tee": (
        '<path d="M210 150 L255 128 Q300 165 345 128 L390 150 L455 215 L410 258 L385 236 L385 405 '
        'L215 405 L215 236 L190 258 L145 215 Z"/>'
    ),
    "sweater": (
        '<path d="M215 140 L257 124 Q300 158 343 124 L385 140 L442 335 L402 346 L385 262 L385 412 '
        'L215 412 L215 262 L198 346 L158 335 Z"/>'
        '<path d="M215 392 L385 392" fill="none"/>'
    ),
    "jacket": (
        '<path d="M215 138 L262 120 L300 190 L338 120 L385 138 L442 338 L402 348 L385 262 L385 415 '
        'L215 415 L215 262 L198 348 L158 338 Z"/>'
        '<path d="M300 190 L300 415" fill="none"/>'
    ),
    "dress": (
        '<path d="M262 118 L282 118 Q300 150 318 118 L338 118 L350 200 L425 420 Q300 440 175 420 '
        'L250 200 Z"/>'
        '<path d="M250 200 L350 200" fill="none"/>'
    ),
    "skirt": (
        '<path d="M235 170 L365 170 L430 400 Q300 425 170 400 Z"/><path d="M235 198 L365 198" fill="none"/>'
    ),
    "trousers": '<path d="M222 120 L378 120 L402 425 L326 425 L300 215 L274 425 L198 425 Z"/>',
    "sneaker": (
        '<path d="M135 345 L148 248 Q192 238 232 272 L305 302 Q405 310 455 342 Q472 372 440 382 '
        'L165 382 Q132 378 135 345 Z"/>'
        '<path d="M135 360 L468 360 L460 392 L140 392 Z" fill="#ffffff"/>'
    ),
    "boot": (
        '<path d="M205 130 L305 130 L310 292 Q405 302 435 345 L435 388 L192 388 L196 250 Z"/>'
        '<path d="M190 372 L437 372 L437 396 L190 396 Z" fill="#3a3a3a"/>'
    ),
    "sandal": (
        '<path d="M140 360 Q150 330 210 330 L430 334 Q468 340 462 366 Q455 386 420 386 L180 386 '
        'Q140 384 140 360 Z"/>'
        '<path d="M230 332 Q270 260 320 334 M300 332 Q350 270 390 334" fill="none" stroke-width="16"/>'
    ),
    "bag": (
        '<path d="M240 210 Q240 130 300 130 Q360 130 360 210" fill="none" stroke-width="16"/>'
        '<rect x="175" y="205" width="250" height="205" rx="26"/>'
    ),
    "hat": (
        '<path d="M140 345 Q300 392 460 345 Q462 322 405 315 Q392 190 300 190 Q208 190 195 315 '
        'Q138 322 140 345 Z"/>'
    ),
    "scarf": (
        '<path d="M250 110 L350 110 L350 400 L250 400 Z"/>'
        '<path d="M262 400 L262 432 M287 400 L287 432 M312 400 L312 432 M337 400 L337 432" fill="none"/>'
    ),
    "belt": (
        '<rect x="110" y="250" width="380" height="60" rx="10"/>'
        '<rect x="178" y="235" width="70" height="90" rx="8" fill="none" stroke-width="12"/>'
    ),
    "mug": (
        '<path d="M365 232 Q440 232 440 288 Q440 344 365 344" fill="none" stroke-width="24"/>'
        '<rect x="195" y="180" width="175" height="215" rx="20"/>'
    ),
    "plate": '<circle cx="300" cy="280" r="150"/><circle cx="300" cy="280" r="98" fill="none"/>',
    "cushion": (
        '<path d="M175 170 Q300 140 425 170 Q445 285 425 400 Q300 420 175 400 Q155 285 175 170 Z"/>'
        '<circle cx="300" cy="285" r="12"/>'
    ),
    "candle": (
        '<rect x="215" y="215" width="170" height="190" rx="14"/>'
        '<path d="M300 205 L300 175" fill="none"/>'
        '<path d="M300 178 Q320 150 300 120 Q280 150 300 178 Z" fill="#f2a93b" stroke="#d9822b"/>'
    ),
    "throw": (
        '<rect x="150" y="170" width="300" height="230" rx="16"/>'
        '<path d="M150 240 L450 240 M150 320 L450 320" fill="none"/>'
    ),
    "mat": (
        '<rect x="150" y="240" width="260" height="110" rx="12"/>'
        '<circle cx="410" cy="295" r="55"/><circle cx="410" cy="295" r="22" fill="none"/>'
    ),
    "bottle": (
        '<rect x="262" y="112" width="76" height="46" rx="10"/>'
        '<path d="M250 160 L350 160 L372 212 L372 410 Q372 425 357 425 L243 425 '
        'Q228 425 228 410 L228 212 Z"/>'
    ),
}

_TEXT_COLOUR = "#2b2b2b"
_MUTED_TEXT_COLOUR = "#5f5f5f"
_SLUG_RE = re.compile(r"[^a-z0-9]+")
_WORD_RE = re.compile(r"[A-Za-z]+")

# --------------------------------------------------------------------------------------------------------
# Small pure helpers.
# --------------------------------------------------------------------------------------------------------


def slugify(text: str) -> str:
    """Lower-case, url-safe slug: "Salt & Pepper Set" -> "salt-and-pepper-set"."""
    return _SLUG_RE.sub("-", text.lower().replace("&", " and ")).strip("-")


def xml_escape(text: str) -> str:
    """Escape text for use in XML character data and double- or single-quoted attributes."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


def _mix(hex_colour: str, other: tuple[int, int, int], weight: float) -> str:
    """Blend `hex_colour` towards `other` by `weight` (0 = unchanged, 1 = `other`)."""
    channels = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    mixed = (round(c + (o - c) * weight) for c, o in zip(channels, other, strict=True))
    return "#" + "".join(f"{c:02x}" for c in mixed)


def tint(hex_colour: str, weight: float = 0.82) -> str:
    return _mix(hex_colour, (255, 255, 255), weight)


def shade(hex_colour: str, weight: float = 0.3) -> str:
    return _mix(hex_colour, (0, 0, 0), weight)


def _initials(name: str) -> str:
    return "".join(word[0] for word in _WORD_RE.findall(name)).upper()[:3]


def _title_font_size(name: str) -> int:
    if len(name) <= 22:
        return 40
    return 34 if len(name) <= 26 else 28


def render_svg(name: str, brand: str, shape: str, colour_hex: str, alt: str) -> bytes:
    """A small flat illustration: tinted background, the product shape in its colour, the name below."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="600" viewBox="0 0 600 600" '
        f'role="img" aria-label="{xml_escape(alt)}">'
        f"<title>{xml_escape(alt)}</title>"
        f'<rect width="600" height="600" fill="{tint(colour_hex)}"/>'
        f'<circle cx="300" cy="275" r="200" fill="{tint(colour_hex, 0.66)}"/>'
        f'<g fill="{colour_hex}" stroke="{shade(colour_hex)}" stroke-width="6" stroke-linejoin="round" '
        f'stroke-linecap="round">{SHAPES[shape]}</g>'
        f'<text x="300" y="520" text-anchor="middle" font-family="Helvetica, Arial, sans-serif" '
        f'font-size="{_title_font_size(name)}" font-weight="600" fill="{_TEXT_COLOUR}">'
        f"{xml_escape(name)}</text>"
        f'<text x="300" y="560" text-anchor="middle" font-family="Helvetica, Arial, sans-serif" '
        f'font-size="22" fill="{_MUTED_TEXT_COLOUR}">{xml_escape(brand)}</text>'
        "</svg>"
    ).encode()


def _describe(rng: random.Random, copy: str, name: str, brand: str) -> str:
    openers, details, closers = DESCRIPTION_COPY[copy]
    sentences = [rng.choice(openers), rng.choice(details)]
    if rng.random() < 0.6:
        sentences.append(rng.choice(closers))
    return " ".join(sentence.format(name=name, brand=brand) for sentence in sentences)


def _stock(rng: random.Random) -> int:
    return 0 if rng.random() < SOLD_OUT_RATE else rng.randint(1, MAX_STOCK)


def _ending_99(amount: float) -> int:
    """To the nearest whole unit, less one minor unit: 12.89 -> 12.99, 13.60 -> 13.99."""
    return max(99, round(amount / 100) * 100 - 1)


def price_list(eur: int, *, usd: bool = True) -> dict[str, int]:
    """A variant's prices in every currency, from its EUR price (the rule above)."""
    prices = {"EUR": eur, "GBP": _ending_99(eur * GBP_PER_EUR)}
    if usd:
        prices["USD"] = _ending_99(eur * USD_NET_PER_EUR)
    return prices


def _variants(
    rng: random.Random, leaf: LeafSpec, product_code: str, colours: list[str], base_price: int
) -> tuple[VariantSeed, ...]:
    usd, weight = leaf.slug not in NOT_SOLD_IN_US, WEIGHTS[leaf.slug]

    def variant(sku: str, attributes: dict[str, str], price: int, step: int = 0) -> VariantSeed:
        grams = round(weight * (1 + 0.04 * step))
        return VariantSeed(sku, attributes, price, _stock(rng), price_list(price, usd=usd), grams)

    if not leaf.colour_attribute:
        return (variant(product_code, {}, base_price),)
    variants = []
    for colour in colours:
        colour_sku = f"{product_code}-{COLOURS[colour][1]}"
        if not leaf.sizes:
            variants.append(variant(colour_sku, {"colour": colour}, base_price))
            continue
        for step, size in enumerate(leaf.sizes):
            price = base_price + (XXL_SURCHARGE if size == "XXL" else 0)
            variants.append(variant(f"{colour_sku}-{size}", {"size": size, "colour": colour}, price, step))
    return tuple(variants)


def _images(leaf: LeafSpec, slug: str, name: str, brand: str, colours: list[str]) -> tuple[ImageSeed, ...]:
    images = []
    for colour in colours[:MAX_IMAGES_PER_PRODUCT]:
        if leaf.colour_attribute:
            filename, alt = f"{slug}-{slugify(colour)}.svg", f"{name} in {colour}"
        else:
            filename, alt = f"{slug}.svg", f"{name} in a {colour.lower()} vessel"
        data = render_svg(name, brand, leaf.shape, COLOURS[colour][0], alt)
        images.append(ImageSeed(filename=filename, content_type=SVG_CONTENT_TYPE, data=data, alt=alt))
    return tuple(images)


def _product(rng: random.Random, leaf: LeafSpec, index: int, name: str) -> ProductSeed:
    brand = rng.choice(leaf.brands)
    base_price = rng.choice(leaf.prices)
    colour_count = 1 if not leaf.colour_attribute else rng.choice((1, 2, 2, 3, 3))
    colours = rng.sample(leaf.palette, min(colour_count, len(leaf.palette)))
    slug = slugify(name)
    product_code = f"{leaf.code}-{_initials(name)}{index:02d}"
    return ProductSeed(
        slug=slug,
        name=name,
        brand=brand,
        description=_describe(rng, leaf.copy, name, brand),
        category_slug=leaf.slug,
        currency=CURRENCY,
        tax_class="reduced" if leaf.slug in REDUCED_RATE else "standard",
        variants=_variants(rng, leaf, product_code, colours, base_price),
        images=_images(leaf, slug, name, brand, colours),
    )


# The gift card (docs/gift-cards.md): one product of three denominations, the same figure in each
# currency. A unit is a card payments issues and e-mails once the order is placed: it weighs nothing and
# needs no shipping, is sold at the zero tax rate (tax is due when the card is spent, not bought) and is
# never on sale. "Unlimited" stock is a million units on hand: reserved and sold like any other unit, so
# checkout needs no special case, and far beyond what a shop sells between two top-ups (`catalog
# inventory adjust`).
GIFT_CARD_CATEGORY = "gift-cards"
GIFT_CARD_DENOMINATIONS = (25, 50, 100)
GIFT_CARD_STOCK = 1_000_000
GIFT_CARD_COLOUR = "#2d5bd1"


def gift_card() -> ProductSeed:
    name, brand = "Mercato gift card", "Mercato"
    variants = tuple(
        VariantSeed(
            sku=f"GIFT-{value}",
            attributes={"value": str(value)},
            price_amount=value * 100,
            stock=GIFT_CARD_STOCK,
            prices={currency: value * 100 for currency in ("EUR", "GBP", "USD")},
            weight_grams=0,
            kind="gift_card",
        )
        for value in GIFT_CARD_DENOMINATIONS
    )
    alt = "A Mercato gift card with a ribbon"
    image = ImageSeed(
        filename="mercato-gift-card.svg",
        content_type=SVG_CONTENT_TYPE,
        data=render_svg(name, brand, "giftcard", GIFT_CARD_COLOUR, alt),
        alt=alt,
    )
    return ProductSeed(
        slug="mercato-gift-card",
        name=name,
        brand=brand,
        description=(
            "A gift card for anything in the shop, e-mailed with its code as soon as the order is placed. "
            "Its balance can be spent over several orders, alone or together with a card."
        ),
        category_slug=GIFT_CARD_CATEGORY,
        currency=CURRENCY,
        tax_class="zero",
        variants=variants,
        images=(image,),
    )


def _categories() -> list[CategorySeed]:
    """All categories, parents first (a depth-first walk), with 0-based positions among siblings."""
    rows = [*BRANCH_CATEGORIES, *((leaf.slug, leaf.name, leaf.parent_slug) for leaf in LEAF_CATEGORIES)]
    children: dict[str | None, list[tuple[str, str, str | None]]] = {}
    for row in rows:
        children.setdefault(row[2], []).append(row)
    ordered: list[CategorySeed] = []

    def walk(parent: str | None) -> None:
        for position, (slug, name, parent_slug) in enumerate(children.get(parent, [])):
            ordered.append(CategorySeed(slug=slug, name=name, parent_slug=parent_slug, position=position))
            walk(slug)

    walk(None)
    if len(ordered) != len(rows):
        raise ValueError("demo catalog: a category's parent is missing")
    if any(leaf.slug in children for leaf in LEAF_CATEGORIES) or GIFT_CARD_CATEGORY in children:
        raise ValueError("demo catalog: products must sit in leaf categories")
    return ordered


def _check_unique(label: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"demo catalog: duplicate {label} {value!r}")
        seen.add(value)


# --------------------------------------------------------------------------------------------------------
# Entry point.
# --------------------------------------------------------------------------------------------------------


def demo_catalog(seed: int = 2026) -> tuple[list[CategorySeed], list[ProductSeed]]:
    """Categories parents-first; products in a stable order. Same seed -> byte-identical output."""
    rng = random.Random(seed)
    categories = _categories()
    products = [
        _product(rng, leaf, index, name)
        for leaf in LEAF_CATEGORIES
        for index, name in enumerate(leaf.products, start=1)
    ]
    products.append(gift_card())  # last: built from no randomness, it changes nothing before it
    _check_unique("category slug", [category.slug for category in categories])
    _check_unique("product slug", [product.slug for product in products])
    _check_unique("SKU", [variant.sku for product in products for variant in product.variants])
    return categories, products
