//! Configuration of the four functions, read from environment variables (as in the seed).
//!
//! Each function reads only what it needs ([`StageConfig`], [`StoreConfig`],
//! [`OrchestratorConfig`]); the variables come through a lookup function so this stays pure:
//! `StoreConfig::from_lookup(|name| std::env::var(name).ok())`. A missing or malformed variable
//! is a [`ConfigError`] naming it.

use std::fmt;

/// `ENVIRONMENT`: the deployment's name (`dev`, `prod`, ...).
pub const ENVIRONMENT: &str = "ENVIRONMENT";
/// `PROCESSED_DATA_TABLE`: the table `store` writes to.
pub const PROCESSED_DATA_TABLE: &str = "PROCESSED_DATA_TABLE";
/// `VALIDATION_FUNCTION_ARN`: the validate function (name or ARN).
pub const VALIDATION_FUNCTION_ARN: &str = "VALIDATION_FUNCTION_ARN";
/// `TRANSFORMATION_FUNCTION_ARN`: the transform function (name or ARN).
pub const TRANSFORMATION_FUNCTION_ARN: &str = "TRANSFORMATION_FUNCTION_ARN";
/// `STORAGE_FUNCTION_ARN`: the store function (name or ARN).
pub const STORAGE_FUNCTION_ARN: &str = "STORAGE_FUNCTION_ARN";

/// Longest `ENVIRONMENT`: `{ENVIRONMENT}-orchestrator` must fit Lambda's 64-character limit on
/// function names.
pub const MAX_ENVIRONMENT_CHARS: usize = 51;

/// A validated `ENVIRONMENT`: 1–51 of `[A-Za-z0-9-]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment(String);

impl Environment {
    /// Validates an environment name.
    ///
    /// # Errors
    /// When it is empty, too long or has a character outside `[A-Za-z0-9-]`.
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let ok = !value.is_empty()
            && value.len() <= MAX_ENVIRONMENT_CHARS
            && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(ConfigError::invalid(
                ENVIRONMENT,
                value,
                "must be 1-51 characters of letters, digits or `-`",
            ))
        }
    }

    /// The validated name, as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validated DynamoDB table name: 3–255 of `[A-Za-z0-9_.-]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName(String);

impl TableName {
    /// Validates a table name.
    ///
    /// # Errors
    /// When it does not follow DynamoDB's naming rules.
    pub fn parse(variable: &'static str, value: &str) -> Result<Self, ConfigError> {
        let ok = (3..=255).contains(&value.len())
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(ConfigError::invalid(
                variable,
                value,
                "must be a DynamoDB table name: 3-255 characters of letters, digits, `_`, `-` or `.`",
            ))
        }
    }

    /// The validated table name, as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A validated Lambda function reference, as `Invoke` accepts it: a function name
/// (`my-function`), optionally qualified (`my-function:live`), or a function ARN
/// (`arn:aws:lambda:us-east-1:123456789012:function:my-function[:qualifier]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef(String);

impl FunctionRef {
    /// Validates a function reference.
    ///
    /// # Errors
    /// When it is neither a valid function name nor a Lambda function ARN.
    pub fn parse(variable: &'static str, value: &str) -> Result<Self, ConfigError> {
        if is_function_ref(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(ConfigError::invalid(
                variable,
                value,
                "must be a Lambda function name or function ARN",
            ))
        }
    }

    /// The reference, as passed to `Invoke`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FunctionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_function_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn is_qualifier(s: &str) -> bool {
    s == "$LATEST"
        || ((1..=128).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
}

fn is_function_ref(value: &str) -> bool {
    let parts: Vec<&str> = value.split(':').collect();
    match parts.as_slice() {
        [name] => is_function_name(name),
        [name, qualifier] => is_function_name(name) && is_qualifier(qualifier),
        ["arn", partition, "lambda", region, account, "function", rest @ ..] => {
            let name_ok = match rest {
                [name] => is_function_name(name),
                [name, qualifier] => is_function_name(name) && is_qualifier(qualifier),
                _ => false,
            };
            partition.starts_with("aws")
                && partition
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-')
                && !region.is_empty()
                && region
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && account.len() == 12
                && account.chars().all(|c| c.is_ascii_digit())
                && name_ok
        }
        _ => false,
    }
}

/// Configuration of `validate` and `transform`: just the environment (for logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageConfig {
    /// From the `ENVIRONMENT` variable.
    pub environment: Environment,
}

