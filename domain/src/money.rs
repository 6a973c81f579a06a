//! Currencies: the ISO 4217 codes in use and their minor-unit exponents.
//! Amounts are always integers of minor units; the exponent says what a
//! minor unit is (JPY 0, USD 2, BHD 3).

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// Active ISO 4217 currency codes with their exponents (funds codes,
/// precious metals and testing codes are left out: nobody sells a
/// basket for them).
#[rustfmt::skip]
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("ANG", 2), ("AOA", 2), ("ARS", 2),
    ("AUD", 2), ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BGN", 2),
    ("BHD", 3), ("BIF", 0), ("BMD", 2), ("BND", 2), ("BOB", 2), ("BRL", 2), ("BSD", 2),
    ("BTN", 2), ("BWP", 2), ("BYN", 2), ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHF", 2),
    ("CLP", 0), ("CNY", 2), ("COP", 2), ("CRC", 2), ("CUP", 2), ("CVE", 2), ("CZK", 2),
    ("DJF", 0), ("DKK", 2), ("DOP", 2), ("DZD", 2), ("EGP", 2), ("ERN", 2), ("ETB", 2),
    ("EUR", 2), ("FJD", 2), ("FKP", 2), ("GBP", 2), ("GEL", 2), ("GHS", 2), ("GIP", 2),
    ("GMD", 2), ("GNF", 0), ("GTQ", 2), ("GYD", 2), ("HKD", 2), ("HNL", 2), ("HTG", 2),
    ("HUF", 2), ("IDR", 2), ("ILS", 2), ("INR", 2), ("IQD", 3), ("IRR", 2), ("ISK", 0),
    ("JMD", 2), ("JOD", 3), ("JPY", 0), ("KES", 2), ("KGS", 2), ("KHR", 2), ("KMF", 0),
    ("KPW", 2), ("KRW", 0), ("KWD", 3), ("KYD", 2), ("KZT", 2), ("LAK", 2), ("LBP", 2),
    ("LKR", 2), ("LRD", 2), ("LSL", 2), ("LYD", 3), ("MAD", 2), ("MDL", 2), ("MGA", 2),
    ("MKD", 2), ("MMK", 2), ("MNT", 2), ("MOP", 2), ("MRU", 2), ("MUR", 2), ("MVR", 2),
    ("MWK", 2), ("MXN", 2), ("MYR", 2), ("MZN", 2), ("NAD", 2), ("NGN", 2), ("NIO", 2),
    ("NOK", 2), ("NPR", 2), ("NZD", 2), ("OMR", 3), ("PAB", 2), ("PEN", 2), ("PGK", 2),
    ("PHP", 2), ("PKR", 2), ("PLN", 2), ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2),
    ("RUB", 2), ("RWF", 0), ("SAR", 2), ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2),
    ("SGD", 2), ("SHP", 2), ("SLE", 2), ("SOS", 2), ("SRD", 2), ("SSP", 2), ("STN", 2),
    ("SVC", 2), ("SYP", 2), ("SZL", 2), ("THB", 2), ("TJS", 2), ("TMT", 2), ("TND", 3),
    ("TOP", 2), ("TRY", 2), ("TTD", 2), ("TWD", 2), ("TZS", 2), ("UAH", 2), ("UGX", 0),
    ("USD", 2), ("UYU", 2), ("UYW", 4), ("UZS", 2), ("VES", 2), ("VND", 0), ("VUV", 0),
    ("WST", 2), ("XAF", 0), ("XCD", 2), ("XOF", 0), ("XPF", 0), ("YER", 2), ("ZAR", 2),
    ("ZMW", 2), ("ZWG", 2),
];

/// An ISO 4217 currency code in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(&'static str, u8);

impl Currency {
    /// Parses an upper-case three-letter code.
    pub fn parse(field: &str, code: &str) -> Result<Self, FieldError> {
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|&(c, exponent)| Currency(c, exponent))
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "unknown_currency",
                    "must be an ISO 4217 currency code in use, such as 'PEN' or 'USD'",
                )
            })
    }

    pub fn code(self) -> &'static str {
        self.0
    }

    /// How many decimal places a minor unit is (JPY 0, USD 2, BHD 3).
    pub fn exponent(self) -> u8 {
        self.1
    }
}

