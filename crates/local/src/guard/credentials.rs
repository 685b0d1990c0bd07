//! The stack's access key pair (`--credentials ACCESS_KEY_ID:SECRET`). The secret never leaves
//! this type in text: `Debug` redacts it, and parse errors never quote the input.

use std::fmt;

/// An access key id and its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key_id: String,
    secret: String,
}

/// Why a credentials text was refused. The message never contains the text itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CredentialsError(String);

/// The longest access key id accepted (AWS's own limit).
const MAX_KEY_ID: usize = 128;
/// The longest secret accepted.
const MAX_SECRET: usize = 256;

impl Credentials {
    /// Parses `ACCESS_KEY_ID:SECRET` (surrounding whitespace, such as a file's final newline,
    /// is ignored). The key id is 1-128 letters, digits, `_`, `-` or `.`; the secret is 1-256
    /// printable ASCII characters without spaces (it may contain `:`).
    ///
    /// # Errors
    /// [`CredentialsError`] saying what is wrong, without echoing the text.
    pub fn parse(text: &str) -> Result<Self, CredentialsError> {
        let fail = |what: &str| Err(CredentialsError(what.to_owned()));
        let Some((key, secret)) = text.trim().split_once(':') else {
            return fail("credentials must be ACCESS_KEY_ID:SECRET (no ':' found)");
        };
        if key.is_empty() || key.len() > MAX_KEY_ID {
            return fail("the access key id must be 1-128 characters");
        }
        if !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return fail("the access key id may only hold letters, digits, '_', '-' and '.'");
        }
        if secret.is_empty() || secret.len() > MAX_SECRET {
            return fail("the secret must be 1-256 characters");
        }
        if !secret.chars().all(|c| c.is_ascii_graphic()) {
            return fail("the secret may only hold printable ASCII characters without spaces");
        }
        Ok(Self {
            access_key_id: key.to_owned(),
            secret: secret.to_owned(),
        })
    }

    /// The access key id (not secret; it names the key in every signed request).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key, for signing. Never print it.
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_key_and_secret_and_keeps_colons_in_the_secret() {
        let c = Credentials::parse(" AKIDEXAMPLE:wJalr/K7MDENG+bPxRfi:CY\n").unwrap();
        assert_eq!(c.access_key_id(), "AKIDEXAMPLE");
        assert_eq!(c.secret(), "wJalr/K7MDENG+bPxRfi:CY");
    }

    #[test]
    fn errors_and_debug_never_show_the_secret() {
        for bad in [
            "nocolon-s3cr3t",
            ":s3cr3t",
            "bad key:s3cr3t",
            "k:",
            "k:s3 cr3t",
        ] {
            let e = Credentials::parse(bad).unwrap_err().to_string();
            assert!(!e.contains("s3cr3t"), "{bad:?} → {e}");
        }
        let c = Credentials::parse("k:s3cr3t").unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t"));
        assert!(format!("{c:?}").contains("<redacted>"));
    }
}
