//! The API key and the Flight SQL token: given by a flag, an environment variable or a file,
//! never printed (their `Debug` form is masked), and compared in constant time so that how long
//! a refusal takes says nothing about how much of a guess was right.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use subtle::ConstantTimeEq;

/// A shared secret a client must present.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Reads a secret from a file (as Kubernetes and Docker mount them): the whole file, without
    /// its final line break. An empty file is refused: it would disable the check.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the secret file {}: {e}", path.display()))?;
        let secret = text.strip_suffix('\n').unwrap_or(&text);
        let secret = secret.strip_suffix('\r').unwrap_or(secret);
        if secret.is_empty() {
            return Err(format!("the secret file {} is empty", path.display()));
        }
        Ok(Self(secret.to_string()))
    }

    /// Whether `given` is this secret; the time taken depends on the lengths only.
    pub fn matches(&self, given: &str) -> bool {
        self.0.as_bytes().ct_eq(given.as_bytes()).into()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.to_string()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The secret given by a flag (or its environment variable) or by a file: `None` when neither
/// or an empty value is given; an error when both are, or when the file cannot be read.
pub fn resolve(
    given: Option<&Secret>,
    file: Option<&Path>,
    flag: &str,
) -> Result<Option<Secret>, String> {
    match (given.filter(|s| !s.is_empty()), file) {
        (Some(_), Some(_)) => Err(format!("give {flag} or {flag}-file, not both")),
        (Some(secret), None) => Ok(Some(secret.clone())),
        (None, Some(path)) => Secret::from_file(path).map(Some),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_matches_itself_only_and_never_prints() {
        let secret: Secret = "s3cret".parse().expect("secret");
        assert!(secret.matches("s3cret"));
        for wrong in ["", "s3cre", "s3cret ", "S3cret", "s3cret-and-more"] {
            assert!(!secret.matches(wrong), "{wrong:?} matched");
        }
        assert_eq!(format!("{secret:?}"), "Secret(…)");
    }

    #[test]
    fn a_secret_file_loses_its_line_break_and_may_not_be_empty() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("token");
        std::fs::write(&file, "jeton\r\n").expect("write");
        let secret = resolve(None, Some(&file), "--flight-token")
            .expect("read")
            .expect("some");
        assert!(secret.matches("jeton"));

        std::fs::write(&file, "\n").expect("write");
        let empty = resolve(None, Some(&file), "--flight-token").expect_err("empty");
        assert!(empty.contains("is empty"), "{empty}");
        let missing = resolve(None, Some(&dir.path().join("none")), "--api-key");
        assert!(missing.is_err_and(|e| e.contains("cannot read the secret file")));
    }

    #[test]
    fn a_flag_and_a_file_together_are_refused_and_an_empty_flag_is_no_secret() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("key");
        std::fs::write(&file, "cle").expect("write");
        let flag: Secret = "cle".parse().expect("secret");
        let both = resolve(Some(&flag), Some(&file), "--api-key").expect_err("both");
        assert!(both.contains("--api-key-file"), "{both}");
        let empty: Secret = "".parse().expect("secret");
        assert_eq!(resolve(Some(&empty), None, "--api-key"), Ok(None));
    }
}