impl StageConfig {
    /// Reads the configuration through `lookup` (e.g. `|name| std::env::var(name).ok()`).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the missing or malformed variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            environment: Environment::parse(&required(&lookup, ENVIRONMENT)?)?,
        })
    }
}

/// Configuration of `store`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// `ENVIRONMENT`: execution ids are `{ENVIRONMENT}-esm-{messageId}`.
    pub environment: Environment,
    /// `PROCESSED_DATA_TABLE`.
    pub table: TableName,
}

impl StoreConfig {
    /// Reads the configuration through `lookup`.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the missing or malformed variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            environment: Environment::parse(&required(&lookup, ENVIRONMENT)?)?,
            table: TableName::parse(
                PROCESSED_DATA_TABLE,
                &required(&lookup, PROCESSED_DATA_TABLE)?,
            )?,
        })
    }
}

/// Configuration of the orchestrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrchestratorConfig {
    /// `ENVIRONMENT`: execution ids are `{ENVIRONMENT}-esm-{messageId}`.
    pub environment: Environment,
    /// `VALIDATION_FUNCTION_ARN`.
    pub validate_function: FunctionRef,
    /// `TRANSFORMATION_FUNCTION_ARN`.
    pub transform_function: FunctionRef,
    /// `STORAGE_FUNCTION_ARN`.
    pub store_function: FunctionRef,
}

impl OrchestratorConfig {
    /// Reads the configuration through `lookup`.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the missing or malformed variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let function = |variable: &'static str| -> Result<FunctionRef, ConfigError> {
            FunctionRef::parse(variable, &required(&lookup, variable)?)
        };
        Ok(Self {
            environment: Environment::parse(&required(&lookup, ENVIRONMENT)?)?,
            validate_function: function(VALIDATION_FUNCTION_ARN)?,
            transform_function: function(TRANSFORMATION_FUNCTION_ARN)?,
            store_function: function(STORAGE_FUNCTION_ARN)?,
        })
    }
}

fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<String, ConfigError> {
    match lookup(variable) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(ConfigError {
            variable,
            kind: ConfigErrorKind::Missing,
        }),
    }
}

/// A configuration variable is missing or malformed. The message names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {variable} {kind}")]
#[non_exhaustive]
pub struct ConfigError {
    variable: &'static str,
    kind: ConfigErrorKind,
}

impl ConfigError {
    fn invalid(variable: &'static str, value: &str, rule: &'static str) -> Self {
        let shown: String = value.chars().take(80).collect();
        Self {
            variable,
            kind: ConfigErrorKind::Invalid { value: shown, rule },
        }
    }

    /// The variable at fault.
    #[must_use]
    pub fn variable(&self) -> &'static str {
        self.variable
    }

    /// What is wrong with it.
    #[must_use]
    pub fn kind(&self) -> &ConfigErrorKind {
        &self.kind
    }

    /// The stable error type reported across Lambda boundaries.
    #[must_use]
    pub fn error_type(&self) -> crate::ErrorType {
        crate::ErrorType::Config
    }
}