/// An amount of money in minor units of its currency (the currency's
/// exponent says what one is). Never a float; sums are checked.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct MinorUnits(i64);

impl MinorUnits {
    pub const ZERO: MinorUnits = MinorUnits(0);

    pub fn new(value: i64) -> Self {
        Self(value)
    }

    pub fn get(self) -> i64 {
        self.0
    }

    /// The largest amount taken in: 2^53 − 1, the largest whole number
    /// every JSON client reads exactly (a JavaScript number), and far
    /// enough below `i64::MAX` that totals of real money cannot overflow.
    pub const MOST: i64 = 9_007_199_254_740_991;

    /// A positive amount (a sale, refund, expense, price or goal), at most
    /// [`Self::MOST`].
    pub fn positive(field: &str, amount: i64) -> Result<Self, FieldError> {
        if amount <= 0 {
            return Err(FieldError::new(
                field,
                "not_positive",
                "must be a positive number of minor units",
            ));
        }
        Self::at_most(field, amount)
    }

    /// An amount taken in, at most [`Self::MOST`] (422 `too_large`).
    pub fn at_most(field: &str, amount: i64) -> Result<Self, FieldError> {
        if amount > Self::MOST {
            Err(FieldError::new(
                field,
                "too_large",
                format!("must be at most {} minor units", Self::MOST),
            ))
        } else {
            Ok(Self(amount))
        }
    }

    pub fn checked_add(self, other: MinorUnits) -> Option<MinorUnits> {
        self.0.checked_add(other.0).map(Self)
    }

    pub fn checked_sub(self, other: MinorUnits) -> Option<MinorUnits> {
        self.0.checked_sub(other.0).map(Self)
    }

    /// The sum, or `None` if it does not fit.
    pub fn checked_sum(amounts: impl IntoIterator<Item = MinorUnits>) -> Option<MinorUnits> {
        amounts
            .into_iter()
            .try_fold(MinorUnits::ZERO, MinorUnits::checked_add)
    }
}

impl std::fmt::Display for MinorUnits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Every code, for the API schema.
pub fn all_codes() -> impl Iterator<Item = &'static str> {
    CURRENCIES.iter().map(|(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_unique_and_upper_case() {
        let codes: Vec<&str> = all_codes().collect();
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        assert!(codes
            .iter()
            .all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())));
    }

    #[test]
    fn exponents_follow_iso_4217() {
        let exponent = |c| Currency::parse("currency", c).map(Currency::exponent);
        assert_eq!(exponent("JPY"), Ok(0));
        assert_eq!(exponent("PEN"), Ok(2));
        assert_eq!(exponent("BHD"), Ok(3));
        assert_eq!(exponent("usd").map_err(|e| e.code), Err("unknown_currency"));
        assert!(Currency::parse("currency", "XXX").is_err());
    }

    #[test]
    fn amounts_are_positive_and_sums_are_checked() {
        assert_eq!(
            MinorUnits::positive("amount_minor", 1).map(MinorUnits::get),
            Ok(1)
        );
        assert_eq!(
            MinorUnits::positive("amount_minor", 0).map_err(|e| e.code),
            Err("not_positive")
        );
        assert_eq!(
            MinorUnits::positive("amount_minor", MinorUnits::MOST).map(MinorUnits::get),
            Ok(9_007_199_254_740_991)
        );
        assert_eq!(
            MinorUnits::positive("amount_minor", MinorUnits::MOST + 1).map_err(|e| e.code),
            Err("too_large")
        );
        let max = MinorUnits::new(i64::MAX);
        assert_eq!(MinorUnits::checked_sum([max, MinorUnits::new(1)]), None);
        assert_eq!(
            MinorUnits::checked_sum([MinorUnits::new(2), MinorUnits::new(-3)]),
            Some(MinorUnits::new(-1))
        );
        assert_eq!(
            serde_json::to_string(&MinorUnits::new(1250))
                .ok()
                .as_deref(),
            Some("1250")
        );
    }
}
