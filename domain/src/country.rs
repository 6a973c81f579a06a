//! ISO 3166-1 alpha-2 country codes (officially assigned).

use serde::Serialize;

use crate::FieldError;

const CODES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT \
MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG \
UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// An officially assigned ISO 3166-1 alpha-2 code, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CountryCode(String);

/// Every assigned code, in alphabetical order.
pub fn all_codes() -> impl Iterator<Item = &'static str> {
    CODES.split(' ')
}

impl CountryCode {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let assigned = value.len() == 2 && all_codes().any(|code| code == value);
        if assigned {
            Ok(Self(value.to_owned()))
        } else {
            Err(FieldError::new(
                field,
                "invalid_country",
                "must be an ISO 3166-1 alpha-2 code in upper case, such as 'PE'",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_list_has_every_assigned_code_once() {
        let codes: Vec<&str> = CODES.split(' ').collect();
        assert_eq!(codes.len(), 249);
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, codes, "sorted and without duplicates");
    }

    #[test]
    fn known_codes() {
        assert!(CountryCode::parse("country", "PE").is_ok());
        assert!(CountryCode::parse("country", "pe").is_err());
        assert!(CountryCode::parse("country", "XX").is_err());
        assert!(CountryCode::parse("country", "").is_err());
    }

    proptest! {
        #[test]
        fn only_two_upper_case_letters_can_pass(s in "\\PC{0,4}") {
            if CountryCode::parse("country", &s).is_ok() {
                prop_assert!(s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()));
            }
        }
    }
}