/// What is wrong with a configuration variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// Not set, or set to the empty string.
    #[error("is not set")]
    Missing,
    /// Set to a value that breaks a rule.
    #[error("is invalid ({value:?}): {rule}")]
    Invalid {
        /// The value (at most 80 characters of it).
        value: String,
        /// The rule it breaks.
        rule: &'static str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const FULL: &[(&str, &str)] = &[
        ("ENVIRONMENT", "dev"),
        ("PROCESSED_DATA_TABLE", "dev-processed-data"),
        (
            "VALIDATION_FUNCTION_ARN",
            "arn:aws:lambda:us-east-1:123456789012:function:dev-validate",
        ),
        ("TRANSFORMATION_FUNCTION_ARN", "dev-transform"),
        (
            "STORAGE_FUNCTION_ARN",
            "arn:aws:lambda:us-east-1:123456789012:function:dev-store:live",
        ),
    ];

    fn without(name: &str) -> Vec<(&'static str, &'static str)> {
        FULL.iter().copied().filter(|(k, _)| *k != name).collect()
    }

    fn with(name: &str, value: &'static str) -> Vec<(&'static str, &'static str)> {
        FULL.iter()
            .map(|&(k, v)| if k == name { (k, value) } else { (k, v) })
            .collect()
    }

    #[test]
    fn full_environment_parses() {
        let o = OrchestratorConfig::from_lookup(env(FULL)).unwrap();
        assert_eq!(o.environment.as_str(), "dev");
        assert_eq!(o.transform_function.as_str(), "dev-transform");
        let s = StoreConfig::from_lookup(env(FULL)).unwrap();
        assert_eq!(s.table.as_str(), "dev-processed-data");
        assert_eq!(
            StageConfig::from_lookup(env(FULL))
                .unwrap()
                .environment
                .as_str(),
            "dev"
        );
    }

    #[test]
    fn each_function_needs_only_its_variables() {
        assert!(StageConfig::from_lookup(env(&[("ENVIRONMENT", "dev")])).is_ok());
        assert!(StoreConfig::from_lookup(env(&[
            ("ENVIRONMENT", "dev"),
            ("PROCESSED_DATA_TABLE", "t-1")
        ]))
        .is_ok());
        assert!(OrchestratorConfig::from_lookup(env(&without("PROCESSED_DATA_TABLE"))).is_ok());
    }

    #[test]
    fn missing_variables_are_named() {
        let orchestrator_vars = [
            ENVIRONMENT,
            VALIDATION_FUNCTION_ARN,
            TRANSFORMATION_FUNCTION_ARN,
            STORAGE_FUNCTION_ARN,
        ];
        for name in orchestrator_vars {
            let err = OrchestratorConfig::from_lookup(env(&without(name))).unwrap_err();
            assert_eq!(err.variable(), name);
            assert_eq!(err.kind(), &ConfigErrorKind::Missing);
            assert!(err.to_string().contains(name), "{err}");
            assert_eq!(err.error_type().as_str(), "ConfigError");
        }
        for name in [ENVIRONMENT, PROCESSED_DATA_TABLE] {
            let err = StoreConfig::from_lookup(env(&without(name))).unwrap_err();
            assert_eq!(err.variable(), name);
            let err = StoreConfig::from_lookup(env(&with(name, ""))).unwrap_err();
            assert_eq!(err.variable(), name, "empty counts as missing");
        }
    }

    #[test]
    fn malformed_variables_are_named() {
        let cases: &[(&str, &str)] = &[
            (ENVIRONMENT, "dev env"),
            (ENVIRONMENT, "dev_1"),
            (ENVIRONMENT, "dév"),
            (
                ENVIRONMENT,
                "a-very-long-environment-name-that-does-not-fit-in-64",
            ),
            (PROCESSED_DATA_TABLE, "ab"),
            (PROCESSED_DATA_TABLE, "table name"),
            (VALIDATION_FUNCTION_ARN, "arn:aws:s3:::bucket"),
            (
                VALIDATION_FUNCTION_ARN,
                "arn:aws:lambda:us-east-1:123:function:f",
            ),
            (TRANSFORMATION_FUNCTION_ARN, "has space"),
            (TRANSFORMATION_FUNCTION_ARN, "f:q:extra"),
            (
                STORAGE_FUNCTION_ARN,
                "arn:aws:lambda:us-east-1:123456789012:function:",
            ),
            (
                STORAGE_FUNCTION_ARN,
                "arn:aws:lambda:us-east-1:123456789012:layer:l:1",
            ),
        ];
        for &(name, value) in cases {
            let lookup = env(&with(name, value));
            let err = if name == PROCESSED_DATA_TABLE {
                StoreConfig::from_lookup(lookup).unwrap_err()
            } else {
                OrchestratorConfig::from_lookup(lookup).unwrap_err()
            };
            assert_eq!(err.variable(), name, "{value}");
            assert!(matches!(err.kind(), ConfigErrorKind::Invalid { .. }));
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn function_refs() {
        let good = [
            "f",
            "dev-validate",
            "dev_validate:live",
            "dev-validate:$LATEST",
            "arn:aws:lambda:us-east-1:000000000000:function:dev-validate",
            "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f:7",
        ];
        for value in good {
            assert!(is_function_ref(value), "{value}");
        }
        let bad = [
            "",
            ":",
            "f:",
            "a/b",
            "arn:aws:lambda:us-east-1:000000000000:function:f:q:x",
        ];
        for value in bad {
            assert!(!is_function_ref(value), "{value}");
        }
    }
}
