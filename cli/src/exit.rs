//! The exit statuses of `lake`, one per way a command can end, so that a script or an
//! orchestrator can tell a failure worth retrying from one that is not (README, "Driving lake
//! from an orchestrator").

use lake_core::LakeError;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done.
    Success,
    /// 1: failed (the engine, the store, the data…); a retry may succeed.
    Failure,
    /// 2: the command line was wrong (clap's own errors exit 2 as well); a retry will not help.
    Usage,
    /// 3: Silver's blocking quality checks failed; nothing was published. Fix the data.
    QualityGate,
    /// 4: nothing to do (no new source file, every layer up to date, the version already in
    /// MongoDB). Only with `--detailed-exit-codes`; otherwise 0.
    NothingToDo,
    /// 75 (EX_TEMPFAIL): another writer holds the lake's lease; retry later.
    LeaseHeld,
    /// 130: stopped by Ctrl-C (SIGINT); nothing was published.
    Interrupted,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::QualityGate => 3,
            Exit::NothingToDo => 4,
            Exit::LeaseHeld => 75,
            Exit::Interrupted => 130,
        }
    }

    /// The `outcome` of the JSON report.
    pub fn name(self) -> &'static str {
        match self {
            Exit::Success => "success",
            Exit::Failure => "failure",
            Exit::Usage => "usage_error",
            Exit::QualityGate => "quality_gate_failed",
            Exit::NothingToDo => "nothing_to_do",
            Exit::LeaseHeld => "lease_held",
            Exit::Interrupted => "interrupted",
        }
    }

    /// Whether the command did what it was asked (nothing to do included).
    pub fn is_success(self) -> bool {
        matches!(self, Exit::Success | Exit::NothingToDo)
    }

    /// How a failed command ended, from its error's chain.
    pub fn of_error(error: &anyhow::Error) -> Self {
        for cause in error.chain() {
            if cause.is::<crate::commands::Interrupted>() {
                return Exit::Interrupted;
            }
            if cause.is::<UsageError>() {
                return Exit::Usage;
            }
            match cause.downcast_ref::<LakeError>() {
                Some(LakeError::QualityGate { .. }) => return Exit::QualityGate,
                Some(LakeError::LeaseHeld { .. }) => return Exit::LeaseHeld,
                _ => {}
            }
        }
        Exit::Failure
    }
}

/// What a successful command did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It wrote or printed something.
    Done,
    /// Nothing needed doing.
    NothingToDo,
}

/// An argument value the command cannot work with (exit status 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Fails with a [`UsageError`].
macro_rules! usage {
    ($($arg:tt)*) => {
        return Err($crate::exit::UsageError(format!($($arg)*)).into())
    };
}
pub(crate) use usage;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_way_of_ending_has_its_own_status() {
        let all = [
            Exit::Success,
            Exit::Failure,
            Exit::Usage,
            Exit::QualityGate,
            Exit::NothingToDo,
            Exit::LeaseHeld,
            Exit::Interrupted,
        ];
        let codes: std::collections::BTreeSet<u8> = all.iter().map(|e| e.code()).collect();
        let names: std::collections::BTreeSet<&str> = all.iter().map(|e| e.name()).collect();
        assert_eq!((codes.len(), names.len()), (all.len(), all.len()));
    }

    #[test]
    fn the_status_comes_from_anywhere_in_the_error_chain() {
        let gate = anyhow::Error::from(LakeError::QualityGate {
            failures: "x".into(),
            report: "y".into(),
        })
        .context("silver failed");
        assert_eq!(Exit::of_error(&gate), Exit::QualityGate);
        let usage = anyhow::Error::from(UsageError("--k-min above --k-max".into()));
        assert_eq!(Exit::of_error(&usage), Exit::Usage);
        assert_eq!(Exit::of_error(&anyhow::anyhow!("disk full")), Exit::Failure);
    }
}
