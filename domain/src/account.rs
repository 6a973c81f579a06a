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
            pub const fn as_str(self) -> &'static str {
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

/// Why a change to an account is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountRefusal {
    AlreadySuspended,
    NotSuspended,
    Closed,
    /// Administrators cannot suspend themselves (nobody would be left to
    /// reinstate them from the API).
    OwnAccount,
    /// Another account has this e-mail address (in any letter case).
    EmailTaken,
}

impl AccountStatus {
    /// An administrator suspends an active account (not their own).
    pub fn suspend(self, own_account: bool) -> Result<AccountStatus, AccountRefusal> {
        match self {
            _ if own_account => Err(AccountRefusal::OwnAccount),
            AccountStatus::Active => Ok(AccountStatus::Suspended),
            AccountStatus::Suspended => Err(AccountRefusal::AlreadySuspended),
            AccountStatus::Closed => Err(AccountRefusal::Closed),
        }
    }

    /// An administrator reinstates a suspended account.
    pub fn reinstate(self) -> Result<AccountStatus, AccountRefusal> {
        match self {
            AccountStatus::Suspended => Ok(AccountStatus::Active),
            AccountStatus::Active => Err(AccountRefusal::NotSuspended),
            AccountStatus::Closed => Err(AccountRefusal::Closed),
        }
    }
}

/// Whether an account may act on an access token issued for the role
/// `claimed`: it is active and still has that role (a token from before a
/// role change is refused; a refresh gives one with the current role).
pub fn may_act(status: AccountStatus, role: Role, claimed: Role) -> bool {
    status == AccountStatus::Active && role == claimed
}

/// The reason an administrator gives for suspending an account, for the
/// audit log: 1–2000 characters once trimmed.
pub fn reason(value: &str) -> Result<String, crate::FieldError> {
    crate::text::bounded("reason", value, 1, crate::text::limits::DESCRIPTION, true)
}

/// What an administrator did, as the audit log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAction {
    Suspend,
    Reinstate,
}

text_enum!(AdminAction { Suspend => "suspend", Reinstate => "reinstate" });

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

    #[test]
    fn only_an_active_account_with_the_tokens_role_may_act() {
        use AccountStatus::*;
        assert!(may_act(Active, Role::Artisan, Role::Artisan));
        assert!(may_act(Active, Role::Admin, Role::Admin));
        assert!(!may_act(Active, Role::Artisan, Role::Admin));
        assert!(!may_act(Active, Role::Admin, Role::Artisan));
        for status in [Suspended, Closed] {
            for role in [Role::Artisan, Role::Admin] {
                assert!(!may_act(status, role, role));
            }
        }
    }

    #[test]
    fn suspension_moves_between_active_and_suspended_only() {
        use AccountStatus::*;
        assert_eq!(Active.suspend(false), Ok(Suspended));
        assert_eq!(Active.suspend(true), Err(AccountRefusal::OwnAccount));
        assert_eq!(
            Suspended.suspend(false),
            Err(AccountRefusal::AlreadySuspended)
        );
        assert_eq!(Closed.suspend(false), Err(AccountRefusal::Closed));
        assert_eq!(Suspended.reinstate(), Ok(Active));
        assert_eq!(Active.reinstate(), Err(AccountRefusal::NotSuspended));
        assert_eq!(Closed.reinstate(), Err(AccountRefusal::Closed));
    }
}
