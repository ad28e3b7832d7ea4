//! The merchandise the simulated retailer sells: categories, product names, brands and the
//! names of regions, stores and suppliers.

/// A merchandise category with its VAT rate, price range and typical demand.
pub(crate) struct Category {
    /// The category name.
    pub name: &'static str,
    /// VAT in percent, in tenths (55 = 5.5 %).
    pub vat_tenths: i64,
    /// Lowest and highest shelf price, in cents.
    pub price_cents: (i64, i64),
    /// Lowest and highest base demand per store and day, in units.
    pub daily_units: (f64, f64),
    /// Product names in the category.
    pub products: &'static [&'static str],
}

pub(crate) const CATEGORIES: &[Category] = &[
    Category {
        name: "dairy",
        vat_tenths: 55,
        price_cents: (89, 650),
        daily_units: (3.0, 10.0),
        products: &[
            "Semi-skimmed milk 1L",
            "Whole milk 1L",
            "Natural yoghurt 4x125g",
            "Greek yoghurt 500g",
            "Butter 250g",
            "Grated Emmental 200g",
            "Camembert 250g",
            "Creme fraiche 20cl",
            "Fromage blanc 500g",
            "Comte 200g",
        ],
    },
    Category {
        name: "bakery",
        vat_tenths: 55,
        price_cents: (95, 420),
        daily_units: (4.0, 14.0),
        products: &[
            "Baguette",
            "Country loaf 400g",
            "Croissants x4",
            "Pains au chocolat x4",
            "Brioche 500g",
            "Sliced white bread 500g",
            "Wholemeal bread 500g",
            "Madeleines x12",
        ],
    },
    Category {
        name: "produce",
        vat_tenths: 55,
        price_cents: (79, 450),
        daily_units: (3.0, 10.0),
        products: &[
            "Bananas bunch",
            "Gala apples 1kg",
            "Vine tomatoes 500g",
            "Carrots 1kg",
            "Potatoes 2.5kg",
            "Iceberg lettuce",
            "Cucumber",
            "Lemons x4",
            "Oranges 2kg",
            "Avocados x2",
        ],
    },
    Category {
        name: "household",
        vat_tenths: 200,
        price_cents: (149, 1290),
        daily_units: (0.5, 2.5),
        products: &[
            "Washing-up liquid 500ml",
            "Laundry detergent 2L",
            "Kitchen roll x4",
            "Toilet paper x12",
            "Bin bags 30L x20",
            "Sponges x3",
            "Multi-surface cleaner 750ml",
            "Dishwasher tablets x30",
        ],
    },
    Category {
        name: "beverages",
        vat_tenths: 55,
        price_cents: (45, 790),
        daily_units: (2.0, 8.0),
        products: &[
            "Still water 6x1.5L",
            "Sparkling water 1L",
            "Orange juice 1L",
            "Cola 1.5L",
            "Apple juice 1L",
            "Ground coffee 250g",
            "Tea bags x50",
            "Iced tea 1.5L",
        ],
    },
    Category {
        name: "snacks",
        vat_tenths: 55,
        price_cents: (99, 390),
        daily_units: (1.5, 6.0),
        products: &[
            "Salted crisps 150g",
            "Dark chocolate 100g",
            "Milk chocolate 100g",
            "Butter biscuits 200g",
            "Salted peanuts 200g",
            "Cereal bars x6",
            "Popcorn 100g",
            "Crackers 250g",
        ],
    },
    Category {
        name: "frozen",
        vat_tenths: 55,
        price_cents: (149, 590),
        daily_units: (1.0, 4.0),
        products: &[
            "Garden peas 1kg",
            "Vanilla ice cream 1L",
            "Margherita pizza",
            "Fish fingers x15",
            "Oven chips 1kg",
            "Leaf spinach 750g",
        ],
    },
    Category {
        name: "personal_care",
        vat_tenths: 200,
        price_cents: (129, 590),
        daily_units: (0.5, 2.0),
        products: &[
            "Shampoo 250ml",
            "Shower gel 250ml",
            "Toothpaste 75ml",
            "Deodorant 150ml",
            "Hand soap 300ml",
            "Cotton pads x80",
        ],
    },
];

pub(crate) const BRANDS: &[&str] = &["Acme", "Val d'Or", "Maison Durand", "Les Pres", "Belle Rive"];

pub(crate) const REGION_NAMES: &[&str] =
    &["North", "South", "East", "West", "Central", "Atlantic", "Alps", "Mediterranean", "Paris Basin"];

pub(crate) const STORE_NAMES: &[&str] = &[
    "Lille Centre",
    "Amiens Gare",
    "Rouen Rive Droite",
    "Caen Vaugueux",
    "Reims Cathedrale",
    "Metz Amphitheatre",
    "Lyon Part-Dieu",
    "Grenoble Europole",
    "Marseille Prado",
    "Nice Massena",
    "Montpellier Comedie",
    "Toulouse Capitole",
    "Bordeaux Chartrons",
    "Nantes Commerce",
    "Rennes Colombier",
    "Brest Siam",
    "Tours Nationale",
    "Dijon Darcy",
    "Strasbourg Kleber",
    "Nancy Stanislas",
    "Clermont Jaude",
    "Limoges Benedictins",
    "Orleans Martroi",
    "Angers Ralliement",
];

pub(crate) const SUPPLIER_NAMES: &[&str] = &[
    "Laiterie du Val",
    "Boulangerie Martin Industries",
    "Primeurs de Provence",
    "Hygiene Plus",
    "Sources Alpines",
    "Croustilles et Cie",
    "Froid Express",
    "Soin Nature",
];

/// The name at `i` of a list, numbered once the list runs out.
pub(crate) fn nth_name(list: &[&str], i: usize) -> String {
    let base = list[i % list.len()];
    match i / list.len() {
        0 => base.to_owned(),
        round => format!("{base} {}", round + 1),
    }
}

/// A GTIN-13 from a 12-digit body, with its GS1 check digit.
pub(crate) fn gtin13(body: u64) -> String {
    let digits = format!("{:012}", body % 1_000_000_000_000);
    let sum: u32 =
        digits.bytes().rev().enumerate().map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 }).sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtins_carry_a_valid_check_digit() {
        assert_eq!(gtin13(400_638_133_393), "4006381333931");
        for body in [376_012_300_001, 376_012_399_999] {
            assert!(backroom_model::Gtin(gtin13(body)).is_valid());
        }
    }

    #[test]
    fn names_are_numbered_after_the_list() {
        assert_eq!(nth_name(&["A", "B"], 1), "B");
        assert_eq!(nth_name(&["A", "B"], 3), "B 2");
    }
}
