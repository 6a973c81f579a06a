//! Account roles and states.

/// What a person may do platform-wide. Every registration is an `Artisan`;
/// admins are made only from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Artisan,
    Admin,
}

/// Whether an account may sign in. Suspended and closed accounts are
/// refused everywhere (401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    Suspended,
    Closed,
}

/// Text form of a closed set of values (`as_str`, `parse`, `Display`).
macro_rules! text_enum {
    ($name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)* _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use text_enum;

text_enum!(Role { Artisan => "artisan", Admin => "admin" });
text_enum!(AccountStatus { Active => "active", Suspended => "suspended", Closed => "closed" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for role in [Role::Artisan, Role::Admin] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        for status in [
            AccountStatus::Active,
            AccountStatus::Suspended,
            AccountStatus::Closed,
        ] {
            assert_eq!(AccountStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
